"""An authorization code is bound to the consent it was issued under, as tokens are.

The code records the standing agreement when it is issued; at the token endpoint it is
refused (invalid_grant) once that agreement is no longer the standing one: withdrawn, expired,
or given again within the code's minute. Withdrawing a consent at /me/applications also
deletes the application's codes nobody exchanged yet. An ID token, like the access and
refresh tokens, expires no later than the consent."""

import secrets
import threading
from datetime import timedelta
from functools import partial

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import AuthorizationCode, Consent, OAuth2Token, User
from tests.factories import make_user
from tests.http.applications.oidc import CSRF, Browser, make_client
from tests.http.applications.test_oidc_consent_expiry import (
    CONSENT_LIFETIME,
    SECOND,
    active,
    first_tokens,
    refresh,
)
from tests.http.applications.test_oidc_rules import exchange, get_code

ID_TOKEN_LIFETIME = timedelta(minutes=10)  # the access token's: the default "10m"


def issued_code(visitor, client_id, username="alice") -> tuple[str, str]:
    """A code (signing in and agreeing if asked) and its verifier, not exchanged."""
    verifier = secrets.token_urlsafe(48)
    return get_code(visitor, client_id, verifier, username=username)["code"], verifier


def refused(answer) -> bool:
    return answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def consent_of(app, slug="rp") -> Consent:
    with app.app_context():
        return db.session.scalar(
            select(Consent)
            .join(User, User.id == Consent.user_id)
            .where(User.username == "alice", Consent.subject == f"application:{_id_of(slug)}")
        )


def _id_of(slug) -> int:
    from idp.applications.loading import load_application

    return load_application(slug).id


def withdrawal(app, visitor, slug="rp"):
    """What withdraws alice's consent to `slug` on /me/applications, as she would: the
    form is read now, the request sent when called."""
    consent = consent_of(app, slug)
    kind, page = visitor.follow("/me/applications")
    assert kind == "page" and page.status_code == 200
    data = {"csrf_token": CSRF.search(page.text).group(1)}
    return lambda: visitor.http.post(f"/me/applications/consents/{consent.id}/revoke", data=data)


def withdraw(app, visitor, slug="rp"):
    answer = withdrawal(app, visitor, slug)()
    assert answer.status_code == 303, answer.text
    assert consent_of(app, slug) is None


def at_once(*sends) -> list:
    """Each `send()` from its own thread, released together."""
    barrier = threading.Barrier(len(sends))
    answers = [None] * len(sends)

    def run(index):
        barrier.wait()
        answers[index] = sends[index]()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(sends))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


def id_claims(live_server, token, slug="rp") -> dict:
    key_set = KeySet.import_key_set(httpx.get(live_server(f"/application/o/{slug}/jwks/")).json())
    return jwt.decode(token["id_token"], key_set, algorithms=["ES256"]).claims


def expiry_of(app) -> int:
    return int(consent_of(app).expires_at.timestamp())


def test_a_code_is_refused_once_the_consent_is_withdrawn(app, clock, live_server, visitor, alice):
    client_id, secret = make_client(app)
    code, verifier = issued_code(visitor, client_id)
    clock.shift(SECOND)
    withdraw(app, visitor)
    clock.shift(SECOND)
    assert refused(exchange(live_server, client_id, secret, code, verifier))


def test_a_code_from_before_a_consent_withdrawn_and_given_again_is_refused(
    app, clock, live_server, visitor, alice
):
    client_id, secret = make_client(app)
    old, old_verifier = issued_code(visitor, client_id)
    withdraw(app, visitor)
    clock.shift(SECOND)
    new, new_verifier = issued_code(visitor, client_id)  # alice agrees again
    assert refused(exchange(live_server, client_id, secret, old, old_verifier))
    assert exchange(live_server, client_id, secret, new, new_verifier).status_code == 200


def test_a_code_from_before_a_consent_removed_and_given_again_is_refused(
    app, clock, live_server, visitor, alice
):
    """The consent row went away without the codes (deleted in the database, not through
    /me/applications): the code is still there, and its agreement is what refuses it."""
    client_id, secret = make_client(app)
    old, old_verifier = issued_code(visitor, client_id)
    with app.app_context():
        db.session.execute(Consent.__table__.delete())
        db.session.commit()
    clock.shift(SECOND)
    new, new_verifier = issued_code(visitor, client_id)
    assert refused(exchange(live_server, client_id, secret, old, old_verifier))
    # Refused, and spent: trying again is refused too, and issued nothing.
    assert refused(exchange(live_server, client_id, secret, old, old_verifier))
    assert exchange(live_server, client_id, secret, new, new_verifier).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(OAuth2Token)) == 1


