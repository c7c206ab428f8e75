"""The checkout's entry point (`gunicorn wsgi:app`, `flask --app wsgi`): the app of
idp/wsgi.py, which a wheel carries too."""

from idp.wsgi import app

__all__ = ["app"]
