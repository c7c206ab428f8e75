import pytest

from tests.factories import PASSWORD, make_flow, make_user, unique

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


# -- the password on the same page (password_field, as the shipped sign-in has it) ----------


def sign_in_on_one_page(flows, name, password, htmx=False, next_url=None, slug=AUTH):
    flows.open(slug, next_url=next_url)
    return flows.submit(
        slug, {"uid_field": name, "password": password}, htmx=htmx, next_url=next_url
    )


def test_the_shipped_sign_in_asks_for_name_and_password_on_one_page(flows):
    flows.open(AUTH)
    assert flows.stage == "identification"
    assert 'name="uid_field"' in flows.page
    assert 'name="password"' in flows.page and 'autocomplete="current-password"' in flows.page
    assert ">Sign in</button>" in flows.page


def test_a_plain_post_with_name_and_password_goes_straight_to_next(app, flows):
    with app.app_context():
        make_user("olga")
    response = sign_in_on_one_page(flows, "olga", PASSWORD, next_url="/me")
    # GET the page, POST it, and the answer is the redirect out of the flow.
    assert response.status_code == 303
    assert response.headers["Location"] == "/me"
    assert flows.client.get("/me").status_code == 200


def test_an_htmx_post_with_name_and_password_ends_the_flow(app, flows):
    with app.app_context():
        make_user("olga")
    response = sign_in_on_one_page(flows, "olga", PASSWORD, htmx=True, next_url="/me")
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/me"


@pytest.mark.parametrize("who", ["wrong password", "unknown name", "inactive account"])
def test_a_refused_password_on_the_first_page_looks_the_same_whoever_it_was(app, flows, who):
    with app.app_context():
        make_user("pia")
        make_user("quinn", active=False)
    name, password = {
        "wrong password": ("pia", "not the password"),
        "unknown name": ("piaf", PASSWORD),
        "inactive account": ("quinn", PASSWORD),
    }[who]
    response = sign_in_on_one_page(flows, name, password)
    assert response.status_code == 400
    assert flows.stage == "identification"
    assert "Invalid username or password." in flows.page
    assert flows.client.get("/me").status_code == 302


def test_refused_passwords_on_the_first_page_are_counted_as_the_password_stage_counts(app, flows):
    from tests.http.stages.test_password import failures

    with app.app_context():
        make_user("rita")
    for _ in range(3):
        sign_in_on_one_page(flows, "RITA", "wrong")
    flows.sign_in("rita", "wrong")  # the password stage: the same counter
    assert failures(app, "account", "rita") == 4
    assert failures(app, "ip", "127.0.0.1") == 4


def test_a_replayed_first_page_does_not_reset_its_failed_attempts(app, flows):
    from tests.conftest import csrf_token
    from tests.http.stages.test_password import failures

    with app.app_context():
        make_user("sara")
    flows.open(AUTH)
    cookie = flows.client.get_cookie("gatehouse_session").value
    token = csrf_token(flows.page)
    for _ in range(4):
        flows.client.set_cookie("gatehouse_session", cookie)
        form = {"uid_field": "sara", "password": "wrong", "csrf_token": token}
        flows.client.post(f"/flow/{AUTH}/", data=form)
    assert failures(app, "account", "sara") == 4


def test_a_first_page_sent_without_the_password_goes_on_to_the_password_stage(app, flows):
    with app.app_context():
        make_user("tess")
    flows.open(AUTH)
    flows.submit(AUTH, {"uid_field": "tess"})
    assert flows.stage == "password"
    flows.submit(AUTH, {"password": PASSWORD})
    assert flows.client.get("/me").status_code == 200


def test_without_a_password_stage_naming_someone_signs_no_one_in(app, flows):
    with app.app_context():
        make_user("uma")
        slug = make_flow(
            [
                {
                    "define": {
                        "name": unique("one-page-"),
                        "type": "identification",
                        "options": {"password_field": True},
                    }
                },
                {"stage": "default-authentication-login"},
            ]
        )
    flows.open(slug)
    flows.submit(slug, {"uid_field": "uma"})
    assert flows.client.get("/me").status_code == 302
    flows.client.get(f"/flow/{slug}/restart")
    sign_in_on_one_page(flows, "uma", PASSWORD, slug=slug)
    assert flows.client.get("/me").status_code == 200


def test_the_password_stage_is_passed_by_only_for_the_user_whose_password_was_checked():
    from types import SimpleNamespace

    from idp.flows.context import PASSWORD_CHECKED_FOR, PENDING_USER_ID
    from idp.stages.password import PasswordStage

    stage = PasswordStage()
    for checked, pending, passed in ((7, 7, True), (7, 8, False), (None, 7, False)):
        ctx = SimpleNamespace(data={PASSWORD_CHECKED_FOR: checked, PENDING_USER_ID: pending})
        assert stage.is_satisfied(ctx) is passed