def test_a_code_from_before_a_consent_expired_and_given_again_is_refused(
    app, clock, live_server, visitor, alice
):
    """Within the code's minute the consent expires, and alice agrees again: a new
    agreement. The code issued under the old one is refused though it has not expired."""
    client_id, secret, _token = first_tokens(app, live_server, visitor)
    clock.shift(CONSENT_LIFETIME - 2 * SECOND)
    old, old_verifier = issued_code(visitor, client_id)  # the consent stands: not asked
    clock.shift(3 * SECOND)
    new, new_verifier = issued_code(visitor, client_id)  # expired: asked, and agreed
    assert refused(exchange(live_server, client_id, secret, old, old_verifier))
    answer = exchange(live_server, client_id, secret, new, new_verifier)
    assert answer.status_code == 200, answer.text
    with app.app_context():
        token = db.session.scalar(select(OAuth2Token).order_by(OAuth2Token.id.desc()))
        assert token.consent_agreement == consent_of(app).agreement


def test_a_code_exchanged_a_second_before_the_consent_expires_is_capped_at_it(
    app, clock, live_server, visitor, alice
):
    client_id, secret, _token = first_tokens(app, live_server, visitor)
    clock.shift(CONSENT_LIFETIME - 2 * SECOND)
    code, verifier = issued_code(visitor, client_id)
    clock.shift(SECOND)
    answer = exchange(live_server, client_id, secret, code, verifier)
    assert answer.status_code == 200, answer.text
    assert answer.json()["expires_in"] == 1
    assert id_claims(live_server, answer.json())["exp"] == expiry_of(app)


def test_a_code_exchanged_at_the_consents_expiry_is_refused(
    app, clock, live_server, visitor, alice
):
    client_id, secret, _token = first_tokens(app, live_server, visitor)
    clock.shift(CONSENT_LIFETIME - 2 * SECOND)
    code, verifier = issued_code(visitor, client_id)
    clock.shift(2 * SECOND)
    assert refused(exchange(live_server, client_id, secret, code, verifier))


def test_a_replayed_code_is_still_refused_and_ends_what_it_gave(
    app, clock, live_server, visitor, alice
):
    client_id, secret = make_client(app, refresh_token_lifetime="90d")
    code, verifier = issued_code(visitor, client_id)
    token = exchange(live_server, client_id, secret, code, verifier).json()
    clock.shift(SECOND)
    assert refused(exchange(live_server, client_id, secret, code, verifier))
    assert not active(live_server, client_id, secret, token["refresh_token"])


def test_withdrawing_a_consent_deletes_the_applications_unexchanged_codes_only(
    app, clock, live_server, visitor, alice
):
    client_id, secret = make_client(app)
    other_id, _other_secret = make_client(app, slug="other")
    with app.app_context():
        make_user("bob")
    bob = Browser(live_server.url)
    try:
        used, used_verifier = issued_code(visitor, client_id)
        assert exchange(live_server, client_id, secret, used, used_verifier).status_code == 200
        waiting, waiting_verifier = issued_code(visitor, client_id)
        issued_code(visitor, other_id)  # another application's
        issued_code(bob, client_id, username="bob")  # another user's
    finally:
        bob.close()
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(AuthorizationCode)) == 4

    withdraw(app, visitor)

    with app.app_context():
        left = db.session.execute(
            select(User.username, AuthorizationCode.application_id, AuthorizationCode.used_at)
            .join(User, User.id == AuthorizationCode.user_id)
            .order_by(AuthorizationCode.id)
        ).all()
        rp, other = _id_of("rp"), _id_of("other")
    assert [(name, application) for name, application, _used in left] == [
        ("alice", rp),  # used: kept, to catch a replay
        ("alice", other),
        ("bob", rp),
    ]
    assert left[0][2] is not None
    assert refused(exchange(live_server, client_id, secret, waiting, waiting_verifier))


