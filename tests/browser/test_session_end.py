"""Back at a signed-in page after the session ended (left idle past IDP_SESSION_IDLE_TIMEOUT),
in a browser: a dialog htmx asks for reloads the page instead of filling with the sign-in page,
and a plain form posted (from /me, or an admin confirmation) goes to sign in and back to the
page it was on, found from the Referer Chromium sends under Referrer-Policy: same-origin."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from idp.core.extensions import db
from idp.models import Application, Consent, User, UserSession
from idp.models.types import utcnow
from tests.browser.pages import LOGIN_FLOW, enter_password, identify, sign_in, url_path
from tests.factories import PASSWORD
from tests.http.applications.oidc import make_client

pytestmark = pytest.mark.usefixtures("instance_is_set_up")

STAGES_PAGE = "/admin/flows/default-authentication-flow/stages"
# Past the default idle timeout (30 minutes).
LONG_AGO = timedelta(minutes=31)


def leave_idle(app) -> None:
    """Every session was last seen longer ago than the idle timeout allows: all have ended."""
    with app.app_context():
        db.session.execute(update(UserSession).values(last_seen_at=utcnow() - LONG_AGO))
        db.session.commit()


def revoke_all(app) -> None:
    """Every session was signed out (from another browser, or by an administrator)."""
    with app.app_context():
        db.session.execute(update(UserSession).values(revoked_at=utcnow()))
        db.session.commit()


def record_error_answers(page) -> list[str]:
    """Every 4xx/5xx answer the page gets, as "status url"."""
    failures = []
    page.on(
        "response",
        lambda response: (
            failures.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    return failures


def sign_in_again(page, username: str, next_path: str) -> None:
    """On the sign-in page that comes back to `next_path`, sign in."""
    expect(page).to_have_url(url_path(LOGIN_FLOW + r"\?next=" + next_path + r"(&step=\d+)?$"))
    identify(page, username)
    enter_password(page, PASSWORD)


@pytest.mark.parametrize("javascript", [True], ids=["js-on"])
def test_a_dialog_asked_for_after_the_session_ended_reloads_the_page_to_sign_in(visitor, app):
    failures = record_error_answers(visitor)
    visitor.goto(STAGES_PAGE)
    sign_in_again(visitor, "admin", STAGES_PAGE)
    expect(visitor).to_have_url(url_path(STAGES_PAGE + "$"))
    opener = visitor.locator("li.stage-binding").first.get_by_role("link", name="Remove…")
    expect(opener).to_be_visible()
    visitor.evaluate("window.__marker = 1")
    leave_idle(app)

    with visitor.expect_response(lambda response: "/remove" in response.url) as answer:
        opener.click()
    assert answer.value.status == 200 and answer.value.headers.get("hx-refresh") == "true"

    # The whole page went to sign in (htmx followed HX-Refresh), not the dialog slot.
    sign_in_again(visitor, "admin", STAGES_PAGE)
    expect(visitor).to_have_url(url_path(STAGES_PAGE + "$"))
    assert visitor.evaluate("window.__marker") is None  # a new page, not a swap
    expect(visitor.locator(".dialog-slot *")).to_have_count(0)
    # Signed in again, the same dialog opens in place.
    visitor.locator("li.stage-binding").first.get_by_role("link", name="Remove…").click()
    dialog = visitor.get_by_role("alertdialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Remove the binding")).to_be_visible()
    expect(dialog.locator("input[name=password]")).to_have_count(0)
    assert failures == []


@pytest.mark.parametrize("javascript", [True], ids=["js-on"])
def test_a_dialog_form_sent_by_htmx_after_the_session_ended_reloads_the_page_to_sign_in(
    visitor, app
):
    failures = record_error_answers(visitor)
    visitor.goto(STAGES_PAGE)
    sign_in_again(visitor, "admin", STAGES_PAGE)
    binding = visitor.locator("li.stage-binding").first
    binding.locator("summary").click()
    binding.get_by_role("link", name="Bind existing policy/group/user").click()
    dialog = binding.locator(".binding-dialog")
    dialog.get_by_role("link", name="User").click()
    dialog.get_by_label("User").fill("admin")
    leave_idle(app)

    with visitor.expect_response(lambda response: response.request.method == "POST") as answer:
        dialog.get_by_role("button", name="Create").click()
    assert answer.value.status == 200 and answer.value.headers.get("hx-refresh") == "true"

    sign_in_again(visitor, "admin", STAGES_PAGE)
    expect(visitor).to_have_url(url_path(STAGES_PAGE + "$"))
    expect(visitor.locator(".binding-dialog")).to_have_count(0)
    assert failures == []


@pytest.mark.parametrize("javascript", [True], ids=["js-on"])
def test_a_removal_confirmed_after_the_session_ended_comes_back_to_its_page(visitor, app):
    """The confirm dialog's button is a plain form: it goes to sign in and back to the page."""
    failures = record_error_answers(visitor)
    visitor.goto(STAGES_PAGE)
    sign_in_again(visitor, "admin", STAGES_PAGE)
    visitor.locator("li.stage-binding").first.get_by_role("link", name="Remove…").click()
    dialog = visitor.get_by_role("alertdialog")
    expect(dialog).to_be_visible()
    leave_idle(app)

    dialog.get_by_role("button", name="Remove the binding").click()

    sign_in_again(visitor, "admin", STAGES_PAGE)
    expect(visitor).to_have_url(url_path(STAGES_PAGE + "$"))
    expect(visitor.get_by_role("alertdialog")).to_have_count(0)
    assert failures == []


