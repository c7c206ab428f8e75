"""Going back a step: every stage page has its own address (?step=), an earlier step's address
shows that step again and changes nothing, and answering it there puts the plan back to that
point, proofs included. Past a stage that acted once (a mail sent), there is no going back."""

import re

import pytest

from tests.conftest import FlowDriver, stage_of
from tests.factories import PASSWORD, make_flow, make_user
from tests.http.test_executor import session_of

UNENROLL = "default-unenrollment-flow"
RECOVERY = "default-recovery-flow"


def step_of(page: str) -> int:
    match = re.search(r'data-step-url="[^"]*step=(\d+)"', page)
    assert match, "the stage names no step address"
    return int(match.group(1))


def signed_in(app, username) -> FlowDriver:
    driver = FlowDriver(app.test_client())
    driver.sign_in(username, PASSWORD)
    return driver


def get(driver: FlowDriver, slug: str, step: int):
    response = driver.client.get(f"/flow/{slug}/?step={step}")
    driver.page = response.get_data(as_text=True)
    return response


def post(driver: FlowDriver, slug: str, step: int, data: dict, htmx=False):
    from tests.conftest import csrf_token

    headers = FlowDriver.HTMX if htmx else {}
    form = {"csrf_token": csrf_token(driver.page), **data}
    response = driver.client.post(f"/flow/{slug}/?step={step}", data=form, headers=headers)
    if response.status_code == 303:
        driver.page = driver.client.get(response.headers["Location"]).get_data(as_text=True)
    else:
        driver.page = response.get_data(as_text=True)
    return response


@pytest.fixture
def dora(app):
    with app.app_context():
        make_user("dora")
    return signed_in(app, "dora")


def test_each_step_has_its_address_and_a_plain_answer_goes_to_the_next_ones(app, dora):
    dora.open(UNENROLL)
    warning = step_of(dora.page)
    response = post(dora, UNENROLL, warning, {})
    password = step_of(dora.page)
    assert response.headers["Location"] == f"/flow/{UNENROLL}/?step={password}"
    assert stage_of(dora.page) == "password" and password != warning


def test_an_htmx_answer_pushes_the_next_steps_address(app, dora):
    dora.open(UNENROLL)
    response = post(dora, UNENROLL, step_of(dora.page), {}, htmx=True)
    assert response.headers["HX-Push-Url"] == f"/flow/{UNENROLL}/?step={step_of(dora.page)}"


def test_an_earlier_steps_address_shows_it_and_changes_nothing(app, dora):
    dora.open(UNENROLL)
    warning = step_of(dora.page)
    post(dora, UNENROLL, warning, {})
    plan_before = session_of(app, dora.client)["plans"][UNENROLL]

    response = get(dora, UNENROLL, warning)
    assert response.status_code == 200
    assert stage_of(dora.page) == "prompt" and "cannot be undone" in dora.page
    assert f'action="/flow/{UNENROLL}/?step={warning}"' in dora.page
    assert session_of(app, dora.client)["plans"][UNENROLL] == plan_before
    dora.open(UNENROLL)
    assert stage_of(dora.page) == "password"  # the flow is still where it was


def test_answering_an_earlier_step_goes_on_from_there(app, dora):
    dora.open(UNENROLL)
    warning = step_of(dora.page)
    post(dora, UNENROLL, warning, {})
    get(dora, UNENROLL, warning)
    post(dora, UNENROLL, warning, {})
    assert stage_of(dora.page) == "password"
    post(dora, UNENROLL, step_of(dora.page), {"password": PASSWORD})
    assert dora.client.get("/me").status_code == 302  # the account is gone


def test_going_back_to_who_you_are_undoes_the_proof_that_followed(app):
    with app.app_context():
        make_user("alice")
        make_user("bob")
        slug = make_flow(
            [
                {"define": {"name": "back-who", "type": "identification"}},
                {"define": {"name": "back-password", "type": "password"}},
                {
                    "define": {
                        "name": "back-note",
                        "type": "prompt",
                        "options": {"fields": [{"key": "note", "label": "Note", "type": "text"}]},
                    }
                },
            ]
        )
    driver = FlowDriver(app.test_client())
    driver.open(slug)
    who = step_of(driver.page)
    post(driver, slug, who, {"uid_field": "alice"})
    post(driver, slug, step_of(driver.page), {"password": PASSWORD})
    assert stage_of(driver.page) == "prompt"

    get(driver, slug, who)
    assert stage_of(driver.page) == "identification"
    post(driver, slug, who, {"uid_field": "bob"})
    # Alice's password proved Alice: Bob's must be asked for.
    assert stage_of(driver.page) == "password"
    assert "Signing in as <strong>bob</strong>" in driver.page


def test_a_form_for_a_later_or_unknown_step_is_not_taken(app, dora):
    dora.open(UNENROLL)
    warning = step_of(dora.page)
    response = post(dora, UNENROLL, warning + 1000, {"password": PASSWORD})
    assert response.status_code == 303
    assert stage_of(dora.page) == "prompt"
    assert "That step was already done" in dora.page
    assert dora.client.get("/me").status_code == 200


def test_no_going_back_past_a_mail_sent(app, flows):
    with app.app_context():
        make_user("erin", email="erin@example.test")
    flows.open(RECOVERY)
    who = step_of(flows.page)
    post(flows, RECOVERY, who, {"uid_field": "erin"})
    assert stage_of(flows.page) == "email"
    get(flows, RECOVERY, who)
    assert stage_of(flows.page) == "email"  # the current step, not the form that sent it
    post(flows, RECOVERY, who, {"uid_field": "someone-else"})
    assert stage_of(flows.page) == "email"
    assert "That step was already done" in flows.page


@pytest.mark.parametrize("step", ["abc", "-1", "99999999999999999999", ""])
def test_a_bad_step_address_is_the_current_step(app, dora, step):
    dora.open(UNENROLL)
    response = dora.client.get(f"/flow/{UNENROLL}/?step={step}")
    assert response.status_code == 200
    assert stage_of(response.get_data(as_text=True)) == "prompt"
