"""The email stage and its link, against a real SMTP server on loopback."""

import hashlib
import logging
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from idp.core.extensions import db
from idp.core.mail import wait_for_mail
from idp.core.options import OptionsError, parse_options
from idp.flows.context import EMAIL_SENT_FOR, EMAIL_VERIFIED, PENDING_USER_ID
from idp.flows.plan import PLANS_KEY
from idp.models import Event, FlowToken, Stage, User
from idp.models.types import utcnow
from idp.stages.email.options import EmailOptions
from idp.stages.email.stage import masked
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_flow, make_user, unique
from tests.http.test_executor import session_of
from tests.smtp_server import free_port, link_in

RECOVERY = "default-recovery-flow"
SENT = "If an account exists for"
SENT_AGAIN = "We sent another link."
TOO_MANY = "You asked for several links; try again later."


@pytest.fixture
def mail_logs():
    """The records logged by idp.core.mail during the test ("idp" does not propagate to root)."""
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("idp.core.mail")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


@pytest.fixture
def alice(app):
    with app.app_context():
        return make_user("alice", email="alice@example.test").id


def ask_for_link(flows, name, slug=RECOVERY, htmx=False):
    flows.open(slug)
    return flows.submit(slug, {"uid_field": name}, htmx=htmx)


def prose(text: str) -> str:
    """Page text as one line, without the spaces that tags left before punctuation."""
    return re.sub(r"\s+([,.])", r"\1", " ".join(text.split()))


def mails_sent(mailbox) -> int:
    wait_for_mail()
    return len(mailbox.messages)


def path_of(link: str) -> str:
    return urlsplit(link).path


def token_rows(app) -> list[FlowToken]:
    with app.app_context():
        return list(db.session.scalars(select(FlowToken).order_by(FlowToken.id)))


# --- sending ----------------------------------------------------------------------------------


def test_arriving_at_the_stage_mails_a_link_to_the_account_once(app, flows, mailbox, alice):
    response = ask_for_link(flows, "alice")
    assert response.status_code == 303
    assert flows.stage == "email"
    assert "If an account exists for alice, we sent it a link." in prose(flows.text)
    assert "It works for 30 minutes." in flows.text
    flows.open(RECOVERY)  # a reload sends nothing more
    assert mails_sent(mailbox) == 1
    mail = mailbox.messages[0]
    assert mail["To"] == "alice@example.test"
    assert mail["Subject"] == "Reset your Gatehouse password"
    assert mail.get_body(preferencelist=("html",)) is not None
    assert link_in(mail).startswith("http://localhost/flow/email/")


def test_a_typed_address_is_shown_masked(app, flows, mailbox, alice):
    ask_for_link(flows, "alice@example.test")
    assert "a***@example.test" in flows.text
    assert "alice@example.test" not in flows.page


def test_links_use_the_base_url_when_it_is_set(app, flows, mailbox, alice):
    app.config["BASE_URL"] = "https://id.example.test"
    ask_for_link(flows, "alice")
    assert mailbox.last_link().startswith("https://id.example.test/flow/email/")


def test_the_token_is_only_in_the_mail_and_only_its_hash_is_stored(app, flows, mailbox, alice):
    ask_for_link(flows, "alice")
    token = mailbox.last_link().rsplit("/", 1)[1]
    (row,) = token_rows(app)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(session_of(app, flows.client))
    assert token not in str(row.plan)
    assert token not in flows.page


@pytest.mark.parametrize("htmx", [False, True])
def test_send_again_mails_another_link_and_says_so(app, flows, mailbox, alice, htmx):
    ask_for_link(flows, "alice")
    response = flows.submit(RECOVERY, {}, htmx=htmx)
    if htmx:
        assert response.status_code == 200
    else:  # the same step, at its own address: Back from it goes where Back went before
        assert response.status_code == 303 and "?step=" in response.headers["Location"]
    assert SENT_AGAIN in flows.text
    assert flows.stage == "email"
    assert mails_sent(mailbox) == 2
    assert link_in(mailbox.messages[0]) != link_in(mailbox.messages[1])


def limited_flow(options):
    """Identification, then an email stage with these options."""
    return make_flow(
        [
            {"stage": "default-recovery-identification"},
            {"define": {"name": unique("mail-"), "type": "email", "options": options}},
        ],
        designation="recovery",
    )


