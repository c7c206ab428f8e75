"""Applications: provider settings, who may use them, tokens, consents, preview."""
