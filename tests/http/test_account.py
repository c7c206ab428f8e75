from sqlalchemy import select

from idp.core.extensions import db
from idp.credentials.passwords import check_password
from idp.models import Event, User, UserSession
from tests.conftest import FlowDriver, csrf_token
from tests.factories import PASSWORD, make_user

CHANGE = "default-password-change"
NEW_PASSWORD = "a brand new passphrase 42"


def signed_in(app, username) -> FlowDriver:
    driver = FlowDriver(app.test_client())
    driver.sign_in(username, PASSWORD)
    return driver


def test_me_offers_the_self_service_flows(app):
    with app.app_context():
        make_user("mia")
    page = signed_in(app, "mia").client.get("/me").get_data(as_text=True)
    assert "/flow/default-password-change/?next=/me" in page


def test_sign_out_everywhere_else_keeps_this_browser(app):
    with app.app_context():
        make_user("nia")
    here, there, elsewhere = (signed_in(app, "nia") for _ in range(3))
    page = here.client.get("/me").get_data(as_text=True)
    response = here.client.post("/me/sessions/others/revoke", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 303
    assert "Signed out of 2 other sessions." in here.client.get("/me").get_data(as_text=True)
    assert there.client.get("/me").status_code == 302
    assert elsewhere.client.get("/me").status_code == 302


def test_revoking_one_other_session(app):
    with app.app_context():
        make_user("ola")
    here, there = signed_in(app, "ola"), signed_in(app, "ola")
    with app.app_context():
        there_id = db.session.scalars(select(UserSession.id).order_by(UserSession.id)).all()[-1]
    page = here.client.get("/me").get_data(as_text=True)
    here.client.post(f"/me/sessions/{there_id}/revoke", data={"csrf_token": csrf_token(page)})
    assert there.client.get("/me").status_code == 302
    assert here.client.get("/me").status_code == 200


def test_signing_out_this_browser_from_its_own_row(app):
    """The "Sign out" button of the "(this browser)" row, without JavaScript."""
    with app.app_context():
        make_user("rae")
    here, there = signed_in(app, "rae"), signed_in(app, "rae")
    with app.app_context():
        here_id = db.session.scalars(select(UserSession.id).order_by(UserSession.id)).first()
    page = here.client.get("/me").get_data(as_text=True)
    response = here.client.post(
        f"/me/sessions/{here_id}/revoke", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 303
    assert here.client.get("/me").status_code == 302
    assert there.client.get("/me").status_code == 200
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.action == "session_revoked"))
        assert (event.username, event.detail) == ("rae", {"session": here_id})


def test_someone_elses_session_cannot_be_revoked(app):
    with app.app_context():
        make_user("pia")
        make_user("quy")
    pia, quy = signed_in(app, "pia"), signed_in(app, "quy")
    with app.app_context():
        quy_session = db.session.scalar(
            select(UserSession.id).join(User).where(User.username == "quy")
        )
    page = pia.client.get("/me").get_data(as_text=True)
    response = pia.client.post(
        f"/me/sessions/{quy_session}/revoke", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 404
    assert quy.client.get("/me").status_code == 200


def test_session_actions_need_csrf_and_sign_in(app, client):
    assert client.post("/me/sessions/others/revoke").status_code == 400
    with app.app_context():
        make_user("rae")
    driver = signed_in(app, "rae")
    assert driver.client.post("/me/sessions/others/revoke", data={}).status_code == 400
    anonymous = app.test_client()
    page = anonymous.get("/flow/default-authentication-flow/").get_data(as_text=True)
    response = anonymous.post("/me/sessions/others/revoke", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302


def test_password_change_needs_the_current_password_then_a_new_good_one(app):
    with app.app_context():
        make_user("sol")
    driver = signed_in(app, "sol")
    elsewhere = signed_in(app, "sol")
    driver.open(CHANGE)
    assert driver.stage == "password"
    assert "Current password" in driver.text and "Sign in" not in driver.text
    driver.submit(CHANGE, {"password": "wrong"})
    assert "Wrong password." in driver.text
    assert "Invalid username or password." not in driver.text
    driver.submit(CHANGE, {"password": PASSWORD})
    assert driver.stage == "prompt"
    driver.submit(CHANGE, {"password": PASSWORD, "password_repeat": PASSWORD})
    assert "You used this password before." in driver.text
    driver.submit(CHANGE, {"password": "short", "password_repeat": "short"})
    assert "at least 8 characters" in driver.text
    response = driver.submit(CHANGE, {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})
    assert response.status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "sol"))
        assert check_password(NEW_PASSWORD, user.password_hash)
        assert db.session.scalar(select(Event.id).where(Event.action == "user_updated"))
    assert driver.client.get("/me").status_code == 200
    assert elsewhere.client.get("/me").status_code == 302  # other sessions end


