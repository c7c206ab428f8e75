import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.credentials.passwords import check_password
from idp.identity.accounts import find_user
from idp.models import User
from tests.factories import make_group, make_user
from tests.http.admin.conftest import events_of, post, signed_in, text

NEW_PASSWORD = "a fresh passphrase 99"


def user_named(app, username: str) -> User:
    with app.app_context():
        user = find_user(username, ("username",))
        db.session.expunge(user)
        return user


def listed_usernames(page: str) -> list[str]:
    return re.findall(r'<td><a href="/admin/users/\d+">([^<]+)</a></td>', page)


# -- list and search ---------------------------------------------------------------------------


def test_search_matches_username_email_and_name_ignoring_case(app, admin):
    with app.app_context():
        make_user("zoe", email="zoe@example.test")
        make_user("yann", email="Y.Lemaire@Mail.test")
        make_user("xavi").name = "Xavier QUUX"
        db.session.commit()
    assert listed_usernames(text(admin.get("/admin/users?q=ZOE"))) == ["zoe"]
    assert listed_usernames(text(admin.get("/admin/users?q=lemaire@mail"))) == ["yann"]
    assert listed_usernames(text(admin.get("/admin/users?q=quux"))) == ["xavi"]
    assert listed_usernames(text(admin.get("/admin/users?q=nobody-like-this"))) == []


def test_search_takes_percent_and_underscore_literally(app, admin):
    with app.app_context():
        make_user("under_score")
        make_user("underXscore")
    assert listed_usernames(text(admin.get("/admin/users?q=under_"))) == ["under_score"]
    assert listed_usernames(text(admin.get("/admin/users?q=%25"))) == []


def test_the_user_list_paginates(app, admin):
    with app.app_context():
        for index in range(60):
            make_user(f"bulk{index:02}")
    first = text(admin.get("/admin/users?q=bulk"))
    assert len(listed_usernames(first)) == 50
    assert "60 users · page 1 of 2" in first
    second = text(admin.get("/admin/users?q=bulk&page=2"))
    assert listed_usernames(second) == [f"bulk{index}" for index in range(50, 60)]


def test_an_oversized_search_is_a_400(admin):
    response = admin.get("/admin/users?q=" + "x" * 201)
    assert response.status_code == 400
    assert "Search for at most 200 characters." in text(response)


# -- create ------------------------------------------------------------------------------------


def test_an_administrator_creates_a_user(app, admin):
    response = post(
        admin,
        "/admin/users/new",
        {
            "username": " newbie ",
            "email": "newbie@example.test",
            "name": "New Bie",
            "password": NEW_PASSWORD,
            "is_superuser": "y",
        },
    )
    assert response.status_code == 303
    user = user_named(app, "newbie")
    assert response.headers["Location"] == f"/admin/users/{user.id}"
    assert user.email == "newbie@example.test" and user.is_superuser
    assert check_password(NEW_PASSWORD, user.password_hash)
    (event,) = events_of(app, "admin_user_created")
    assert event.username == "root"
    assert event.detail["target"] == {"kind": "user", "id": user.id, "name": "newbie"}
    assert event.detail["before"] == {}
    assert event.detail["after"]["email"] == "newbie@example.test"
    assert "password" not in str(event.detail) and "bcrypt" not in str(event.detail)


