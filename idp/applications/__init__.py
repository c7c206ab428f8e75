"""Applications: lookups (loading.py), who may use one (access.py), creating and binding
(manage.py) and the `idp apps` commands (cli.py)."""
