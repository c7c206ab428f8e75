"""Races that only PostgreSQL shows (SQLite runs one writer at a time): one code typed into
several sign-ins at once, and several copies of one consent plan agreeing at once. A barrier
holds every request just before the statement that decides, so the database alone decides.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.credentials import authenticators
from idp.models import (
    Consent,
    StaticCode,
    UserSession,
)
from idp.stages.consent import stage as consent_stage
from tests.conftest import POSTGRES_URL, FlowDriver, csrf_token
from tests.factories import PASSWORD, make_user
from tests.http.applications.test_consent import FLOW, seed, wiki_with_a_request
from tests.http.stages.test_authenticators import (
    STATIC_SETUP,
    Clock,
    recovery_codes_on,
    set_up_totp,
    signed_in_driver,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="IDP_TEST_DATABASE_URL is not set"),
    pytest.mark.usefixtures("many_postgres_connections"),
]

AUTH = "default-authentication-flow"
PARALLEL = 8


@pytest.fixture
def app_settings():
    # Every request holds its connection while it waits at the barrier.
    return {"ENVIRON": {"IDP_DATABASE_POOL_SIZE": str(PARALLEL + 2)}}


def held_together(
    monkeypatch, module, name: str, parties: int = PARALLEL, also=(), wait: float = 3, after=False
) -> None:
    """Hold each thread's first call of module.name (or of another (module, name) in `also`)
    until the others that get there are there too (a request the failed-attempt counters turn
    away earlier never comes, and one a lock holds back is waited for `wait` seconds only);
    `after`: hold it once the call returned (a check whose answer must not change)."""
    everyone = threading.Event()
    lock, count = threading.Lock(), [0]
    seen = threading.local()

    def held(original):
        def together(*args, **kwargs):
            result = original(*args, **kwargs) if after else None
            if not getattr(seen, "waited", False):
                seen.waited = True
                with lock:
                    count[0] += 1
                    if count[0] == parties:
                        everyone.set()
                everyone.wait(timeout=wait)
            return result if after else original(*args, **kwargs)

        return together

    for place, place_name in [(module, name), *also]:
        monkeypatch.setattr(place, place_name, held(getattr(place, place_name)))


def run_together(actions) -> list:
    with ThreadPoolExecutor(max_workers=len(actions)) as pool:
        return [future.result(timeout=120) for future in [pool.submit(a) for a in actions]]


def count(app, model, *conditions) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def at_the_code_stage(app) -> FlowDriver:
    driver = FlowDriver(app.test_client())
    driver.sign_in("alice", PASSWORD)
    assert driver.stage == "authenticator_validate"
    return driver


@pytest.fixture
def alice(app):
    with app.app_context():
        return make_user("alice").id


def type_together_and_sign_in_once(app, drivers, code, user_id, sessions_before) -> None:
    """Every driver sends `code` at once: one signs in (303), the others are refused (400)."""
    responses = run_together(
        [lambda driver=driver: driver.submit(AUTH, {"code": code}) for driver in drivers]
    )
    statuses = [response.status_code for response in responses]
    assert statuses.count(303) == 1 and statuses.count(400) == PARALLEL - 1, statuses
    assert count(app, UserSession, UserSession.user_id == user_id) == sessions_before + 1


def test_one_totp_code_typed_into_parallel_sign_ins_signs_in_once(app, alice, monkeypatch):
    clock = Clock(monkeypatch)
    totp = set_up_totp(signed_in_driver(app), clock)
    clock.advance(10)
    drivers = [at_the_code_stage(app) for _ in range(PARALLEL)]
    sessions = count(app, UserSession, UserSession.user_id == alice)
    code = clock.code(totp)
    held_together(monkeypatch, authenticators, "_claim_step")

    type_together_and_sign_in_once(app, drivers, code, alice, sessions)


def test_one_recovery_code_typed_into_parallel_sign_ins_signs_in_once(app, alice, monkeypatch):
    owner = signed_in_driver(app)
    owner.open(STATIC_SETUP)
    code = recovery_codes_on(owner.page)[0]
    owner.submit(STATIC_SETUP, {})
    drivers = [at_the_code_stage(app) for _ in range(PARALLEL)]
    sessions = count(app, UserSession, UserSession.user_id == alice)
    held_together(monkeypatch, authenticators, "use_recovery_code")

    type_together_and_sign_in_once(app, drivers, code, alice, sessions)
    assert count(app, StaticCode, StaticCode.user_id == alice, StaticCode.used_at.is_not(None)) == 1


@pytest.fixture
def consent_plan(app, client):
    """As tests/http/applications/test_consent.py's, signed in on `client`."""
    application_id, user_id, username = wiki_with_a_request(app)
    FlowDriver(client).sign_in(username, PASSWORD)
    return application_id, user_id


def test_copies_of_one_consent_plan_agreeing_at_once_remember_one_consent(
    app, client, consent_plan, monkeypatch
):
    application_id, user_id = consent_plan
    seed(client, application_id, ["openid", "email"])
    page = client.get(f"/flow/{FLOW}/")
    assert page.status_code == 200
    driver = FlowDriver(client)
    driver.page = page.get_data(as_text=True)
    cookie = client.get_cookie("gatehouse_session")
    copies = []
    for _ in range(PARALLEL):
        copy = FlowDriver(app.test_client())
        copy.client.set_cookie(cookie.key, cookie.value)
        copy.page = driver.page
        copies.append(copy)
    held_together(monkeypatch, consent_stage, "_consent_of")

    responses = run_together(
        [
            lambda copy=copy: copy.client.post(
                f"/flow/{FLOW}/", data={"csrf_token": csrf_token(copy.page)}
            )
            for copy in copies
        ]
    )
    statuses = [response.status_code for response in responses]
    # Each copy agrees for the same user and application: all go on, one row remembers it.
    assert statuses == [303] * PARALLEL, statuses
    assert count(app, Consent, Consent.user_id == user_id) == 1
