"""Lookalike usernames: a new name is refused when it uses compatibility forms (full-width
letters, ligatures) or mixes scripts (a Cyrillic letter inside a Latin name), and is taken
when it reads like an account's name (NFKC and case folded). Wherever names are chosen: the
enrollment prompt, the admin's user forms, `idp users create`, invitations. An account whose
name met an older rule keeps it, signs in with it and can be edited."""

import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.models import Invitation, User
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_user
from tests.http.admin.conftest import post, text
from tests.http.stages.test_prompt_and_user_write import GOOD, signup_flow

FULL_WIDTH_ADMIN = "\uff41\uff44\uff4d\uff49\uff4e"
FULL_WIDTH_BOB = "\uff42\uff4f\uff42"
CYRILLIC_A_ADMIN = "\u0430dmin"
NOT_PLAIN = "Type the username in plain characters"
MIXED = "Use letters of one alphabet only"
TAKEN = "This username is taken."


def user_names(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(User.username).order_by(User.id)))


@pytest.fixture
def legacy_bob(app) -> int:
    """An account named before the rule, in full-width letters."""
    with app.app_context():
        return make_user(FULL_WIDTH_BOB).id


@pytest.mark.parametrize(
    ("username", "message"),
    [
        (FULL_WIDTH_ADMIN, NOT_PLAIN),
        ("\ufb01nance", NOT_PLAIN),
        (CYRILLIC_A_ADMIN, MIXED),
        ("bob", TAKEN),  # reads like the full-width account's name
        ("BOB", TAKEN),
    ],
)
def test_sign_up_refuses_a_lookalike_name_beside_its_field(app, legacy_bob, username, message):
    with app.app_context():
        slug = signup_flow()
    visitor = FlowDriver(app.test_client())
    visitor.open(slug)
    response = visitor.submit(slug, {**GOOD, "username": username})
    assert response.status_code == 400
    assert message in visitor.text
    assert user_names(app) == [FULL_WIDTH_BOB]


def test_the_refusal_is_said_in_the_visitors_language(app):
    with app.app_context():
        slug = signup_flow()
    visitor = FlowDriver(app.test_client())
    visitor.open(slug, headers={"Accept-Language": "de"})
    response = visitor.client.post(
        f"/flow/{slug}/",
        data={**GOOD, "username": CYRILLIC_A_ADMIN, "csrf_token": csrf_of(visitor)},
        headers={"Accept-Language": "de"},
        follow_redirects=True,
    )
    assert response.status_code == 400
    assert MIXED not in response.get_data(as_text=True)
    assert "Buchstaben eines Alphabets" in response.get_data(as_text=True)


def csrf_of(visitor) -> str:
    from tests.conftest import csrf_token

    return csrf_token(visitor.page)


def test_a_name_of_the_older_rule_still_signs_in_as_it_is(app, legacy_bob):
    visitor = FlowDriver(app.test_client())
    assert visitor.sign_in(FULL_WIDTH_BOB, PASSWORD).status_code == 303
    assert visitor.client.get("/me").status_code == 200


@pytest.mark.parametrize(
    ("username", "message"),
    [(FULL_WIDTH_ADMIN, NOT_PLAIN), (CYRILLIC_A_ADMIN, MIXED), ("Bob", TAKEN)],
)
def test_the_admin_cannot_create_a_lookalike(app, admin, legacy_bob, username, message):
    response = post(admin, "/admin/users/new", {"username": username})
    assert response.status_code == 400
    assert message in text(response)
    assert username not in user_names(app)


def test_the_admin_edits_an_account_of_the_older_rule_without_renaming_it(app, admin, legacy_bob):
    fields = {"username": FULL_WIDTH_BOB, "email": "bob@new.test"}
    response = post(admin, f"/admin/users/{legacy_bob}/edit", fields)
    assert response.status_code == 303, text(response)
    # A rename is a new name: it meets today's rule.
    response = post(admin, f"/admin/users/{legacy_bob}/edit", {"username": "\uff42\uff4f\uff42x"})
    assert response.status_code == 400
    assert NOT_PLAIN in text(response)
    response = post(admin, f"/admin/users/{legacy_bob}/edit", {"username": "bob"})
    assert response.status_code == 303, text(response)
    assert user_names(app)[-1] == "bob"