@pytest.mark.parametrize("name", ["alice", "nobody"])
def test_past_the_hourly_limit_links_are_refused_politely(app, flows, mailbox, alice, name):
    with app.app_context():
        slug = limited_flow({"sends_per_hour": 2})
    ask_for_link(flows, name, slug)
    flows.submit(slug, {})
    assert SENT_AGAIN in flows.text
    response = flows.submit(slug, {})
    assert response.status_code == 303
    assert TOO_MANY in flows.text
    assert flows.stage == "email"
    assert mails_sent(mailbox) == (2 if name == "alice" else 0)


def test_the_limit_counts_links_asked_from_other_browsers_too(app, client, mailbox, alice):
    with app.app_context():
        slug = limited_flow({"sends_per_hour": 1})
    ask_for_link(FlowDriver(app.test_client()), "alice", slug)
    other = FlowDriver(app.test_client())
    ask_for_link(other, "alice", slug)
    other.submit(slug, {})
    assert TOO_MANY in other.text
    assert mails_sent(mailbox) == 1


def test_an_unknown_name_gets_the_same_page_and_cookie_and_no_mail(app, mailbox, alice):
    answers = {}
    for name in ("alice", "nobody"):
        flows = FlowDriver(app.test_client())
        response = ask_for_link(flows, name)
        session = session_of(app, flows.client)
        answers[name] = (
            response.status_code,
            flows.text.replace(name, "NAME"),
            sorted(session),
            sorted(session[PLANS_KEY][RECOVERY]["context"]),
        )
    assert answers["alice"] == answers["nobody"]
    assert SENT in answers["nobody"][1]
    assert mails_sent(mailbox) == 1
    assert mailbox.messages[0]["To"] == "alice@example.test"


def test_an_inactive_account_gets_no_recovery_mail(app, flows, mailbox):
    with app.app_context():
        make_user("sleepy", active=False)
    ask_for_link(flows, "sleepy")
    assert SENT in flows.text
    assert mails_sent(mailbox) == 0


def test_a_failing_mail_server_is_logged_and_the_page_is_unchanged(
    app, flows, mailbox, alice, mail_logs
):
    app.config["SMTP_PORT"] = free_port()  # nothing listens there
    response = ask_for_link(flows, "alice")
    wait_for_mail()
    assert response.status_code == 303
    assert SENT in flows.text
    (record,) = mail_logs
    assert record.getMessage() == "mail could not be sent"
    assert record.to == "alice@example.test"


def test_laptop_mode_writes_the_mail_to_the_log(app, flows, mailbox, alice, mail_logs):
    app.config["SMTP_HOST"] = ""
    ask_for_link(flows, "alice")
    assert mails_sent(mailbox) == 0
    (record,) = mail_logs
    assert record.to == "alice@example.test"
    assert "/flow/email/" in record.text


# --- following the link -----------------------------------------------------------------------


def test_the_link_continues_the_flow_after_the_email_stage(app, flows, mailbox, alice):
    ask_for_link(flows, "alice")
    response = flows.client.get(path_of(mailbox.last_link()))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/flow/{RECOVERY}/"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    flows.open(RECOVERY)
    assert flows.stage == "prompt"
    context = session_of(app, flows.client)[PLANS_KEY][RECOVERY]["context"]
    assert context[PENDING_USER_ID] == alice
    assert context[EMAIL_VERIFIED] is True
    assert EMAIL_SENT_FOR in context


def test_the_link_signs_nobody_in_by_itself(app, flows, mailbox, alice):
    ask_for_link(flows, "alice")
    flows.client.get(path_of(mailbox.last_link()))
    assert flows.client.get("/me").status_code == 302


def test_a_used_link_is_refused(app, flows, mailbox, alice):
    ask_for_link(flows, "alice")
    path = path_of(mailbox.last_link())
    assert flows.client.get(path).status_code == 303
    again = app.test_client().get(path)
    assert again.status_code == 410
    assert "already used or has expired" in again.get_data(as_text=True)
    assert f"/flow/{RECOVERY}/restart" in again.get_data(as_text=True)


def test_using_one_link_voids_the_others_sent_for_the_same_account(app, flows, mailbox, alice):
    ask_for_link(flows, "alice")
    flows.submit(RECOVERY, {})
    first, second = (link_in(mail) for mail in mailbox.wait_for(2))
    assert app.test_client().get(path_of(second)).status_code == 303
    assert app.test_client().get(path_of(first)).status_code == 410


