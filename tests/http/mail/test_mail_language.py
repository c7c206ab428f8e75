"""Mails in the language of the request that sends them: a German browser's recovery mail is
German, subject and body; an English one stays English."""

from idp.core.extensions import db
from tests.conftest import FlowDriver
from tests.factories import make_user
from tests.smtp_server import text_of

RECOVERY = "default-recovery-flow"


def ask_for_recovery(app, language: str) -> str:
    """The page that says a link was sent."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    driver = FlowDriver(client)
    driver.open(RECOVERY)
    driver.submit(RECOVERY, {"uid_field": "berta"})
    return client.get(f"/flow/{RECOVERY}/").get_data(as_text=True)


def test_a_german_browser_gets_the_recovery_mail_in_german(app, mailbox):
    with app.app_context():
        make_user("berta", email="berta@example.test")
    page = ask_for_recovery(app, "de-AT,de;q=0.9")
    assert "existiert, haben wir ihm einen Link gesendet." in page
    (mail,) = mailbox.wait_for(1)
    assert mail["Subject"] == "Setzen Sie Ihr Passwort bei Gatehouse zurück"
    body = text_of(mail)
    assert body.startswith("Guten Tag,")
    assert "„Passwort zurücksetzen“ fortzusetzen" in body
    assert "Er funktioniert einmal, 30 Minuten lang." in body
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="de">' in html
    assert ">Weiter</a>" in html


def test_a_french_browser_gets_it_in_french_and_an_english_one_in_english(app, mailbox):
    with app.app_context():
        make_user("berta", email="berta@example.test")
    ask_for_recovery(app, "fr")
    (french,) = mailbox.wait_for(1)  # each mail leaves in a thread of its own: one at a time
    ask_for_recovery(app, "en-GB")
    english = mailbox.wait_for(2)[1]
    assert french["Subject"] == "Réinitialisez votre mot de passe Gatehouse"
    assert text_of(french).startswith("Bonjour,")
    assert english["Subject"] == "Reset your Gatehouse password"
    assert text_of(english).startswith("Hello,")


def test_the_language_a_user_chose_beats_the_browser_that_asked(app, mailbox):
    """/me's choice is the "language of pages and mails": a recovery asked for from an
    English browser (the user's own elsewhere, or a stranger's) is mailed in German."""
    with app.app_context():
        make_user("berta", email="berta@example.test").language = "de"
        make_user("carl", email="carl@example.test")
        db.session.commit()
    page = ask_for_recovery(app, "en-GB")
    assert "we sent it a link" in page  # the page stays in the browser's language
    (mail,) = mailbox.wait_for(1)
    assert mail["Subject"] == "Setzen Sie Ihr Passwort bei Gatehouse zurück"
    assert text_of(mail).startswith("Guten Tag,")
    assert '<html lang="de">' in mail.get_body(preferencelist=("html",)).get_content()
