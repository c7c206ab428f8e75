"""The password stage's words fit where it is used: signing in, changing a password, deleting
an account. Options on the stage say them; empty options take the words of the flow's purpose."""

import pytest
import yaml

from idp.core.extensions import db
from idp.models import Stage
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_flow, make_user

AUTH = "default-authentication-flow"
CHANGE = "default-password-change"
UNENROLL = "default-unenrollment-flow"


def signed_in(app, username) -> FlowDriver:
    driver = FlowDriver(app.test_client())
    driver.sign_in(username, PASSWORD)
    return driver


def button(page: str, label: str) -> bool:
    return f'<button type="submit" class="primary">{label}</button>' in page


def test_deleting_your_account_says_delete_and_wrong_password(app):
    with app.app_context():
        make_user("dora")
    driver = signed_in(app, "dora")
    driver.open(UNENROLL)
    driver.submit(UNENROLL, {})  # the warning page
    assert driver.stage == "password"
    assert button(driver.page, "Delete my account")
    assert "Enter your password to delete your account" in driver.text
    assert not button(driver.page, "Sign in")

    driver.submit(UNENROLL, {"password": "not it"})
    assert "Wrong password." in driver.text
    assert "Invalid username or password." not in driver.text


def test_changing_your_password_asks_for_the_current_one_and_says_confirm(app):
    with app.app_context():
        make_user("cleo")
    driver = signed_in(app, "cleo")
    driver.open(CHANGE)
    assert button(driver.page, "Confirm")
    assert '<label for="password">Current password</label>' in driver.page
    # Password managers learn whose password it is.
    assert 'name="username" value="cleo" autocomplete="username"' in driver.page
    driver.submit(CHANGE, {"password": "not it"})
    assert "Wrong password." in driver.text


@pytest.mark.parametrize("uid", ["ghost", "sam"])
def test_signing_in_still_says_sign_in_and_does_not_tell_which_was_wrong(app, flows, uid):
    with app.app_context():
        make_user("sam")
    flows.open(AUTH)
    flows.submit(AUTH, {"uid_field": uid})
    assert flows.stage == "password"
    assert button(flows.page, "Sign in")
    flows.submit(AUTH, {"password": "not it"})
    assert "Invalid username or password." in flows.text
    assert "Wrong password." not in flows.text


def test_a_flow_without_words_takes_those_of_its_purpose(app):
    with app.app_context():
        make_user("uma")
        slug = make_flow(
            [{"define": {"name": "bare-unenroll-password", "type": "password"}}],
            designation="unenrollment",
            authentication="require_authenticated",
        )
    driver = signed_in(app, "uma")
    driver.open(slug)
    assert button(driver.page, "Delete my account")
    driver.submit(slug, {"password": "not it"})
    assert "Wrong password." in driver.text


def test_words_set_on_the_stage_are_shown(app):
    with app.app_context():
        make_user("val")
        slug = make_flow(
            [
                {
                    "define": {
                        "name": "worded-password",
                        "type": "password",
                        "options": {
                            "heading": "Prove it is you.",
                            "password_label": "Your secret",
                            "submit_label": "Go on",
                            "failure_message": "Nope, try again.",
                        },
                    }
                }
            ],
            designation="stage_configuration",
            authentication="require_authenticated",
        )
    driver = signed_in(app, "val")
    driver.open(slug)
    assert "Prove it is you." in driver.text
    assert '<label for="password">Your secret</label>' in driver.page
    assert button(driver.page, "Go on")
    driver.submit(slug, {"password": "not it"})
    assert "Nope, try again." in driver.text


def test_the_words_travel_in_flow_files_and_old_files_stay_valid(app, runner, tmp_path):
    exported = runner.invoke(args=["flows", "export", CHANGE])
    assert exported.exit_code == 0, exported.output
    document = yaml.safe_load(exported.output)
    (stage,) = [row for row in document["stages"] if row["type"] == "password"]
    assert stage["options"]["submit_label"] == "Confirm"
    assert stage["options"]["password_label"] == "Current password"

    # A file written before the stage had words: no options at all.
    old = tmp_path / "old.yaml"
    old.write_text(
        "version: 1\n"
        "flow: {slug: old-style, name: Old, designation: authentication,\n"
        "       stages: [{stage: old-style-password, order: 10}]}\n"
        "stages: [{name: old-style-password, type: password}]\n"
    )
    imported = runner.invoke(args=["flows", "import", str(old)])
    assert imported.exit_code == 0, imported.output
    with app.app_context():
        stage = db.session.query(Stage).filter_by(name="old-style-password").one()
        assert stage.options in ({}, None) or stage.options.get("submit_label", "") == ""


@pytest.mark.parametrize("name", ["heading", "submit_label", "failure_message"])
def test_overlong_words_are_refused_with_the_option_named(app, runner, tmp_path, name):
    path = tmp_path / "long.yaml"
    path.write_text(
        "version: 1\n"
        "flow: {slug: long-words, name: Long, designation: authentication,\n"
        "       stages: [{stage: long-words-password, order: 10}]}\n"
        "stages: [{name: long-words-password, type: password,\n"
        f"          options: {{{name}: {'x' * 300}}}}}]\n"
    )
    result = runner.invoke(args=["flows", "import", str(path)])
    assert result.exit_code == 2
    assert name in result.output