def test_a_user_can_be_created_without_a_password_or_email(app, admin):
    response = post(admin, "/admin/users/new", {"username": "bare"})
    assert response.status_code == 303
    user = user_named(app, "bare")
    assert user.password_hash is None and user.email is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": ""}, "Enter a username."),
        ({"username": "   "}, "Enter a username."),
        ({"username": "ALICE"}, "This username is taken."),
        ({"username": "has space"}, "Use letters, digits and . @ + - _ only."),
        ({"username": "x" * 151}, "Usernames are at most 150 characters long."),
        ({"username": "ok", "email": "not-an-email"}, "Enter a valid email address."),
        ({"username": "ok", "email": "ok,bob@example.test"}, "Enter a valid email address."),
        ({"username": "ok", "email": "ok<bob@example.test>"}, "Enter a valid email address."),
        ({"username": "ok", "email": "ok\u202e@example.test"}, "Enter a valid email address."),
        ({"username": "ok", "email": "Alice@Example.test"}, "Another user has this email."),
        ({"username": "ok", "email": "a@b." + "c" * 260}, "at most 254 characters"),
        ({"username": "ok", "name": "n" * 201}, "Names are at most 200 characters long."),
        ({"username": "ok", "name": "Eve\r\nAdmin"}, "One line only, without control characters."),
        ({"username": "ok", "password": "short"}, "Use 8 to 1024 characters."),
        ({"username": "ok", "password": " " * 12}, "A password cannot be only spaces."),
        ({"username": "ok", "password": "p" * 1025}, "Use 8 to 1024 characters."),
        ({"username": "ok", "password": "qwertyuiop"}, "This password is too common."),
    ],
)
def test_a_bad_new_user_is_refused_with_a_message(app, admin, user_id, fields, message):
    response = post(admin, "/admin/users/new", fields)
    assert response.status_code == 400
    assert message in text(response)
    with app.app_context():
        assert find_user("ok", ("username",)) is None
    assert events_of(app, "admin_user_created") == []


def test_a_form_without_its_csrf_token_is_a_400(app, admin):
    response = post(admin, "/admin/users/new", {"username": "sneaky"}, csrf=False)
    assert response.status_code == 400
    assert "The form had expired or was incomplete" in text(response)
    with app.app_context():
        assert find_user("sneaky") is None


def test_an_oversized_value_or_body_is_refused(admin):
    response = post(admin, "/admin/users/new", {"username": "big", "name": "n" * 100_000})
    assert response.status_code == 400
    assert "Names are at most 200 characters long." in text(response)
    response = post(admin, "/admin/users/new", {"username": "big", "name": "n" * 2_000_000})
    assert response.status_code == 413


def test_an_id_too_large_for_the_database_is_refused(admin):
    assert admin.get(f"/admin/users/{2**70}").status_code in (400, 404)
    assert post(admin, f"/admin/users/{2**70}/disable").status_code in (400, 404)


# -- one user ----------------------------------------------------------------------------------


def test_the_user_page_shows_details_groups_and_sessions(app, admin):
    with app.app_context():
        reader = make_user("reader", groups=[make_group("readers")])
        reader.name = "Rea Der"
        db.session.commit()
        reader_id = reader.id
    signed_in(app, "reader")
    page = text(admin.get(f"/admin/users/{reader_id}"))
    assert "Rea Der" in page and "reader@example.test" in page
    assert ">readers</a>" in page
    assert "Disable and sign out" in page and "Make administrator" in page
    assert page.count("/sessions/") == 1
    assert 'href="/admin/events?username=reader"' in page


@pytest.mark.parametrize(
    "path",
    ["/admin/users/999999", "/admin/users/999999/edit"],
)
def test_a_missing_user_is_a_404(admin, path):
    assert admin.get(path).status_code == 404


@pytest.mark.parametrize(
    "action", ["disable", "enable", "password", "superuser/grant", "superuser/remove"]
)
def test_actions_on_a_missing_user_are_a_404(admin, action):
    assert post(admin, f"/admin/users/999999/{action}").status_code == 404


def test_editing_a_user_records_only_what_changed(app, admin, user_id):
    response = post(
        admin,
        f"/admin/users/{user_id}/edit",
        {"username": "alice", "email": "alice@new.test", "name": "Alice Liddell"},
    )
    assert response.status_code == 303
    assert user_named(app, "alice").email == "alice@new.test"
    (event,) = events_of(app, "admin_user_edited")
    assert event.detail["before"] == {"email": "alice@example.test"}
    assert event.detail["after"] == {"email": "alice@new.test"}


def test_editing_a_user_keeps_usernames_unique(app, admin, user_id):
    response = post(admin, f"/admin/users/{user_id}/edit", {"username": "Root"})
    assert response.status_code == 400
    assert "This username is taken." in text(response)
    # Their own name, in another case, is not "taken".
    response = post(admin, f"/admin/users/{user_id}/edit", {"username": "Alice"})
    assert response.status_code == 303


# -- disable, enable, superuser ----------------------------------------------------------------


