"""A Gatehouse whose error page itself fails, for tests/http/test_access_log.py: the way a
500 left Flask before (a lazy="raise" read while the error page loaded the signed-in user).
gunicorn serves it as `tests.http.broken_error_page:app`."""

from flask import g

from idp import create_app


class UserThatCannotBeRead:
    @property
    def is_authenticated(self):
        raise RuntimeError("the signed-in user cannot be read")


app = create_app()


@app.get("/broken/<token>")
def broken(token):
    g._login_user = UserThatCannotBeRead()  # what every page, the error page too, reads
    raise RuntimeError("the view failed")


def bare(environ, start_response):
    """An app that raises past every handler: gunicorn answers the 500 itself."""
    raise RuntimeError("nothing handles this")
