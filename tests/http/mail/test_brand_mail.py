"""Mails carry the brand: the sender's name, the subjects (with {product_name} filled in), the
product name in the text and the accent and logo in the HTML."""

import io

import pytest
from sqlalchemy import select

from idp.brand.settings import forget_cached_brand, save_brand
from idp.core.extensions import db
from idp.core.mail import wait_for_mail
from idp.credentials.reauthentication import notify_added
from idp.models import User
from tests.factories import make_user
from tests.http.brand.images import png
from tests.http.brand.test_brand_settings import BRAND, VALUES, signed_in, token_of
from tests.http.mail.test_email_stage import ask_for_link
from tests.http.mail.test_signups import sign_up
from tests.smtp_server import text_of


@pytest.fixture
def acme(app):
    with app.app_context():
        make_user("alice", email="alice@example.test")
        save_brand(VALUES)
        db.session.commit()
        forget_cached_brand()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def test_a_recovery_mail_comes_from_the_brand_with_its_subject_and_colours(
    app, flows, mailbox, acme
):
    ask_for_link(flows, "alice")
    (mail,) = mailbox.wait_for(1)
    assert mail["From"] == "Acme Support <gatehouse@localhost>"
    # The shipped recovery flow's subject is "Reset your {product_name} password".
    assert mail["Subject"] == "Reset your Acme ID password"
    assert text_of(mail).replace("\r\n", "\n").rstrip().endswith("\n-- \nAcme ID")
    html = html_of(mail)
    assert "background: #0b6e4f; color: #ffffff;" in html
    assert "Gatehouse" not in text_of(mail) + html


def test_the_notice_to_a_taken_address_has_the_brands_subject(app, mailbox, acme):
    sign_up(app, username="newbie", email="alice@example.test")
    (notice,) = mailbox.wait_for(1)
    assert notice["Subject"] == "You already have an Acme ID account"
    assert "Acme ID" in text_of(notice)


def test_the_authenticator_added_mail_has_the_brands_subject(app, mailbox, acme):
    with app.test_request_context():
        notify_added(db.session.scalar(select(User).where(User.username == "alice")), "totp")
        app.process_response(app.response_class())  # the mail leaves once a response is made
    (mail,) = mailbox.wait_for(1)
    assert mail["Subject"] == "New way into Acme ID"
    assert mail["From"] == "Acme Support <gatehouse@localhost>"


def test_without_a_sender_name_mails_come_from_the_product_name(app, flows, mailbox, acme):
    with app.app_context():
        save_brand({"mail_sender_name": ""})
        db.session.commit()
        forget_cached_brand()
    ask_for_link(flows, "alice")
    (mail,) = mailbox.wait_for(1)
    assert mail["From"] == "Acme ID <gatehouse@localhost>"


def test_an_html_mail_shows_the_logo_from_the_base_url(app, flows, mailbox, acme):
    app.config["BASE_URL"] = "https://id.acme.example"
    admin_name = "root"
    with app.app_context():
        make_user(username=admin_name, superuser=True)
    admin = signed_in(app, admin_name)
    form = {**VALUES, "csrf_token": token_of(admin), "logo": (io.BytesIO(png()), "l.png")}
    assert admin.post(BRAND, data=form, content_type="multipart/form-data").status_code == 303
    ask_for_link(flows, "alice")
    html = html_of(mailbox.wait_for(1)[0])
    assert '<img src="https://id.acme.example/brand/files/' in html
    assert 'alt="Acme ID"' in html


def test_an_encoded_word_in_brand_text_adds_no_header_and_shows_as_written(
    app, flows, mailbox, acme
):
    """Python decodes "=?charset?q?...?=" in a header value it is given, and writes out the
    decoded CR LF as it is: a product name could have added a Bcc."""
    trap = "=?utf-8?q?x=0D=0ABcc:_eve@example.test?="
    with app.app_context():
        save_brand({"product_name": f"Acme 2+2=? {trap}", "mail_sender_name": f"Support {trap}"})
        db.session.commit()
        forget_cached_brand()
    ask_for_link(flows, "alice")
    (mail,) = mailbox.wait_for(1)
    assert mailbox.recipients == [["alice@example.test"]]
    assert "Bcc" not in mail
    # (stripped: Python folds a subject this long before its first word)
    assert [subject.strip() for subject in mail.get_all("Subject")] == [
        "Reset your Acme 2+2=? = ?utf-8?q?x=0D=0ABcc:_eve@example.test?= password"
    ]
    assert mail["From"].addresses[0].addr_spec == "gatehouse@localhost"
    assert (
        mail["From"].addresses[0].display_name
        == "Support = ?utf-8?q?x=0D=0ABcc:_eve@example.test?="
    )


def test_an_address_that_reads_as_two_gets_no_mail(app, flows, mailbox, acme):
    """An address stored before the form refused it ("carl,bob@example.test") is two
    recipients to a To header: the mail goes to nobody rather than to bob."""
    with app.app_context():
        make_user("carl", email="carl,bob@example.test")
    assert ask_for_link(flows, "carl").status_code == 303
    wait_for_mail()
    assert mailbox.recipients == []