def test_password_change_requires_sign_in(app, flows):
    response = flows.open(CHANGE)
    assert response.status_code == 403
    assert "Please sign in first." in flows.text


def authenticator_page(app, username):
    from idp.credentials import authenticators

    with app.app_context():
        make_user(username)
    driver = signed_in(app, username)  # before it has codes, so no second factor is asked
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        authenticators.replace_recovery_codes(user, 3)
        db.session.commit()
    return driver, driver.client.get("/me").get_data(as_text=True)


REMOVE_CODES = "/me/authenticators/recovery_codes/0/remove"


def test_me_lists_authenticators(app):
    _, page = authenticator_page(app, "tia")
    assert "Recovery codes" in page and "3 left" in page


def test_removing_an_authenticator_asks_for_the_password_in_a_confirmation(app):
    driver, page = authenticator_page(app, "uri")
    # /me links the confirmation; no password field shows until then (the dialog is closed).
    assert f'href="{REMOVE_CODES}"' in page
    assert '<dialog id="remove-recovery_codes-0"' in page and "<dialog open" not in page
    confirmation = driver.client.get(REMOVE_CODES)
    assert confirmation.status_code == 200
    html = confirmation.get_data(as_text=True)
    assert "Remove Recovery codes?" in html and 'autocomplete="current-password"' in html
    token = csrf_token(html)

    response = driver.client.post(REMOVE_CODES, data={"csrf_token": token, "password": "wrong"})
    assert response.status_code == 400
    assert "That password is not right." in response.get_data(as_text=True)
    response = driver.client.post(REMOVE_CODES, data={"csrf_token": token})
    assert response.status_code == 400
    assert "Enter your password to confirm." in response.get_data(as_text=True)
    assert "3 left" in driver.client.get("/me").get_data(as_text=True)

    response = driver.client.post(REMOVE_CODES, data={"csrf_token": token, "password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/me"
    page = driver.client.get("/me").get_data(as_text=True)
    assert "Recovery codes was removed." in page and "3 left" not in page
    with app.app_context():
        assert db.session.scalar(select(Event.id).where(Event.action == "authenticator_removed"))


def test_the_confirmation_page_changes_nothing_and_knows_only_your_own(app):
    driver, _ = authenticator_page(app, "wes")
    assert driver.client.get(REMOVE_CODES).status_code == 200
    assert "3 left" in driver.client.get("/me").get_data(as_text=True)
    assert driver.client.get("/me/authenticators/totp/999/remove").status_code == 404
    assert driver.client.get("/me/authenticators/rocket/1/remove").status_code == 404


def test_removing_needs_csrf_and_only_touches_your_own(app):
    driver, page = authenticator_page(app, "val")
    assert driver.client.post(REMOVE_CODES, data={"password": PASSWORD}).status_code == 400
    response = driver.client.post(
        "/me/authenticators/totp/999/remove",
        data={"csrf_token": csrf_token(page), "password": PASSWORD},
    )
    assert response.status_code == 404
    response = driver.client.post(
        "/me/authenticators/rocket/1/remove",
        data={"csrf_token": csrf_token(page), "password": PASSWORD},
    )
    assert response.status_code == 404


def test_only_superusers_see_the_admin_link(app):
    with app.app_context():
        make_user("plainjane")
        make_user("rootbeer", superuser=True)
    assert 'href="/admin/"' not in signed_in(app, "plainjane").client.get("/me").get_data(
        as_text=True
    )
    assert 'href="/admin/"' in signed_in(app, "rootbeer").client.get("/me").get_data(as_text=True)
