"""Tokens end with the consent they were issued under.

A token family carries the consent it was issued under: a consent agreed to again after it
expired (or withdrawn and given again) is another agreement, and the older family is refused
at the refresh grant even if it is still within its own lifetime. Access and refresh tokens
never outlive the consent either: their expiry is capped at the consent's, so userinfo and
introspection stop answering for them the second the consent expires, with no query on use.
A family issued with no consent row (the consent stage passed the user over) is untouched."""

import secrets
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from idp.core.extensions import db
from idp.models import Consent, OAuth2Token
from idp.models.types import utcnow
from tests.http.applications.test_oidc_consent_expiry import (
    CONSENT_LIFETIME,
    SECOND,
    active,
    first_tokens,
    refresh,
)
from tests.http.applications.test_oidc_rules import exchange, get_code

FAR = timedelta(days=365)


def agree_again(live_server, visitor, client_id, secret) -> dict:
    verifier = secrets.token_urlsafe(48)
    code = get_code(visitor, client_id, verifier)["code"]  # signs in and agrees
    answer = exchange(live_server, client_id, secret, code, verifier)
    assert answer.status_code == 200, answer.text
    return answer.json()


def userinfo(live_server, access_token) -> int:
    return httpx.get(
        live_server("/application/o/userinfo/"),
        headers={"Authorization": f"Bearer {access_token}"},
    ).status_code


def uncapped(app) -> None:
    """Let every token live on past its consent, as tokens issued before expiries were
    capped do: only the consent they carry can then end them."""
    with app.app_context():
        later = utcnow() + FAR
        db.session.execute(
            update(OAuth2Token).values(access_expires_at=later, refresh_expires_at=later)
        )
        db.session.commit()


def test_a_family_from_before_a_renewed_consent_is_refused(app, clock, live_server, visitor, alice):
    client_id, secret, old = first_tokens(app, live_server, visitor)
    clock.shift(CONSENT_LIFETIME + SECOND)  # expired, and the app has not refreshed since
    new = agree_again(live_server, visitor, client_id, secret)

    refused = refresh(live_server, client_id, secret, old["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    fresh = refresh(live_server, client_id, secret, new["refresh_token"])
    assert fresh.status_code == 200, fresh.text


def test_an_uncapped_family_from_before_a_renewed_consent_is_refused_and_ended(
    app, clock, live_server, visitor, alice
):
    client_id, secret, old = first_tokens(app, live_server, visitor)
    uncapped(app)
    clock.shift(CONSENT_LIFETIME + SECOND)
    new = agree_again(live_server, visitor, client_id, secret)

    refused = refresh(live_server, client_id, secret, old["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert not active(live_server, client_id, secret, old["refresh_token"])
    assert refresh(live_server, client_id, secret, new["refresh_token"]).status_code == 200


def test_a_family_from_before_a_consent_given_again_is_refused(
    app, clock, live_server, visitor, alice
):
    """The consent row went away without its tokens (deleted in the database, not through
    /me/applications, which revokes them) and was given again."""
    client_id, secret, old = first_tokens(app, live_server, visitor)
    with app.app_context():
        db.session.execute(Consent.__table__.delete())
        db.session.commit()
    clock.shift(SECOND)
    agree_again(live_server, visitor, client_id, secret)
    refused = refresh(live_server, client_id, secret, old["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_agreeing_to_more_while_the_consent_stands_keeps_the_family(
    app, clock, live_server, visitor, alice
):
    """Asking again (prompt=consent) while the consent stands is the same agreement."""
    client_id, secret, old = first_tokens(app, live_server, visitor)
    clock.shift(timedelta(days=1))
    verifier = secrets.token_urlsafe(48)
    code = get_code(visitor, client_id, verifier, prompt="consent")["code"]
    assert exchange(live_server, client_id, secret, code, verifier).status_code == 200
    answer = refresh(live_server, client_id, secret, old["refresh_token"])
    assert answer.status_code == 200, answer.text


def test_access_token_ends_with_the_consent_at_userinfo_and_introspection(
    app, clock, live_server, visitor, alice
):
    client_id, secret, token = first_tokens(app, live_server, visitor, access_token_lifetime="1h")
    clock.shift(CONSENT_LIFETIME - 30 * SECOND)
    token = refresh(live_server, client_id, secret, token["refresh_token"]).json()
    assert token["expires_in"] == 30  # not the hour: the consent ends first
    clock.shift(29 * SECOND)
    assert userinfo(live_server, token["access_token"]) == 200
    assert active(live_server, client_id, secret, token["access_token"])
    assert active(live_server, client_id, secret, token["refresh_token"])
    clock.shift(2 * SECOND)
    assert userinfo(live_server, token["access_token"]) == 401
    assert not active(live_server, client_id, secret, token["access_token"])
    assert not active(live_server, client_id, secret, token["refresh_token"])


def test_the_first_tokens_are_capped_too(app, clock, live_server, visitor, alice):
    first_tokens(app, live_server, visitor)
    with app.app_context():
        consent = db.session.scalar(select(Consent))
        row = db.session.scalar(select(OAuth2Token))
        assert row.refresh_expires_at == consent.expires_at  # 90 days asked, 4 weeks agreed
        assert row.access_expires_at < consent.expires_at


def test_a_passed_over_user_keeps_uncapped_tokens(app, clock, live_server, visitor, alice):
    from tests.http.applications.test_oidc_consent_expiry import consent_only_for_staff

    consent_only_for_staff(app)
    client_id, secret, token = first_tokens(app, live_server, visitor)
    clock.shift(CONSENT_LIFETIME + SECOND)
    answer = refresh(live_server, client_id, secret, token["refresh_token"])
    assert answer.status_code == 200, answer.text
