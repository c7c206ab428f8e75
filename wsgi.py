import sys

from idp import create_app
from idp.core.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    # One line that names the setting, as the console script says it. Status 4 is gunicorn's
    # "app failed to load": with GUNICORN_PRELOAD=0 a worker that cannot load the app then
    # stops the server, instead of being replaced again and again.
    print(f"Error: {error}", file=sys.stderr)
    sys.exit(4)
