"""Two app instances behind one load balancer: any request may land on either of them.

Everything a flow needs between requests is in the signed cookie or in the shared database,
so two `create_app()` calls with the same database and SECRET_KEY must be interchangeable.
Each instance gets its own test client; the session cookie is carried from one to the other
the way a browser would carry it between two workers.
"""

import pytest

from idp.core.extensions import db
from idp.identity.security import COOKIE_NAME
from idp.models import PolicyBinding
from tests import factories
from tests.conftest import csrf_token, make_test_app, stage_of

SLUG = "default-authentication-flow"
URL = f"/flow/{SLUG}/"


def carry_cookie(source, target) -> None:
    """Give `target` the session cookie `source` holds now (or none if it has none)."""
    cookie = source.get_cookie(COOKIE_NAME)
    if cookie is None:
        target.delete_cookie(COOKIE_NAME)
    else:
        target.set_cookie(COOKIE_NAME, cookie.value)


class Balancer:
    """Sends each request to the instance named, carrying the cookie over as it goes."""

    def __init__(self, **clients):
        self.clients = clients
        self.last = None

    def on(self, name):
        client = self.clients[name]
        if self.last is not None and self.last is not client:
            carry_cookie(self.last, client)
        self.last = client
        return client


@pytest.fixture
def other(app, tmp_path):
    """A second instance: its own create_app(), the same database and SECRET_KEY."""
    other = make_test_app(
        tmp_path / "instance-b",
        database_url=app.config["SQLALCHEMY_DATABASE_URI"],
        SECRET_KEY=app.config["SECRET_KEY"],
    )
    assert other is not app
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def username(app) -> str:
    # Made in a context of its own: a test client request inside an app context that is
    # already pushed would reuse it (and its `g` and database session) instead of getting
    # a fresh one, which is not how a real request runs.
    with app.app_context():
        return factories.make_user().username


def test_a_sign_in_can_move_between_instances(app, other, username):
    lb = Balancer(a=app.test_client(), b=other.test_client())

    page = lb.on("a").get(URL)
    answer = lb.on("a").post(URL, data={"uid_field": username, "csrf_token": csrf_token(page.text)})
    assert answer.status_code == 303

    page = lb.on("b").get(URL)
    assert stage_of(page.text) == "password"
    answer = lb.on("b").post(
        URL, data={"password": factories.PASSWORD, "csrf_token": csrf_token(page.text)}
    )
    assert answer.status_code == 303
    assert not answer.headers["Location"].startswith("/flow/")

    me = lb.on("a").get("/me")
    assert me.status_code == 200
    assert username in me.text


def test_every_request_on_the_other_instance(app, other, username):
    # The strictest alternation: a page rendered by one instance is answered on the other,
    # so the CSRF token, the plan and the session all cross over.
    lb = Balancer(a=app.test_client(), b=other.test_client())

    page = lb.on("a").get(URL)
    answer = lb.on("b").post(URL, data={"uid_field": username, "csrf_token": csrf_token(page.text)})
    assert answer.status_code == 303
    page = lb.on("a").get(answer.headers["Location"])
    assert stage_of(page.text) == "password"
    answer = lb.on("b").post(
        URL, data={"password": factories.PASSWORD, "csrf_token": csrf_token(page.text)}
    )
    assert answer.status_code == 303

    assert username in lb.on("a").get("/me").text
    assert lb.on("b").get("/me").status_code == 200

    # Signing out on one instance ends the session for both.
    lb.on("a").get("/logout", follow_redirects=True)
    assert lb.on("b").get("/me").status_code == 302


def test_a_session_revoked_on_one_instance_is_anonymous_on_the_other(app, other, username):
    client_a, client_b = app.test_client(), other.test_client()
    page = client_a.get(URL)
    client_a.post(URL, data={"uid_field": username, "csrf_token": csrf_token(page.text)})
    page = client_a.get(URL)
    client_a.post(URL, data={"password": factories.PASSWORD, "csrf_token": csrf_token(page.text)})
    assert client_a.get("/me").status_code == 200
    stolen = client_a.get_cookie(COOKIE_NAME).value

    client_a.get("/logout", follow_redirects=True)

    # The cookie from before the sign-out, replayed to the other instance: anonymous there.
    client_b.set_cookie(COOKIE_NAME, stolen)
    assert client_b.get("/me").status_code == 302


# -- the per-worker cache of flows (idp/flows/loading.py) -------------------------------------


def guarded_flow(gate: dict, slug: str) -> str:
    """A deny stage gated at plan time by `gate`, then identification."""
    return factories.make_flow(
        [
            {
                "define": {
                    "name": f"{slug}-closed",
                    "type": "deny",
                    "options": {"message": "Closed"},
                },
                "evaluate_on_plan": True,
                "re_evaluate_policies": False,
                "policies": [gate],
            },
            {"stage": "default-authentication-identification"},
        ],
        slug=slug,
        policies=[
            {"name": f"{slug}-gate", "type": "expression", "options": {"expression": "false"}}
        ],
    )


