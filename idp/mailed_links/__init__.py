"""Single-use links sent by mail: the token store, recovery links, sign-in links."""
