"""Every admin route, walked as a visitor, a plain user and an administrator: the check is on
the server, before any admin view runs."""

from flask import url_for
from werkzeug.routing import AnyConverter, IntegerConverter

from idp.core.extensions import db
from idp.identity.invitations import create_invitation
from tests.factories import make_group, make_user
from tests.http.admin.conftest import post, signed_in

# A POST names an id that does not exist, so the walk changes nothing.
MISSING_ID = 999_999
# A GET names an id that does (the fixtures below make a row 1 of each kind they know).
EXISTING_ID = 1


def admin_routes(app) -> list[tuple[str, str, bool]]:
    """(method, path, has_an_id) for every method of every admin rule."""
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("admin."):
                continue
            for method in sorted(rule.methods & {"GET", "POST"}):
                sample = EXISTING_ID if method == "GET" else MISSING_ID
                path = url_for(rule.endpoint, **_arguments(rule, sample))
                routes.append((method, path, bool(rule.arguments)))
    return routes


def _arguments(rule, sample: int) -> dict:
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            values[name] = sample
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = "sample"
    return values


def walk(app, client) -> list[tuple[str, str, int, str]]:
    answers = []
    for method, path, has_id in admin_routes(app):
        response = client.get(path) if method == "GET" else post(client, path)
        answers.append((method, path, has_id, response))
    return answers


def test_the_walk_covers_the_admin(app):
    paths = {path for _, path, _ in admin_routes(app)}
    sections = ("events", "users", "groups", "invitations")
    assert {"/admin/", *(f"/admin/{section}" for section in sections)} <= paths


def test_a_visitor_is_sent_to_sign_in_from_every_admin_route(app, client):
    for method, path, _, response in walk(app, client):
        assert response.status_code == 302, (method, path)
        location = response.headers["Location"]
        if method == "GET":
            assert location.startswith("/login?next=/admin"), (method, path)
        else:  # a form posted from no page of this site: back to the default page, not a 405
            assert location == "/login", (method, path)


def test_a_plain_user_is_refused_every_admin_route(app):
    with app.app_context():
        username = make_user().username
    client = signed_in(app, username)
    for method, path, _, response in walk(app, client):
        assert response.status_code == 403, (method, path)
        assert "Only administrators" in response.get_data(as_text=True)


def test_an_administrator_reaches_every_admin_route(app, admin):
    with app.app_context():
        make_group()
        create_invitation(name="walk")
        db.session.commit()
    for method, path, has_id, response in walk(app, admin):
        status = response.status_code
        if method == "GET" and status == 308:
            # A list page named with a trailing slash (/admin/applications/) sends on to itself.
            assert response.headers["Location"] == path.rstrip("/"), path
        elif method == "GET":
            assert 200 <= status < 300 or (has_id and status == 404), (method, path, status)
        else:
            # Nothing to change: the id does not exist (404) or the empty form is refused (400).
            assert 300 <= status < 400 or status in (400, 404), (method, path, status)
        assert response.headers.get("Cache-Control") == "no-store", path


def test_a_disabled_administrators_old_session_is_anonymous(app, admin, admin_name):
    from idp.models import User

    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == admin_name))
        user.is_active = False
        db.session.commit()
    assert admin.get("/admin/").status_code == 302