def is_closed(client, slug: str) -> bool:
    client.delete_cookie(COOKIE_NAME)
    page = client.get(f"/flow/{slug}/")
    return "Closed" in page.text


def test_a_policy_edited_on_one_instance_applies_on_the_other_at_once(app, other):
    from idp.models import Policy

    with app.app_context():
        slug = guarded_flow({"policy": "cached-gate-gate"}, "cached-gate")
    client = other.test_client()
    assert not is_closed(client, slug)
    assert not is_closed(client, slug)  # now from the other instance's cache

    with app.app_context():
        policy = db.session.scalar(db.select(Policy).where(Policy.name == "cached-gate-gate"))
        policy.options = {"expression": "true"}
        db.session.commit()

    assert is_closed(client, slug)


def test_bindings_edited_on_one_instance_apply_on_the_other_at_once(app, other):
    """A cached flow's engine reads its bindings once, as plain gates and plan checks: each
    edit of a binding must reach the other instance's next plan all the same."""
    from idp.models import StageBinding

    with app.app_context():
        slug = guarded_flow({"policy": "edited-gate-gate"}, "edited-gate")
    client = other.test_client()
    assert not is_closed(client, slug)
    assert not is_closed(client, slug)  # from the other instance's cache

    def edit(change):
        with app.app_context():
            gate = db.session.scalar(
                db.select(PolicyBinding).join(StageBinding).where(StageBinding.flow.has(slug=slug))
            )
            change(gate)
            db.session.commit()

    edit(lambda gate: setattr(gate, "negate", True))
    assert is_closed(client, slug)
    edit(lambda gate: (setattr(gate, "negate", False), setattr(gate, "enabled", False)))
    assert is_closed(client, slug)  # nothing bound passes; stale gates would drop the stage
    edit(lambda gate: setattr(gate, "enabled", True))
    assert not is_closed(client, slug)
    with app.app_context():
        binding = db.session.scalar(
            db.select(StageBinding).where(StageBinding.flow.has(slug=slug)).order_by("order")
        )
        binding.evaluate_on_plan = False
        db.session.commit()
    assert is_closed(client, slug)  # kept without asking; a stale plan check would ask


def test_a_user_deleted_on_one_instance_takes_its_bindings_along_on_the_other(app, other):
    from idp.models import User

    with app.app_context():
        victim = factories.make_user()
        slug = guarded_flow({"user": victim.username}, "cached-user")
        victim_id = victim.id
    client = other.test_client()
    assert not is_closed(client, slug)
    assert not is_closed(client, slug)

    with app.app_context():
        # The database deletes the user's bindings by cascade (a user deleted behind
        # Gatehouse's back: its own paths keep a user a binding names): the deny stage is no
        # longer gated.
        db.session.execute(db.delete(PolicyBinding).where(PolicyBinding.user_id == victim_id))
        db.session.execute(db.delete(User).where(User.id == victim_id))
        db.session.commit()

    assert is_closed(client, slug)


def test_a_self_service_flow_renamed_on_one_instance_leaves_me_on_the_other(app, other, username):
    """/me links the self-service flows that exist, known under the flows revision."""
    from idp.models import Flow

    client = other.test_client()
    page = client.get(URL)
    client.post(URL, data={"uid_field": username, "csrf_token": csrf_token(page.text)})
    page = client.get(URL)
    client.post(URL, data={"password": factories.PASSWORD, "csrf_token": csrf_token(page.text)})
    for _ in range(2):  # the second from the other instance's cache
        assert "Delete your account" in client.get("/me").text

    with app.app_context():
        flow = db.session.scalar(db.select(Flow).where(Flow.slug == "default-unenrollment-flow"))
        flow.slug = "farewell"
        db.session.commit()

    me = client.get("/me")
    assert me.status_code == 200 and "Change your password" in me.text
    assert "Delete your account" not in me.text


def test_a_flow_imported_by_another_process_is_run_as_imported_at_once(app, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    with app.app_context():
        slug = guarded_flow({"policy": "cached-cli-gate"}, "cached-cli")
    client = app.test_client()
    assert not is_closed(client, slug)
    assert not is_closed(client, slug)

    document = {
        "version": 1,
        "flow": {
            "slug": slug,
            "name": slug,
            "designation": "authentication",
            "stages": [{"stage": f"{slug}-closed", "order": 10}],
        },
    }
    path = tmp_path / "closed.yaml"
    path.write_text(yaml.safe_dump(document))
    environment = {
        "IDP_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "IDP_SECRET_KEY": app.config["SECRET_KEY"],
        "IDP_INSTANCE_PATH": str(tmp_path / "cli-instance"),
        "PATH": "/usr/bin:/bin",
    }
    idp = Path(sys.executable).with_name("idp")
    subprocess.run([str(idp), "flows", "import", str(path)], env=environment, check=True)

    assert is_closed(client, slug)
