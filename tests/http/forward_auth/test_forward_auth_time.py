"""Forward auth as time passes, with the clock moved (time-machine): the proxy's question is
answered with the Gatehouse session's own idle timeout and lifetime, and asking it is use
that keeps the session alive."""

from datetime import timedelta

import pytest

from tests.http.forward_auth import test_forward_auth as forward_auth
from tests.http.forward_auth.test_forward_auth import caddy_asks, nginx_asks, signed_in

# The fixtures of the endpoints' tests: the proxy's settings, mia (in staff) and the wiki.
app_settings, people = forward_auth.app_settings, forward_auth.people
protected, member = forward_auth.protected, forward_auth.member

IDLE = timedelta(minutes=30)  # IDP_SESSION_IDLE_TIMEOUT's default
LIFETIME = timedelta(days=1)  # the default sign-in's session_duration
SECOND = timedelta(seconds=1)
ASKERS = [pytest.param(nginx_asks, id="nginx"), pytest.param(caddy_asks, id="caddy")]


@pytest.fixture
def mia(client, flows, protected, member, clock):
    signed_in(client, flows, "mia")
    return client


def let_through(answer) -> bool:
    if answer.status_code == 200:
        assert answer.headers["Remote-User"] == "mia"
        assert answer.headers["Remote-Groups"] == "staff"
        return True
    assert answer.status_code in (302, 401)
    assert "/forward-auth/start?rd=" in answer.headers["Location"]
    assert "Remote-User" not in answer.headers
    return False


@pytest.mark.parametrize("asks", ASKERS)
def test_the_proxy_lets_an_idle_user_through_until_the_idle_timeout(mia, clock, asks):
    clock.shift(IDLE - SECOND)
    assert let_through(asks(mia))
    clock.shift(IDLE)  # the answer just above was use: thirty minutes from there
    assert not let_through(asks(mia))
    assert mia.get("/me").status_code != 200  # it ended for Gatehouse too


@pytest.mark.parametrize("asks", ASKERS)
def test_using_the_application_keeps_the_session_alive_until_its_lifetime(mia, clock, asks):
    used = timedelta()
    while used + IDLE - SECOND < LIFETIME:
        clock.shift(IDLE - SECOND)
        used += IDLE - SECOND
        assert let_through(asks(mia)), used
    assert mia.get("/me").status_code == 200
    clock.shift(LIFETIME - used)
    assert not let_through(asks(mia))