def test_an_expired_link_is_refused(app, flows, mailbox, alice):
    ask_for_link(flows, "alice")
    with app.app_context():
        db.session.execute(update(FlowToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = flows.client.get(path_of(mailbox.last_link()))
    assert response.status_code == 410
    flows.open(RECOVERY)
    assert flows.stage == "email"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: token[:20],
        lambda token: token + "x" * 200,
    ],
    ids=["changed", "cut", "long"],
)
def test_a_tampered_link_is_refused(app, flows, mailbox, alice, tamper):
    ask_for_link(flows, "alice")
    token = mailbox.last_link().rsplit("/", 1)[1]
    response = flows.client.get(f"/flow/email/{tamper(token)}")
    assert response.status_code == 400
    assert "This link is not valid" in response.get_data(as_text=True)
    assert flows.client.get(f"/flow/email/{token}").status_code == 303


def test_a_link_opened_from_another_site_waits_for_a_click(app, flows, mailbox, alice):
    ask_for_link(flows, "alice")
    path = path_of(mailbox.last_link())
    other = app.test_client()
    page = other.get(path, headers={"Sec-Fetch-Site": "cross-site"})
    assert page.status_code == 200
    assert token_rows(app)[0].used_at is None
    html = page.get_data(as_text=True)
    assert 'name="csrf_token"' in html
    assert other.post(path).status_code == 400  # no CSRF token
    token = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert other.post(path, data={"csrf_token": token}).status_code == 303
    assert token_rows(app)[0].used_at is not None


def test_a_signed_in_browser_is_refused_and_the_link_stays_usable(app, flows, mailbox, alice):
    ask_for_link(flows, "alice")
    path = path_of(mailbox.last_link())
    signed_in = FlowDriver(app.test_client())
    with app.app_context():
        make_user("bob")
    signed_in.sign_in("bob", PASSWORD)
    response = signed_in.client.get(path)
    assert response.status_code == 403
    assert "already signed in" in response.get_data(as_text=True)
    assert app.test_client().get(path).status_code == 303


def test_a_link_for_a_flow_changed_since_is_refused(app, flows, mailbox, alice):
    ask_for_link(flows, "alice")
    with app.app_context():
        db.session.execute(
            update(Stage)
            .where(Stage.name == "default-recovery-email")
            .values(options={"subject": "Changed"})
        )
        db.session.commit()
    response = flows.client.get(path_of(mailbox.last_link()))
    assert response.status_code == 410
    assert "flow changed" in response.get_data(as_text=True)
    assert token_rows(app)[0].used_at is None


def test_following_the_link_is_recorded(app, flows, mailbox, alice):
    ask_for_link(flows, "alice")
    flows.client.get(path_of(mailbox.last_link()))
    with app.app_context():
        actions = list(db.session.scalars(select(Event.action).order_by(Event.id)))
    assert "email_link_requested" in actions and "email_link_used" in actions


def test_a_stage_that_activates_mails_an_inactive_account_and_activates_it(app, flows, mailbox):
    with app.app_context():
        slug = limited_flow({"activate_user_on_success": True})
        make_user("dormant", active=False)
    ask_for_link(flows, "dormant", slug)
    flows.client.get(path_of(mailbox.last_link()))
    with app.app_context():
        assert db.session.scalar(select(User.is_active).where(User.username == "dormant"))


# --- options and helpers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "place"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "Hi\r\nBcc: everyone@example.test"}, "subject"),
        ({"token_expiry_minutes": 0}, "token_expiry_minutes"),
        ({"sends_per_hour": 0}, "sends_per_hour"),
        ({"activate_user_on_success": "yes"}, "activate_user_on_success"),
    ],
)
def test_bad_options_name_their_field(options, place):
    with pytest.raises(OptionsError) as error:
        parse_options(EmailOptions, options)
    assert error.value.place == place


@pytest.mark.parametrize(
    ("value", "shown"),
    [("alice@example.com", "a***@example.com"), ("alice", "alice"), ("@odd", "@odd")],
)
def test_addresses_are_masked_and_names_are_not(value, shown):
    assert masked(value) == shown


def test_a_mail_scanner_fetching_the_link_does_not_spend_it(app, flows, mailbox, alice):
    from flask.testing import FlaskClient

    ask_for_link(flows, "alice")
    path = path_of(mailbox.last_link())
    scanner = FlaskClient(app, app.response_class)  # no Fetch Metadata headers at all
    page = scanner.get(path)
    assert page.status_code == 200 and "Continue" in page.get_data(as_text=True)
    assert app.test_client().get(path).status_code == 303
