import json

import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.models import User
from tests.factories import make_flow, make_group, make_user
from tests.http.test_executor import session_of

FIELDS = [
    {"key": "username", "label": "Username", "type": "username", "required": True},
    {"key": "email", "label": "Email", "type": "email", "required": True},
    {"key": "name", "label": "Name", "type": "text"},
    {"key": "attributes.team", "label": "Team", "type": "text"},
    {"key": "password", "label": "Password", "type": "password", "required": True},
    {"key": "password_repeat", "label": "Repeat", "type": "password", "required": True},
]
GOOD = {
    "username": "newbie",
    "email": "newbie@example.test",
    "name": "New Bie",
    "attributes.team": "blue",
    "password": "a long enough secret",
    "password_repeat": "a long enough secret",
}


def signup_flow(write_options=None, fields=FIELDS):
    return make_flow(
        [
            {"define": {"name": "signup-prompt", "type": "prompt", "options": {"fields": fields}}},
            {
                "define": {
                    "name": "signup-write",
                    "type": "user_write",
                    "options": write_options or {},
                }
            },
            {"stage": "default-authentication-login"},
        ],
        designation="enrollment",
    )


def user_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_prompt_then_user_write_creates_and_signs_in_the_user(app, flows):
    with app.app_context():
        slug = signup_flow()
    flows.open(slug)
    for field in ("username", "email", "name", "attributes.team", "password", "password_repeat"):
        assert f'name="{field}"' in flows.page
    response = flows.submit(slug, GOOD)
    assert response.status_code == 303
    assert flows.client.get("/me").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "newbie"))
        assert user.email == "newbie@example.test" and user.name == "New Bie"
        assert user.attributes == {"team": "blue"}
        assert user.password_hash.startswith("bcrypt-sha256-nfkc$")


def test_the_password_never_travels_in_the_cookie_in_clear(app, flows):
    with app.app_context():
        slug = make_flow(
            [
                {"define": {"name": "pw-prompt", "type": "prompt", "options": {"fields": FIELDS}}},
                {
                    "define": {
                        "name": "pause",
                        "type": "prompt",
                        "options": {"fields": [{"key": "note", "type": "text"}]},
                    }
                },
            ],
            designation="enrollment",
        )
    flows.open(slug)
    flows.submit(slug, GOOD)
    assert flows.stage == "prompt" and 'name="note"' in flows.page
    cookie_text = json.dumps(session_of(app, flows.client))
    assert "a long enough secret" not in cookie_text
    assert '"sealed"' in cookie_text


def test_mismatched_passwords_are_a_form_error(app, flows):
    with app.app_context():
        slug = signup_flow()
    flows.open(slug)
    response = flows.submit(slug, {**GOOD, "password_repeat": "something else"})
    assert response.status_code == 400
    assert "The passwords do not match." in flows.page
    assert user_count(app) == 0


def test_taken_username_is_a_form_error_checked_at_once(app, flows):
    with app.app_context():
        make_user("Newbie")
        slug = signup_flow()
    flows.open(slug)
    response = flows.submit(slug, GOOD)
    assert response.status_code == 400
    assert "This username is taken." in flows.page
    assert user_count(app) == 1


def test_taken_email_stops_the_write_and_nothing_is_half_written(app, flows):
    with app.app_context():
        make_user("someone", email="NEWBIE@example.test")
        slug = signup_flow()
    flows.open(slug)
    response = flows.submit(slug, GOOD)
    assert response.status_code == 403
    assert "already used by another account" in flows.text
    assert user_count(app) == 1


def test_restart_action_sends_a_user_write_conflict_back_to_the_prompt(app, flows):
    with app.app_context():
        make_user("other", email="newbie@example.test")
        slug = make_flow(
            [
                {"define": {"name": "r-prompt", "type": "prompt", "options": {"fields": FIELDS}}},
                {
                    "define": {"name": "r-write", "type": "user_write"},
                    "invalid_response_action": "restart",
                },
            ],
            designation="enrollment",
        )
    flows.open(slug)
    flows.submit(slug, GOOD)
    assert flows.stage == "prompt"
    assert "already used by another account" in flows.page


def test_bad_email_and_username_are_form_errors(app, flows):
    with app.app_context():
        slug = signup_flow()
    flows.open(slug)
    flows.submit(slug, {**GOOD, "email": "not-an-email", "username": "has space"})
    assert "Please enter a valid email address." in flows.page
    assert "Use letters, digits" in flows.page


@pytest.mark.parametrize(
    "email",
    [
        "a,bob@example.test",
        "a;bob@example.test",
        '"a"@example.test',
        "a\u200d@x.test",
        # A mail header decodes the first to bob@example.test; it reads the others as no
        # address at all: the mail layer would refuse to send to any of them.
        "=?utf-8?q?bob?=@example.test",
        "a@example.test.",
        "a@example..test",
    ],
)
def test_an_address_a_mail_header_would_misread_is_a_form_error(app, flows, email):
    """A mail to "a,bob@example.test" would also go to bob: such an address is refused."""
    with app.app_context():
        slug = signup_flow()
    flows.open(slug)
    flows.submit(slug, {**GOOD, "email": email})
    assert flows.stage == "prompt"
    assert "Please enter a valid email address." in flows.page