@pytest.mark.parametrize(
    ("username", "message"),
    [(FULL_WIDTH_ADMIN, "special forms"), (CYRILLIC_A_ADMIN, "one alphabet"), ("BOB", "exists")],
)
def test_the_command_line_refuses_a_lookalike(app, runner, legacy_bob, username, message):
    result = runner.invoke(args=["users", "create", username])
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
    assert user_names(app) == [FULL_WIDTH_BOB]


@pytest.mark.parametrize("username", [FULL_WIDTH_ADMIN, CYRILLIC_A_ADMIN])
def test_an_invitation_cannot_fix_a_lookalike_name(app, runner, username):
    result = runner.invoke(args=["invitations", "create", "--data", f"username={username}"])
    assert result.exit_code == 2
    assert "is not a valid username" in result.stderr
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0


# Two names that read alike (case folded, "ß" is "ss") though lower() tells them apart: both
# meet today's rule, so only the key says the second is taken.
STRASSE, STRASSE_CAPITALS = "straße", "STRASSE"
JUST_TAKEN = "This username or email was just taken."
ENROLLMENT = "default-enrollment-flow"


def taken_elsewhere_first(monkeypatch, module, checked: str = "release") -> None:
    """Another request makes `straße` after this one checked the name and before it writes
    (module.<checked> runs between the two): only the unique key can refuse the second."""
    from idp.models.users import username_key

    original = getattr(module, checked)
    done = []

    def checked_then_made_elsewhere(*args, **kwargs):
        result = original(*args, **kwargs)
        if not done:
            done.append(True)
            with db.engine.begin() as elsewhere:  # another request's connection, committed
                elsewhere.execute(
                    User.__table__.insert().values(
                        username=STRASSE, username_key=username_key(STRASSE), attributes={}
                    )
                )
        return result

    monkeypatch.setattr(module, checked, checked_then_made_elsewhere)


def accounts_reading_strasse(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(User.username).where(User.username_key == "strasse")))


def test_an_admin_creating_a_lookalike_while_it_is_taken_is_told_beside_the_field(
    app, admin, monkeypatch
):
    from idp.admin.users import routes

    taken_elsewhere_first(monkeypatch, routes)
    response = post(admin, "/admin/users/new", {"username": STRASSE_CAPITALS})
    assert response.status_code == 400
    assert JUST_TAKEN in text(response)
    assert accounts_reading_strasse(app) == [STRASSE]


def test_an_admin_renaming_to_a_lookalike_while_it_is_taken_changes_nothing(
    app, admin, monkeypatch
):
    from idp.admin.users import routes

    with app.app_context():
        carol = make_user("carol").id
    taken_elsewhere_first(monkeypatch, routes)
    response = post(admin, f"/admin/users/{carol}/edit", {"username": STRASSE_CAPITALS})
    assert response.status_code == 400
    assert JUST_TAKEN in text(response)
    assert accounts_reading_strasse(app) == [STRASSE]
    with app.app_context():
        assert db.session.get(User, carol).username == "carol"


def test_the_command_line_creating_a_lookalike_while_it_is_taken_says_it_exists(
    app, runner, monkeypatch
):
    from idp.identity import signups

    taken_elsewhere_first(monkeypatch, signups)
    result = runner.invoke(args=["users", "create", STRASSE_CAPITALS, "--email", "s@x.test"])
    assert result.exit_code == 2
    assert f"a user named '{STRASSE_CAPITALS}' exists already" in result.stderr
    assert "Traceback" not in result.output
    assert accounts_reading_strasse(app) == [STRASSE]


def test_a_sign_up_with_a_lookalike_while_it_is_taken_is_told_beside_the_field(app, monkeypatch):
    from idp.stages.user_write import stage as user_write_stage

    visitor = FlowDriver(app.test_client())
    visitor.open(ENROLLMENT)
    taken_elsewhere_first(monkeypatch, user_write_stage, "_conflict")
    answers = {"username": STRASSE_CAPITALS, "email": "s@example.test", "password": PASSWORD}
    response = visitor.submit(ENROLLMENT, {**answers, "password_repeat": PASSWORD})
    assert response.status_code == 400
    assert visitor.stage == "prompt"
    assert TAKEN in visitor.text and 'id="username-errors"' in visitor.page
    assert accounts_reading_strasse(app) == [STRASSE]