def test_a_code_exchanged_while_the_consent_is_withdrawn_leaves_no_live_token(
    app, live_server, visitor, alice
):
    """Whichever comes first, the exchange or the withdrawal, nothing the code gave lives on."""
    client_id, secret = make_client(app)
    httpx.get(live_server("/application/o/rp/jwks/"))  # the signing keys exist before the race
    for _round in range(4):
        code, verifier = issued_code(visitor, client_id)  # alice agrees (again)
        withdrawn, exchanged = at_once(
            withdrawal(app, visitor),
            partial(exchange, live_server, client_id, secret, code, verifier),
        )
        assert withdrawn.status_code == 303
        assert exchanged.status_code == 200 or refused(exchanged)
        with app.app_context():
            live = select(OAuth2Token).where(OAuth2Token.revoked_at.is_(None))
            assert db.session.scalars(live).all() == []


def test_an_id_token_ends_as_issued_when_the_consent_ends_later(
    app, clock, live_server, visitor, alice
):
    client_id, secret, token = first_tokens(app, live_server, visitor)
    claims = id_claims(live_server, token)
    assert claims["exp"] == claims["iat"] + ID_TOKEN_LIFETIME.total_seconds()
    clock.shift(CONSENT_LIFETIME - ID_TOKEN_LIFETIME - SECOND)
    code, verifier = issued_code(visitor, client_id)
    claims = id_claims(live_server, exchange(live_server, client_id, secret, code, verifier).json())
    assert claims["exp"] == expiry_of(app) - 1  # a second before the consent: as issued


def test_an_id_token_from_a_code_ends_with_the_consent_when_that_is_sooner(
    app, clock, live_server, visitor, alice
):
    client_id, secret, _token = first_tokens(app, live_server, visitor)
    clock.shift(CONSENT_LIFETIME - ID_TOKEN_LIFETIME + SECOND)
    code, verifier = issued_code(visitor, client_id)
    claims = id_claims(live_server, exchange(live_server, client_id, secret, code, verifier).json())
    assert claims["exp"] == expiry_of(app)
    assert claims["exp"] - claims["iat"] == ID_TOKEN_LIFETIME.total_seconds() - 1


def test_an_id_token_from_a_refresh_ends_with_the_consent_when_that_is_sooner(
    app, clock, live_server, visitor, alice
):
    client_id, secret, token = first_tokens(app, live_server, visitor)
    clock.shift(CONSENT_LIFETIME - ID_TOKEN_LIFETIME - SECOND)
    token = refresh(live_server, client_id, secret, token["refresh_token"]).json()
    assert id_claims(live_server, token)["exp"] == expiry_of(app) - 1  # as issued
    clock.shift(2 * SECOND)
    token = refresh(live_server, client_id, secret, token["refresh_token"]).json()
    assert id_claims(live_server, token)["exp"] == expiry_of(app)  # capped
    assert token["expires_in"] == ID_TOKEN_LIFETIME.total_seconds() - 1


def test_a_passed_over_user_exchanges_codes_and_gets_uncapped_id_tokens(
    app, clock, live_server, visitor, alice
):
    from tests.http.applications.test_oidc_consent_expiry import consent_only_for_staff

    consent_only_for_staff(app)
    _client_id, _secret, token = first_tokens(app, live_server, visitor)
    claims = id_claims(live_server, token)
    assert claims["exp"] == claims["iat"] + ID_TOKEN_LIFETIME.total_seconds()
    with app.app_context():
        assert db.session.scalar(select(AuthorizationCode.consent_agreement)) is None


def test_a_user_passed_over_beside_an_expired_consent_gets_tokens_as_issued(
    app, clock, live_server, visitor, alice
):
    """alice agreed once; it expired; then the stage was bound for staff only, so she is not
    asked again. Her tokens are issued under none: neither capped at the old consent's past
    expiry (an access token of 0 seconds) nor refused at refresh because of it."""
    from tests.http.applications.test_oidc_consent_expiry import consent_only_for_staff

    client_id, secret, _token = first_tokens(app, live_server, visitor)
    clock.shift(CONSENT_LIFETIME + SECOND)
    consent_only_for_staff(app)
    code, verifier = issued_code(visitor, client_id)
    answer = exchange(live_server, client_id, secret, code, verifier)
    assert answer.status_code == 200, answer.text
    token = answer.json()
    assert token["expires_in"] == ID_TOKEN_LIFETIME.total_seconds()
    claims = id_claims(live_server, token)
    assert claims["exp"] == claims["iat"] + ID_TOKEN_LIFETIME.total_seconds()
    assert consent_of(app) is not None  # the expired consent is still there
    renewed = refresh(live_server, client_id, secret, token["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["expires_in"] == ID_TOKEN_LIFETIME.total_seconds()