def test_disabling_a_user_signs_them_out_at_once(app, admin, user_id):
    alice = signed_in(app, "alice")
    assert alice.get("/me").status_code == 200
    response = post(admin, f"/admin/users/{user_id}/disable")
    assert response.status_code == 303
    assert alice.get("/me").status_code == 302
    assert not user_named(app, "alice").is_active
    (event,) = events_of(app, "admin_user_disabled")
    assert event.detail["before"] == {"is_active": True}
    assert event.detail["after"] == {"is_active": False}
    assert event.detail["sessions_ended"] == 1
    # And they cannot sign in again until enabled.
    assert signed_in(app, "alice").get("/me").status_code == 302
    post(admin, f"/admin/users/{user_id}/enable")
    assert signed_in(app, "alice").get("/me").status_code == 200
    (event,) = events_of(app, "admin_user_enabled")
    assert event.detail["after"] == {"is_active": True}


def test_an_administrator_cannot_disable_their_own_account(app, admin):
    root = user_named(app, "root")
    response = post(admin, f"/admin/users/{root.id}/disable")
    assert response.status_code == 303
    assert "You cannot disable your own account." in text(admin.get(response.headers["Location"]))
    assert user_named(app, "root").is_active


def test_the_last_administrator_with_a_password_keeps_the_role(app, admin):
    root = user_named(app, "root")
    with app.app_context():
        make_user("nopassword", password=None, superuser=True)
    response = post(admin, f"/admin/users/{root.id}/superuser/remove")
    page = text(admin.get(response.headers["Location"]))
    assert "is the last administrator who can sign in with a password" in page
    assert user_named(app, "root").is_superuser
    assert events_of(app, "admin_superuser_removed") == []


def test_administrator_rights_are_granted_and_removed(app, admin, user_id):
    post(admin, f"/admin/users/{user_id}/superuser/grant")
    assert user_named(app, "alice").is_superuser
    assert signed_in(app, "alice").get("/admin/").status_code == 200
    root = user_named(app, "root")
    post(admin, f"/admin/users/{root.id}/superuser/remove")  # alice remains: allowed
    assert not user_named(app, "root").is_superuser
    assert admin.get("/admin/").status_code == 403
    (granted,) = events_of(app, "admin_superuser_granted")
    assert granted.detail["after"] == {"is_superuser": True}
    (removed,) = events_of(app, "admin_superuser_removed")
    assert removed.detail["before"] == {"is_superuser": True}


def test_the_last_administrator_cannot_be_disabled_by_another_without_a_password(app):
    with app.app_context():
        helper = make_user("helper", superuser=True)
        helper_id = helper.id
        make_user("solo", superuser=True)
        # The helper loses their password: only solo can still sign in with one.
        helper.password_hash = None
        db.session.commit()
    solo = signed_in(app, "solo")
    with app.app_context():
        solo_id = db.session.scalar(select(User.id).where(User.username == "solo"))
    post(solo, f"/admin/users/{helper_id}/superuser/remove")  # no password: may go
    assert not user_named(app, "helper").is_superuser
    assert post(solo, f"/admin/users/{solo_id}/superuser/remove").status_code == 303
    assert user_named(app, "solo").is_superuser


# -- password ----------------------------------------------------------------------------------


def test_setting_a_password_ends_the_users_sessions(app, admin, user_id):
    alice = signed_in(app, "alice")
    response = post(
        admin,
        f"/admin/users/{user_id}/password",
        {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 303
    assert alice.get("/me").status_code == 302
    assert check_password(NEW_PASSWORD, user_named(app, "alice").password_hash)
    (event,) = events_of(app, "admin_password_set")
    assert event.detail["sessions_ended"] == 1
    assert NEW_PASSWORD not in str(event.detail) and "bcrypt" not in str(event.detail)


def test_setting_your_own_password_keeps_this_session(app, admin):
    root = user_named(app, "root")
    elsewhere = signed_in(app, "root")
    post(
        admin,
        f"/admin/users/{root.id}/password",
        {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert admin.get("/admin/").status_code == 200
    assert elsewhere.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"password": "", "confirm": ""}, "Enter a password."),
        ({"password": "short", "confirm": "short"}, "Use 8 to 1024 characters."),
        (
            {"password": NEW_PASSWORD, "confirm": "something else"},
            "The two passwords are not the same.",
        ),
        # Sign-up's rules (default-enrollment-password-rules) apply here too.
        ({"password": "password1", "confirm": "password1"}, "This password is too common."),
        (
            {"password": "alice-in-wonderland", "confirm": "alice-in-wonderland"},
            "Don&#39;t use your username in your password.",
        ),
    ],
)
def test_a_bad_password_is_refused_next_to_the_field(app, admin, user_id, fields, message):
    before = user_named(app, "alice").password_hash
    response = post(admin, f"/admin/users/{user_id}/password", fields)
    assert response.status_code == 400
    assert message in text(response)
    assert user_named(app, "alice").password_hash == before


