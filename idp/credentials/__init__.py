"""How people prove who they are: passwords and their rules, TOTP and recovery codes, passkeys,
re-authentication."""