@pytest.mark.parametrize("end_session", [leave_idle, revoke_all], ids=["idle", "revoked"])
def test_saving_the_language_after_the_session_ended_comes_back_to_me(
    visitor, app, make_user, end_session
):
    failures = record_error_answers(visitor)
    username = make_user()
    sign_in(visitor, username, PASSWORD)
    expect(visitor).to_have_url(url_path("/me$"))
    end_session(app)

    visitor.get_by_label("Language of pages and mails").select_option("de")
    visitor.get_by_role("button", name="Save language").click()

    sign_in_again(visitor, username, "/me")
    expect(visitor).to_have_url(url_path("/me$"))
    expect(visitor.get_by_role("button", name="Save language")).to_be_visible()
    assert failures == []


def test_signing_out_everywhere_else_after_the_session_ended_comes_back_to_me(
    visitor, app, make_user, new_context
):
    username = make_user()
    sign_in(new_context().new_page(), username, PASSWORD)
    failures = record_error_answers(visitor)
    sign_in(visitor, username, PASSWORD)
    expect(visitor).to_have_url(url_path("/me$"))
    button = visitor.get_by_role("button", name="Sign out everywhere else")
    expect(button).to_be_visible()
    leave_idle(app)

    button.click()

    sign_in_again(visitor, username, "/me")
    expect(visitor).to_have_url(url_path("/me$"))
    expect(visitor.get_by_role("heading", level=1)).to_contain_text("Hello")
    assert failures == []


def test_withdrawing_a_consent_after_the_session_ended_comes_back_to_the_applications(
    visitor, app, make_user
):
    """Back to /me/applications, not the default page (/me): the Referer is what says where.
    The consent that ran out is marked so, before and after."""
    username = make_user()
    make_client(app)
    with app.app_context():
        db.session.add(
            Consent(
                user_id=db.session.scalar(select(User.id).where(User.username == username)),
                subject="application:rp",
                application_id=db.session.scalar(
                    select(Application.id).where(Application.slug == "rp")
                ),
                scopes=["openid"],
                expires_at=utcnow() - timedelta(minutes=1),
            )
        )
        db.session.commit()
    failures = record_error_answers(visitor)
    sign_in(visitor, username, PASSWORD)
    expect(visitor).to_have_url(url_path("/me$"))
    visitor.goto("/me/applications")
    grants = visitor.locator("table.consents")
    expect(grants.get_by_role("row", name="RP")).to_contain_text("(expired)")
    leave_idle(app)

    grants.get_by_role("button", name="Withdraw").click()

    sign_in_again(visitor, username, "/me/applications")
    expect(visitor).to_have_url(url_path("/me/applications$"))
    expect(visitor.locator("table.consents").get_by_role("row", name="RP")).to_contain_text(
        "(expired)"
    )
    assert failures == []