# -- sessions and authenticators ---------------------------------------------------------------


def test_one_session_of_a_user_is_revoked(app, admin, user_id):
    from idp.models import UserSession

    first, second = signed_in(app, "alice"), signed_in(app, "alice")
    with app.app_context():
        newest = db.session.scalar(
            select(UserSession.id)
            .where(UserSession.user_id == user_id)
            .order_by(UserSession.id.desc())
        )
    response = post(admin, f"/admin/users/{user_id}/sessions/{newest}/revoke")
    assert response.status_code == 303
    assert second.get("/me").status_code == 302
    assert first.get("/me").status_code == 200
    assert post(admin, f"/admin/users/{user_id}/sessions/{newest}/revoke").status_code == 404
    (event,) = events_of(app, "admin_session_revoked")
    assert event.detail["before"]["session"] == newest


def test_a_session_of_another_user_is_not_revoked_through_this_one(app, admin, user_id):
    from idp.models import UserSession

    with app.app_context():
        root_session = db.session.scalar(
            select(UserSession.id).join(User).where(User.username == "root")
        )
    assert post(admin, f"/admin/users/{user_id}/sessions/{root_session}/revoke").status_code == 404
    assert admin.get("/admin/").status_code == 200


def test_an_authenticator_is_removed(app, admin, user_id):
    from idp.credentials import authenticators

    with app.app_context():
        authenticators.replace_recovery_codes(db.session.get(User, user_id), 3)
        db.session.commit()
    page = text(admin.get(f"/admin/users/{user_id}"))
    assert "Recovery codes" in page and "3 left" in page
    path = f"/admin/users/{user_id}/authenticators/recovery_codes/0/remove"
    assert post(admin, path).status_code == 303
    assert "Recovery codes" not in text(admin.get(f"/admin/users/{user_id}"))
    assert post(admin, path).status_code == 404
    assert post(admin, f"/admin/users/{user_id}/authenticators/sms/0/remove").status_code == 404
    (event,) = events_of(app, "admin_authenticator_removed")
    assert event.detail["before"] == {"kind": "recovery_codes", "id": 0}


def lapsed_signup(app, username: str, email: str) -> int:
    """An enrollment's unconfirmed account, older than IDP_UNCONFIRMED_SIGNUP_LIFETIME."""
    with app.app_context():
        user = make_user(username, email=email)
        user.is_active = False
        user.signup_plan_hash = "0" * 64
        user.created_at = user.created_at - timedelta(days=2)
        db.session.commit()
        return user.id


def test_a_lapsed_signup_gives_up_its_name_and_address_to_an_administrator(app, admin):
    lapsed_signup(app, "squatter", "squatter@example.test")
    response = post(
        admin, "/admin/users/new", {"username": "Squatter", "email": "squatter@example.test"}
    )
    assert response.status_code == 303
    with app.app_context():
        (user,) = db.session.scalars(select(User).where(User.email == "squatter@example.test"))
        assert user.username == "Squatter" and user.is_active
        assert user.signup_plan_hash is None


def test_a_recent_signup_keeps_its_name_from_an_administrator(app, admin):
    with app.app_context():
        user = make_user("recent", email="recent@example.test")
        user.is_active = False
        user.signup_plan_hash = "0" * 64
        db.session.commit()
    response = post(admin, "/admin/users/new", {"username": "recent"})
    assert response.status_code == 400
    assert "This username is taken." in text(response)


def test_editing_a_lapsed_signup_keeps_it(app, admin):
    old_id = lapsed_signup(app, "dormant", "dormant@example.test")
    fields = {"username": "dormant", "email": "dormant@example.test"}
    response = post(admin, f"/admin/users/{old_id}/edit", fields)
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(User, old_id).username == "dormant"
