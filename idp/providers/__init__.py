"""Provider types: how an application talks to Gatehouse (OpenID Connect, forward auth).

One package per type and one line each in registry.py, as for stage and policy types."""
