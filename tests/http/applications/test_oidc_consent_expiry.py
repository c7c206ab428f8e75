"""A refresh token lives no longer than the consent it was issued under: once the user's
consent to the application has expired, the refresh grant answers invalid_grant (RFC 6749
5.2) and ends the family, even if the user agrees again later. Applications whose
authorization flow asks no consent are not concerned."""

import secrets
from datetime import timedelta

import httpx

from tests.http.applications.oidc import WITHOUT_CONSENT, make_client
from tests.http.applications.test_oidc_rules import exchange, get_code

CONSENT_LIFETIME = timedelta(weeks=4)  # default-provider-authorization-explicit-consent
SECOND = timedelta(seconds=1)


# `clock` comes before `alice` in the tests: a user made before the clock stops would have
# changed their password "after" the tokens were issued.
def first_tokens(app, live_server, visitor, **options) -> tuple[str, str, dict]:
    client_id, secret = make_client(app, refresh_token_lifetime="90d", **options)
    verifier = secrets.token_urlsafe(48)
    code = get_code(visitor, client_id, verifier)["code"]  # alice agrees here
    answer = exchange(live_server, client_id, secret, code, verifier)
    assert answer.status_code == 200, answer.text
    return client_id, secret, answer.json()


def refresh(live_server, client_id, secret, value):
    return httpx.post(
        live_server("/application/o/token/"),
        data={"grant_type": "refresh_token", "refresh_token": value},
        auth=(client_id, secret),
    )


def active(live_server, client_id, secret, value) -> bool:
    return httpx.post(
        live_server("/application/o/introspect/"), data={"token": value}, auth=(client_id, secret)
    ).json()["active"]


def test_refresh_works_until_the_consent_expires_and_not_after(
    app, clock, live_server, visitor, alice
):
    client_id, secret, token = first_tokens(app, live_server, visitor)
    clock.shift(CONSENT_LIFETIME - SECOND)
    before = refresh(live_server, client_id, secret, token["refresh_token"])
    assert before.status_code == 200, before.text
    clock.shift(2 * SECOND)
    after = refresh(live_server, client_id, secret, before.json()["refresh_token"])
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"
    assert after.headers["Cache-Control"] == "no-store"
    # The family ends with the consent.
    assert not active(live_server, client_id, secret, before.json()["refresh_token"])


def test_at_the_expiry_instant_the_consent_is_over(app, clock, live_server, visitor, alice):
    client_id, secret, token = first_tokens(app, live_server, visitor)
    clock.shift(CONSENT_LIFETIME)
    at = refresh(live_server, client_id, secret, token["refresh_token"])
    assert at.status_code == 400 and at.json()["error"] == "invalid_grant"


def test_agreeing_again_does_not_revive_a_refused_family(app, clock, live_server, visitor, alice):
    client_id, secret, token = first_tokens(app, live_server, visitor)
    clock.shift(CONSENT_LIFETIME + SECOND)
    assert refresh(live_server, client_id, secret, token["refresh_token"]).status_code == 400
    verifier = secrets.token_urlsafe(48)
    code = get_code(visitor, client_id, verifier)["code"]  # signs in and agrees again
    renewed = exchange(live_server, client_id, secret, code, verifier)
    assert renewed.status_code == 200, renewed.text
    assert refresh(live_server, client_id, secret, token["refresh_token"]).status_code == 400
    fresh = refresh(live_server, client_id, secret, renewed.json()["refresh_token"])
    assert fresh.status_code == 200, fresh.text


def test_without_a_consent_stage_refresh_ignores_consents(app, clock, live_server, visitor, alice):
    client_id, secret = make_client(
        app, authorization_flow_slug=WITHOUT_CONSENT, refresh_token_lifetime="90d"
    )
    verifier = secrets.token_urlsafe(48)
    code = get_code(visitor, client_id, verifier)["code"]
    token = exchange(live_server, client_id, secret, code, verifier).json()
    clock.shift(CONSENT_LIFETIME + SECOND)
    later = refresh(live_server, client_id, secret, token["refresh_token"])
    assert later.status_code == 200, later.text


def test_a_user_the_consent_stage_passes_over_keeps_refreshing(
    app, clock, live_server, visitor, alice
):
    """The consent stage is bound for the staff group only: alice, not in it, is never asked,
    so she has no consent that could expire. Her refresh tokens last as issued, not refused
    for a consent she was never asked for."""
    consent_only_for_staff(app)
    client_id, secret, token = first_tokens(app, live_server, visitor)
    answer = refresh(live_server, client_id, secret, token["refresh_token"])
    assert answer.status_code == 200, answer.text


def consent_only_for_staff(app) -> None:
    """Bind the shipped authorization flow's consent stage for the staff group only."""
    from sqlalchemy import select

    from idp.core.extensions import db
    from idp.models import Flow, PolicyBinding, Stage, StageBinding
    from tests.factories import make_group

    with app.app_context():
        staff = make_group("staff")
        consent = db.session.scalar(
            select(StageBinding.id)
            .join(Flow, Flow.id == StageBinding.flow_id)
            .join(Stage, Stage.id == StageBinding.stage_id)
            .where(
                Flow.slug == "default-provider-authorization-explicit-consent",
                Stage.type == "consent",
            )
        )
        db.session.add(PolicyBinding(stage_binding_id=consent, group_id=staff.id, order=0))
        db.session.commit()
