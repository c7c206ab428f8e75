"""The checkout's gunicorn settings, read by `gunicorn wsgi:app` run from this folder: those
of idp/gunicorn_conf.py, which a wheel carries too (`gunicorn -c python:idp.gunicorn_conf
idp.wsgi:app`). The settings and their reasons are there."""

from idp.gunicorn_conf import *  # noqa: F403
