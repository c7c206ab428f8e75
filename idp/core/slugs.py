"""The slug of a flow or an application: what flow files, the admin's forms and the CLI
accept. Here rather than with the flow file reader (idp/transfer/document.py), which imports
every stage type and YAML: the forms that check a slug need neither."""

import re

from idp.core.i18n import N_

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}\Z")
# Addresses under /flow/ that belong to Gatehouse itself (the mailed links: /flow/email/<token>).
RESERVED_SLUGS = ("email",)
RESERVED_SLUG_MESSAGE = N_("is reserved for Gatehouse's own addresses under /flow/")
