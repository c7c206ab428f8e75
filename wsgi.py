import sys

from idp import create_app
from idp.core.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    # gunicorn wsgi:app and flask --app wsgi, like idp: one line that names the setting.
    print(f"Error: {error}", file=sys.stderr)
    raise SystemExit(2) from None
