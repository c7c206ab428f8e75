import pytest

from tests.factories import make_flow, make_user

AUTH = "default-authentication-flow"


def test_unknown_user_continues_to_the_password_stage(flows):
    flows.open(AUTH)
    flows.submit(AUTH, {"uid_field": "nobody-here"})
    assert flows.stage == "password"
    assert "Signing in as" in flows.page and "nobody-here" in flows.page


def test_known_and_unknown_users_get_the_same_password_page(app, flows, client):
    with app.app_context():
        make_user("bob")
    pages = []
    for name in ("bob", "bobby"):
        flows.client.get(f"/flow/{AUTH}/restart")
        flows.open(AUTH)
        flows.submit(AUTH, {"uid_field": name})
        pages.append(flows.page.replace(name, "NAME"))
    strip = [__import__("re").sub(r'value="[^"]+"', "", page) for page in pages]
    assert strip[0] == strip[1]


def test_the_plan_in_the_cookie_does_not_reveal_whether_the_account_exists(app, flows):
    from tests.http.test_executor import session_of

    with app.app_context():
        make_user("carol")
    contexts = []
    for name in ("carol", "carla"):
        flows.client.get(f"/flow/{AUTH}/restart")
        flows.open(AUTH)
        flows.submit(AUTH, {"uid_field": name})
        contexts.append(session_of(app, flows.client)["plans"][AUTH]["context"])
    assert contexts[0].keys() == contexts[1].keys()
    assert contexts[0]["pending_user_id"] is None and contexts[1]["pending_user_id"] is None


def test_empty_identifier_is_a_form_error(flows):
    flows.open(AUTH)
    response = flows.submit(AUTH, {"uid_field": ""})
    assert response.status_code == 400
    assert "This field is required." in flows.page


def test_oversized_identifier_is_a_form_error(flows):
    flows.open(AUTH)
    response = flows.submit(AUTH, {"uid_field": "x" * 300})
    assert response.status_code == 400
    assert flows.stage == "identification"


@pytest.mark.parametrize(
    ("user_fields", "typed", "signs_in"),
    [
        (["username"], "dave", True),
        (["username"], "dave@example.test", False),
        (["email"], "DAVE@example.test", True),
        (["email"], "dave", False),
        (["username", "email"], "Dave", True),
    ],
)
def test_user_fields_decide_what_the_identifier_may_match(app, flows, user_fields, typed, signs_in):
    from tests.factories import PASSWORD

    with app.app_context():
        make_user("dave", email="dave@example.test")
        slug = make_flow(
            [
                {
                    "define": {
                        "name": f"id-{'-'.join(user_fields)}",
                        "type": "identification",
                        "options": {"user_fields": user_fields},
                    }
                },
                {"define": {"name": f"pw-{'-'.join(user_fields)}", "type": "password"}},
                {"stage": "default-authentication-login"},
            ]
        )
    flows.sign_in(typed, PASSWORD, slug=slug)
    assert (flows.client.get("/me").status_code == 200) is signs_in


def test_label_follows_the_configured_fields(app, flows):
    with app.app_context():
        slug = make_flow(
            [
                {
                    "define": {
                        "name": "email-only",
                        "type": "identification",
                        "options": {"user_fields": ["email"]},
                    }
                }
            ]
        )
    flows.open(slug)
    assert ">Email</label>" in flows.page
    assert 'autocomplete="email"' in flows.page


def test_whitespace_only_identifier_is_a_form_error(flows):
    flows.open(AUTH)
    response = flows.submit(AUTH, {"uid_field": "   "})
    assert response.status_code == 400
    assert flows.stage == "identification"
