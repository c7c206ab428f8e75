"""The app gunicorn serves: `gunicorn -c python:idp.gunicorn_conf idp.wsgi:app`, wherever
Gatehouse is installed (a checkout's wsgi.py is this module's app)."""

import sys

from idp import create_app
from idp.core.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    # gunicorn idp.wsgi:app and flask --app idp.wsgi, like idp: one line that names the setting.
    # Under gunicorn, status 4 is "the app failed to load": with GUNICORN_PRELOAD=0 a worker
    # that cannot load the app then stops the server instead of being started again and again.
    print(f"Error: {error}", file=sys.stderr)
    sys.exit(4 if "gunicorn" in sys.modules else 2)
