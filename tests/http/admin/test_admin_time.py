"""An administrator back at an admin page after the session ended, with the clock moved
(time-machine): a part of the page htmx asks for (a dialog) must not fill with the sign-in
page; the page reloads and the plain request for it goes to sign in and back."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Application, Consent
from tests.http.admin.conftest import signed_in, text
from tests.http.applications.oidc import make_client

IDLE = timedelta(minutes=30)  # IDP_SESSION_IDLE_TIMEOUT's default
SECOND = timedelta(seconds=1)
PAGE = "/admin/flows/default-authentication-flow/stages"
HTMX = {"HX-Request": "true", "HX-Current-URL": f"http://localhost{PAGE}"}


@pytest.fixture
def admin(app, admin_name, clock):
    """Signed in on the stopped clock."""
    return signed_in(app, admin_name)


@pytest.fixture
def dialog_url(admin, clock) -> str:
    """The admin on a flow's stages page; the address its first dialog is asked from."""
    page = admin.get(PAGE)
    assert page.status_code == 200
    return unescape(re.search(r'hx-get="([^"]+)"', text(page)).group(1))


def test_a_dialog_opens_until_the_idle_timeout(admin, dialog_url, clock):
    clock.shift(IDLE - SECOND)
    response = admin.get(dialog_url, headers=HTMX)
    assert response.status_code == 200 and "HX-Refresh" not in response.headers
    assert "Sign in" not in text(response)


def test_a_dialog_asked_for_after_the_idle_timeout_reloads_the_page(admin, dialog_url, clock):
    clock.shift(IDLE)

    response = admin.get(dialog_url, headers=HTMX)

    assert response.status_code == 200
    assert response.headers["HX-Refresh"] == "true"
    assert "Location" not in response.headers and "Sign in" not in text(response)
    reloaded = admin.get(PAGE)  # what the browser does next
    assert reloaded.status_code == 302
    assert reloaded.headers["Location"] == f"/login?next={PAGE}"


def test_the_dialog_address_opened_as_a_page_after_the_idle_timeout_goes_to_sign_in(
    admin, dialog_url, clock
):
    clock.shift(IDLE)
    response = admin.get(dialog_url)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next={dialog_url}"


CONSENT_LIFETIME = timedelta(minutes=20)  # within the admin's idle timeout


@pytest.mark.parametrize(
    ("age", "is_expired"), [(CONSENT_LIFETIME - SECOND, False), (CONSENT_LIFETIME, True)]
)
def test_the_consent_grants_mark_one_that_ran_out(app, admin, user_id, clock, age, is_expired):
    make_client(app)
    with app.app_context():
        application = db.session.scalar(select(Application).where(Application.slug == "rp"))
        db.session.add(
            Consent(
                user_id=user_id, subject=f"application:{application.id}",
                application_id=application.id, scopes=["openid"],
                expires_at=datetime.now(UTC) + CONSENT_LIFETIME,
            )
        )  # fmt: skip
        db.session.commit()
    clock.shift(age)
    page = text(admin.get("/admin/applications/rp/tokens"))
    grants = page.split('<table class="consents">', 1)[1].split("</table>", 1)[0]
    assert "alice" in grants
    assert ("(expired)" in grants) is is_expired
