"""Refused passwordless passkeys sent at once from one address against PostgreSQL: each is
counted against the IP exactly once, and none gets past the IP's free attempts."""

import pytest

from idp.core.extensions import db
from idp.protection import attempts
from tests import factories
from tests.conftest import POSTGRES_URL, FlowDriver
from tests.http.stages.test_passkeys import AUTH, ORIGIN, set_options
from tests.postgres.test_concurrency import PARALLEL, counter, events, run_together
from tests.soft_authenticator import SoftAuthenticator, options_on

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="IDP_TEST_DATABASE_URL is not set"),
    pytest.mark.usefixtures("many_postgres_connections"),
]

CLIENT_IP = "203.0.113.30"
NOT_REGISTERED = "not registered here"
THROTTLED = "Too many failed attempts"


@pytest.fixture
def app(tmp_path, postgres_database):
    """As tests/postgres/test_concurrency.py's, with passkeys on and offered at sign-in."""
    from tests.conftest import empty_postgres_tables, make_test_app

    app = make_test_app(
        tmp_path,
        postgres_database,
        ENVIRON={"IDP_DATABASE_POOL_SIZE": str(PARALLEL // 2 + 1)},
        WEBAUTHN_RP_ID="localhost",
        WEBAUTHN_ORIGIN=ORIGIN,
    )
    empty_postgres_tables(postgres_database)
    with app.app_context():
        factories.load_shipped_flows()
    set_options(app, "default-authentication-identification", passkey_login=True)
    yield app
    with app.app_context():
        db.engine.dispose()


def refused_passkeys_in_parallel(app) -> list[FlowDriver]:
    """PARALLEL browsers of one address answer their sign-in page with an unknown passkey at
    the same moment."""
    stranger = SoftAuthenticator(user_handle=b"stranger")
    drivers = []
    for _ in range(PARALLEL):
        driver = FlowDriver(app.test_client())
        driver.client.environ_base["REMOTE_ADDR"] = CLIENT_IP
        driver.open(AUTH)
        drivers.append(driver)
    answers = [stranger.get(options_on(driver.page)) for driver in drivers]
    responses = run_together(
        [
            lambda driver=driver, signed=signed: driver.submit(AUTH, {"webauthn_response": signed})
            for driver, signed in zip(drivers, answers, strict=True)
        ]
    )
    assert [response.status_code for response in responses] == [400] * PARALLEL
    return drivers


def test_parallel_refused_passkeys_under_the_threshold_are_each_counted_once(app):
    app.config.update(LOGIN_FREE_ATTEMPTS_PER_IP=1000)
    drivers = refused_passkeys_in_parallel(app)

    assert all(NOT_REGISTERED in driver.text for driver in drivers)
    assert counter(app, attempts.CLIENT_IP, CLIENT_IP) == PARALLEL
    assert events(app, "passkey_login_failed") == PARALLEL


def test_parallel_refused_passkeys_get_no_more_tries_than_the_ips_threshold(app):
    free = 7
    app.config.update(LOGIN_FREE_ATTEMPTS_PER_IP=free)
    drivers = refused_passkeys_in_parallel(app)

    assert sum(NOT_REGISTERED in driver.text for driver in drivers) == free
    assert sum(THROTTLED in driver.text for driver in drivers) == PARALLEL - free
    assert counter(app, attempts.CLIENT_IP, CLIENT_IP) == free
    assert events(app, "passkey_login_failed") == free
    assert events(app, "passkey_login_throttled") == PARALLEL - free
