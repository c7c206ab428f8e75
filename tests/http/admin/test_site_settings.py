"""The admin's Settings page: the same settings as `idp settings`, changed with a POST form."""

import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.models import SiteSetting
from tests.http.admin.conftest import events_of, post, signed_in, text

SETTINGS = "/admin/settings"


@pytest.fixture
def stored_settings():
    return {}  # a fresh install


def stored(app) -> dict:
    with app.app_context():
        return dict(db.session.execute(select(SiteSetting.key, SiteSetting.value)).all())


def test_the_settings_page_shows_sign_up_off_on_a_fresh_install(admin):
    page = text(admin.get(SETTINGS))
    assert 'id="enrollment" name="enrollment"' in page
    assert '<option selected value="off">off</option>' in page
    assert 'href="/admin/settings"' in text(admin.get("/admin/"))


def test_an_admin_turns_sign_up_on_and_the_change_is_recorded(app, admin, admin_name, client):
    response = post(admin, SETTINGS, {"enrollment": "on"})
    assert response.status_code == 303 and response.headers["Location"] == SETTINGS
    assert stored(app) == {"enrollment": "on"}
    assert "Settings saved." in text(admin.get(SETTINGS))
    (event,) = events_of(app, "setting_changed")
    assert event.username == admin_name
    assert event.detail["before"] == {"enrollment": "off"}
    assert event.detail["after"] == {"enrollment": "on"}
    sign_in_page = text(client.get("/flow/default-authentication-flow/"))
    assert "Create an account" in sign_in_page


def test_saving_the_same_value_records_nothing(app, admin):
    post(admin, SETTINGS, {"enrollment": "off"})
    assert events_of(app, "setting_changed") == []
    assert "Nothing changed." in text(admin.get(SETTINGS))


@pytest.mark.parametrize("value", ["maybe", "", "on " * 100])
def test_a_bad_value_is_refused_and_nothing_is_written(app, admin, value):
    response = post(admin, SETTINGS, {"enrollment": value})
    assert response.status_code == 400
    assert "enrollment must be one of on, off" in text(response)
    assert stored(app) == {}


def test_a_post_without_csrf_changes_nothing(app, admin):
    response = post(admin, SETTINGS, {"enrollment": "on"}, csrf=False)
    assert response.status_code == 400
    assert stored(app) == {}


def test_a_plain_user_may_not_change_settings(app, user_id):
    browser = signed_in(app, "alice")
    assert browser.get(SETTINGS).status_code == 403
    assert post(browser, SETTINGS, {"enrollment": "on"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SiteSetting)) == 0