@pytest.mark.parametrize("name", ["Eve\r\nAdmin", "Eve\x1b[31m", "Eve\u2028Admin"])
def test_a_name_over_two_lines_or_with_control_characters_is_a_form_error(app, flows, name):
    with app.app_context():
        slug = signup_flow()
    flows.open(slug)
    flows.submit(slug, {**GOOD, "name": name})
    assert flows.stage == "prompt"
    assert "One line only, without control characters." in flows.page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_a_name_in_any_script_is_taken_as_written(app, flows):
    with app.app_context():
        slug = signup_flow()
    flows.open(slug)
    flows.submit(slug, {**GOOD, "name": "Jürgen 日本語 🙂 \u200d\u05d0"})
    with app.app_context():
        assert db.session.scalar(select(User.name)) == "Jürgen 日本語 🙂 \u200d\u05d0"


@pytest.mark.parametrize("email", ["jürgen@example.test", "o'neil+tag@example.test"])
def test_an_address_beyond_ascii_or_with_a_quote_is_taken(app, flows, email):
    with app.app_context():
        slug = signup_flow()
    flows.open(slug)
    flows.submit(slug, {**GOOD, "email": email})
    assert "Please enter a valid email address." not in flows.page


def test_required_fields_are_named_in_their_errors(app, flows):
    with app.app_context():
        slug = signup_flow()
    flows.open(slug)
    response = flows.submit(slug, {})
    assert response.status_code == 400
    assert "Username is required." in flows.page


def test_hidden_and_static_values_cannot_be_changed_by_the_visitor(app, flows):
    fields = [
        {"key": "username", "type": "username", "required": True},
        {"key": "attributes.plan", "type": "hidden", "initial_value": "free"},
        {"key": "attributes.note", "type": "static", "initial_value": "Welcome!"},
    ]
    with app.app_context():
        slug = signup_flow(fields=fields)
    flows.open(slug)
    assert "Welcome!" in flows.page
    flows.submit(
        slug, {"username": "hacker", "attributes.plan": "enterprise", "attributes.note": "x"}
    )
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "hacker"))
        assert user.attributes == {"plan": "free", "note": "Welcome!"}


def test_user_write_options_create_inactive_users_in_a_group(app, flows):
    with app.app_context():
        make_group("newcomers")
        slug = make_flow(
            [
                {"define": {"name": "g-prompt", "type": "prompt", "options": {"fields": FIELDS}}},
                {
                    "define": {
                        "name": "g-write",
                        "type": "user_write",
                        "options": {
                            "create_users_as_inactive": True,
                            "create_users_group": "newcomers",
                        },
                    }
                },
            ],
            designation="enrollment",
        )
    flows.open(slug)
    flows.submit(slug, GOOD)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "newbie"))
        assert not user.is_active
        from idp.identity.accounts import user_group_names

        assert user_group_names(user) == ["newcomers"]


def test_user_write_updates_the_signed_in_user_when_told_never_to_create(app, flows):
    from tests.factories import PASSWORD

    with app.app_context():
        make_user("editor")
        slug = make_flow(
            [
                {
                    "define": {
                        "name": "e-prompt",
                        "type": "prompt",
                        "options": {"fields": [{"key": "name", "type": "text", "required": True}]},
                    }
                },
                {
                    "define": {
                        "name": "e-write",
                        "type": "user_write",
                        "options": {"user_creation_mode": "never"},
                    }
                },
            ],
            designation="stage_configuration",
        )
    flows.sign_in("editor", PASSWORD)
    flows.open(slug)
    flows.submit(slug, {"name": "Edith Editor"})
    with app.app_context():
        assert db.session.scalar(select(User.name).where(User.username == "editor")) == (
            "Edith Editor"
        )
        assert user_count(app) == 1


def test_user_write_with_never_and_no_user_denies(app, flows):
    with app.app_context():
        slug = make_flow(
            [
                {
                    "define": {
                        "name": "n-write",
                        "type": "user_write",
                        "options": {"user_creation_mode": "never"},
                    }
                }
            ]
        )
    flows.open(slug)
    assert "There is no user to update." in flows.text


def test_an_email_only_signup_whose_address_is_someones_username_is_a_clear_error(app, flows):
    fields = [
        {"key": "email", "type": "email", "required": True},
        {"key": "password", "type": "password", "required": True},
    ]
    with app.app_context():
        make_user("bob@example.test", email="other@example.test")
        slug = signup_flow(write_options={"user_creation_mode": "always"}, fields=fields)
    flows.open(slug)
    response = flows.submit(slug, {"email": "BOB@example.test", "password": "x" * 12})
    assert response.status_code == 403
    assert "This username is taken." in flows.text
    assert user_count(app) == 1


def test_the_written_password_does_not_travel_on_in_the_plan(app, flows):
    with app.app_context():
        slug = make_flow(
            [
                {"define": {"name": "t-prompt", "type": "prompt", "options": {"fields": FIELDS}}},
                {"define": {"name": "t-write", "type": "user_write"}},
                {
                    "define": {
                        "name": "t-after",
                        "type": "prompt",
                        "options": {"fields": [{"key": "note", "type": "text"}]},
                    }
                },
            ],
            designation="enrollment",
        )
    flows.open(slug)
    flows.submit(slug, GOOD)
    assert 'name="note"' in flows.page
    cookie = json.dumps(session_of(app, flows.client))
    assert '"sealed"' not in cookie and "newbie@example.test" in cookie


def test_prompt_keys_that_would_break_the_form_are_refused(app, runner, tmp_path):
    import yaml

    document = {
        "version": 1,
        "flow": {
            "slug": "bad-keys",
            "name": "x",
            "designation": "enrollment",
            "stages": [{"stage": "bad-key-prompt"}],
        },
        "stages": [
            {"name": "bad-key-prompt", "type": "prompt", "options": {"fields": [{"key": "meta"}]}}
        ],
    }
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(document))
    result = runner.invoke(args=["flows", "import", str(path)])
    assert result.exit_code == 2
    assert "stages[0].options.fields[0].key" in result.output
