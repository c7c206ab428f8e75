"""authlib's authorization server, wired to Gatehouse's applications, codes and tokens.

authlib validates the protocol (client authentication, redirect URIs, PKCE, scopes, grant
rules); this module tells it where things are kept and adds what it lacks: S256 only, PKCE
required per client, code replay revoking what the code issued, refresh-token reuse revoking
the family, the issuer of the application in use.
"""

import logging
import time
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from typing import NoReturn
from urllib.parse import urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    ClientMixin,
    InvalidGrantError,
    InvalidRequestError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc6749.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    RefreshTokenGrant,
)
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core import OpenIDCode, OpenIDToken
from flask import g
from sqlalchemy import select, update

from idp.applications.access import may_use, may_use_as_client
from idp.applications.addresses import base_url
from idp.core import metrics
from idp.core.events import record_event
from idp.core.extensions import db
from idp.core.network import client_ip
from idp.models import AuthorizationCode, OAuth2Token, User, UserSession
from idp.models.types import utcnow
from idp.providers.oauth2 import clients, consents, credentials, keys, purge, tokens
from idp.providers.oauth2.backchannel import remember_sign_in, session_sid
from idp.providers.oauth2.clients import Registered
from idp.providers.oauth2.issuer import issuer_url
from idp.providers.oauth2.scope_mappings import claims_for, load_scope_mappings

log = logging.getLogger("idp.oauth2")

CODE_LIFETIME = timedelta(seconds=60)
CLIENT_SECRET_METHODS = ("client_secret_basic", "client_secret_post")
ALL_METHODS = (*CLIENT_SECRET_METHODS, "none")


class Client(ClientMixin):
    """An application with an oauth2 provider, as authlib sees a client."""

    def __init__(self, registered: Registered):
        self.application = registered.application
        self.provider = registered.application.provider
        self.options = registered.options
        self.authorization_flow_slug = registered.authorization_flow_slug

    @property
    def issuer(self) -> str:
        return issuer_url(base_url(), self.application.slug)

    @property
    def id_token_signed_response_alg(self) -> str:
        return self.options.signing_algorithm

    def get_client_id(self):
        return self.provider.client_id

    def get_default_redirect_uri(self):
        return None  # OpenID Connect requires redirect_uri in every request

    @property
    def scope_mappings(self) -> list:
        """The admin-defined scopes this client may ask for (loaded once per request)."""
        if not hasattr(self, "_scope_mappings"):
            self._scope_mappings = load_scope_mappings(self.options.scope_mappings)
        return self._scope_mappings

    @property
    def scopes_supported(self) -> list[str]:
        return [*self.options.allowed_scopes, *(mapping.name for mapping in self.scope_mappings)]

    def get_allowed_scope(self, scope):
        allowed = set(self.scopes_supported)
        return list_to_scope([item for item in scope_to_list(scope) or [] if item in allowed])

    def claims(self, user, scopes, **kwargs):
        return claims_for(self.application, user, scopes, self.scope_mappings, **kwargs)

    def check_redirect_uri(self, redirect_uri):
        if redirect_uri in self.options.redirect_uris:
            return True
        # RFC 8252 7.3 is for native apps: never a confidential client's relaxation.
        relaxed = self.options.allow_any_loopback_port and self.options.is_public
        return relaxed and any(
            _same_but_loopback_port(redirect_uri, known) for known in self.options.redirect_uris
        )

    def check_client_secret(self, client_secret):
        return credentials.check_secret(self.provider.client_secret_hash, client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        # Every method Gatehouse advertises is accepted (authlib checks just one per client).
        if self.options.is_public:
            return method == "none"
        return method in CLIENT_SECRET_METHODS

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        if grant_type == "client_credentials":
            return not self.options.is_public
        return grant_type in ("authorization_code", "refresh_token")


def _same_but_loopback_port(given: str, known: str) -> bool:
    """RFC 8252 7.3: a native app's loopback redirect may use any port."""
    try:
        given_parts, known_parts = urlsplit(given), urlsplit(known)
        if not given_parts.hostname or given_parts.scheme != "http" or "@" in given_parts.netloc:
            return False
        if not ip_address(given_parts.hostname).is_loopback:
            return False
        given_parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return False
    return (
        known_parts.scheme == "http"
        and known_parts.hostname == given_parts.hostname
        and (known_parts.path, known_parts.query) == (given_parts.path, given_parts.query)
    )


def query_client(client_id):
    known = g.get("oauth2_client")
    if known is not None and client_id and known.get_client_id() == client_id:
        return known  # authlib asks several times per request
    if not isinstance(client_id, str):
        return None
    return client_of(clients.registry().by_client_id.get(client_id))


def client_of(registered: Registered | None) -> Client | None:
    """The client for this request, or None for an application whose settings are broken."""
    if registered is None or registered.options is None:
        return None
    client = Client(registered)
    g.oauth2_client = client
    return client


class StoredCode:
    """An authorization code row, as authlib's grant and extensions read it."""

    def __init__(self, row: AuthorizationCode):
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self):
        return self.row.redirect_uri

    def get_scope(self):
        return self.row.scope

    def get_nonce(self):
        return self.row.nonce

    def get_auth_time(self):
        return int(self.row.auth_time.timestamp())

    def get_acr(self):
        return None

    def get_amr(self):
        return None


class StoredToken:
    """A token row, as authlib's refresh grant, introspection and revocation read it."""

    def __init__(self, state: tokens.TokenState, refresh: bool = False):
        self.state = state
        self.row = state.row
        self.refresh = refresh

    def check_client(self, client):
        return client is not None and self.row.application_id == client.application.id

    def get_scope(self):
        return self.row.scope

    def get_expires_in(self):
        return int((self.row.access_expires_at - self.row.issued_at).total_seconds())

    def is_expired(self):
        expiry = self.row.refresh_expires_at if self.refresh else self.row.access_expires_at
        return expiry is None or expiry <= utcnow()

    def is_revoked(self):
        return not self.state.is_live(refresh=self.refresh) and not self.is_expired()

    def get_user(self):
        return self.state.user

    def get_client(self):
        return getattr(g, "oauth2_client", None)


class S256Challenge(CodeChallenge):
    """PKCE with S256 only; required for public clients and, unless the application lets it
    off, for confidential ones too."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if data.get("code_challenge_method", "S256") != "S256" and data.get("code_challenge"):
            raise InvalidRequestError(
                "Only code_challenge_method=S256 is supported.", redirect_uri=redirect_uri
            )
        if not data.get("code_challenge") and grant.request.client.options.require_pkce:
            raise InvalidRequestError(
                "PKCE is required: send code_challenge with code_challenge_method=S256.",
                redirect_uri=redirect_uri,
            )
        if data.get("code_challenge") and not data.get("code_challenge_method"):
            raise InvalidRequestError(
                "Send code_challenge_method=S256 with code_challenge.", redirect_uri=redirect_uri
            )
        try:
            super().validate_code_challenge(grant, redirect_uri)
        except InvalidRequestError as error:
            error.redirect_uri = redirect_uri
            raise


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(ALL_METHODS)
    AUTHORIZATION_CODE_LENGTH = 48

    def save_authorization_code(self, code, request):
        payload = request.payload
        data = payload.data
        context = g.oauth2_authorization
        row = AuthorizationCode(
            code_hash=tokens.digest(code),
            application_id=request.client.application.id,
            user_id=request.user.id,
            session_id=context["session_id"],
            redirect_uri=payload.redirect_uri,
            # What the client may have of what it asked for (Client.get_allowed_scope).
            scope=request.scope or "",
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            auth_time=context["auth_time"],
            consent_agreement=consents.standing_agreement(request.client, request.user),
            expires_at=utcnow() + CODE_LIFETIME,
        )
        purge.purge_codes_of(request.user.id, request.client.application.id)
        db.session.add(row)
        remember_sign_in(
            context["session_id"], request.client.application.id, request.client.issuer
        )
        db.session.flush()

    def query_authorization_code(self, code, client):
        # Without keys yet (a database saved before they were made with the application) the
        # first signature makes, and commits, them: do it before
        # the code is spent, so that spending it and saving what it gives stay one
        # transaction (a replay waiting on it then sees, and revokes, what it gave).
        keys.signing_key(client.options.signing_algorithm)
        row = db.session.scalar(
            select(AuthorizationCode).where(
                AuthorizationCode.code_hash == tokens.digest(code or ""),
                AuthorizationCode.application_id == client.application.id,
            )
        )
        if row is None:
            return None
        # Used here, atomically, before anything is issued: two parallel exchanges cannot
        # both win, and a failed exchange still spends the code.
        spent = db.session.execute(
            update(AuthorizationCode)
            .where(
                AuthorizationCode.id == row.id,
                AuthorizationCode.used_at.is_(None),
                AuthorizationCode.expires_at > utcnow(),
            )
            .values(used_at=utcnow())
        )
        if spent.rowcount == 1:
            return StoredCode(row)
        # Read again: it may have been used, or deleted (a consent withdrawn) meanwhile.
        used_at = db.session.scalar(
            select(AuthorizationCode.used_at).where(AuthorizationCode.id == row.id)
        )
        if used_at is not None:
            # RFC 9700 4.1.2: a replayed code revokes what it issued.
            revoked = tokens.revoke_from_code(row.id)
            _event("oauth2_code_replayed", client, row.user_id, revoked=revoked)
        return None

    def delete_authorization_code(self, authorization_code):
        """Already spent in query_authorization_code."""

    def authenticate_user(self, authorization_code):
        """The user, if the code still stands for them: the sign-in it came from has not
        ended and the application still lets them in (a code lives 60 s, but an account can
        be disabled, a session ended or a binding added in that time)."""
        row = authorization_code.row
        user = db.session.get(User, row.user_id)
        if user is None or not user.is_active:
            return None
        if row.session_id is not None:
            session = db.session.get(UserSession, row.session_id)
            if session is None or session.revoked_at is not None:
                return None
        client = self.request.client
        if not may_use(client.application, user).allowed:
            return None
        if not consents.still_agreed(client, user, row.consent_agreement):
            log.info("code refused: consent over", extra={"application": client.application.slug})
            raise InvalidGrantError(
                "The consent this code was issued under was withdrawn, expired or given again."
            )
        return user


class RefreshGrant(RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(ALL_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        state = tokens.find(refresh_token, "refresh_token")
        if state is None:
            return None
        row = state.row
        client = self.request.client
        if row.refresh_used_at is not None and row.application_id == client.application.id:
            # RFC 9700 4.14.2: a refresh token used twice was stolen; end the whole family.
            revoked = tokens.revoke_family(row.family)
            _event("oauth2_refresh_reuse_detected", client, row.user_id, revoked=revoked)
            return None
        if not state.is_live(refresh=True) or "offline_access" not in scope_to_list(row.scope):
            return None
        return StoredToken(state, refresh=True)

    def authenticate_user(self, refresh_token):
        user = refresh_token.state.user
        client = self.request.client
        if user is None or not may_use(client.application, user).allowed:
            raise InvalidGrantError("The user may no longer use this application.")
        # Spent here, atomically, before anything is issued (authlib saves the new token
        # before revoke_old_credential): parallel requests with one refresh token cannot
        # each get a new one.
        tokens.hold_family(refresh_token.row.family)
        if not tokens.mark_refresh_used(refresh_token.row.id):
            _refuse_unspent(refresh_token.row, client, user)
        # After spending it: a withdrawal that came first has committed by then (or waits
        # for this request, then revokes what it issued), so its consent is read as it is.
        if not consents.still_agreed(client, user, refresh_token.row.consent_agreement):
            # The agreement the family was issued under is over (expired, or given again
            # since): the family ends with it, so that agreeing again does not revive it.
            revoked = tokens.revoke_family(refresh_token.row.family)
            log.info(
                "refresh refused: consent over",
                extra={"application": client.application.slug, "revoked": revoked},
            )
            raise InvalidGrantError(
                "The consent these tokens were issued under has expired or was given again."
            )
        return user

    def revoke_old_credential(self, refresh_token):
        """Already spent in authenticate_user."""


def _refuse_unspent(row: OAuth2Token, client, user: User) -> NoReturn:
    """The refresh token this request found live was spent or revoked meanwhile."""
    if tokens.was_refresh_used(row.id):
        # A parallel request exchanged it first: both are the same theft.
        revoked = tokens.revoke_family(row.family)
        _event("oauth2_refresh_reuse_detected", client, user.id, revoked=revoked)
        raise InvalidGrantError("The refresh token was already used.")
    # Revoked (or its consent withdrawn) since it was read: not a theft, and what revoked
    # it stays revoked.
    raise InvalidGrantError("The refresh token was revoked.")


class ServiceGrant(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(CLIENT_SECRET_METHODS)

    def validate_token_request(self):
        super().validate_token_request()
        client = self.request.client
        decision = may_use_as_client(client.application)
        if not decision.allowed:
            # RFC 6749 5.2: a client refused a grant is unauthorized_client (there is no
            # grant to be invalid); the refusal is an event like a person's.
            _event("oauth2_access_denied", client, None, reasons=list(decision.reasons))
            raise UnauthorizedClientError("The application's bindings do not let this client in.")


class GatehouseIDToken:
    """How Gatehouse signs ID tokens, for the code grant and (OpenID Connect Core 12.2) the
    refresh grant: the same sub and aud, the original auth_time, the session's sid."""

    def resolve_client_private_key(self, client):
        return keys.signing_key(client.options.signing_algorithm)

    def get_client_algorithm(self, client):
        return client.options.signing_algorithm

    def get_encode_header(self, client):
        key = keys.signing_key(client.options.signing_algorithm)
        return {"alg": client.options.signing_algorithm, "kid": key.kid, "typ": "JWT"}

    def get_client_claims(self, client):
        lifetime = client.options.lifetime("access_token_lifetime")
        return {
            "iss": client.issuer,
            "aud": [client.get_client_id()],
            "exp": int(time.time()) + lifetime,
        }

    def get_compatible_claims(self, request):
        claims = super().get_compatible_claims(request)
        stored = request.authorization_code or request.refresh_token
        row = stored.row if isinstance(stored, StoredCode | StoredToken) else None
        if row is not None and row.session_id is not None:
            claims["sid"] = session_sid(row.session_id)
        if isinstance(stored, StoredToken) and row.auth_time is not None:
            claims["auth_time"] = int(row.auth_time.timestamp())
        # Like the access and refresh tokens, it never outlives the consent.
        expiry = datetime.fromtimestamp(claims["exp"], UTC)
        claims["exp"] = int(consents.capped(expiry, request.client, request.user).timestamp())
        return claims

    def generate_user_info(self, user, scope):
        client = g.oauth2_client
        scopes = scope_to_list(scope) or []
        if not client.options.include_claims_in_id_token:
            scopes = [item for item in scopes if item == "openid"]
        return client.claims(user, scopes).values


class GatehouseOpenIDCode(GatehouseIDToken, OpenIDCode):
    def exists_nonce(self, nonce, request):
        return False  # codes are single use; a nonce is the client's to check


class RefreshIDToken(GatehouseIDToken, OpenIDToken):
    """A new ID token on refresh, without a nonce (OpenID Connect Core 12.2)."""


class Issuer(IssuerParameter):
    def get_issuer(self):
        client = getattr(g, "oauth2_client", None)
        return client.issuer if client is not None else None


class HintIgnored:
    """An unknown `token_type_hint` is ignored, as RFC 7009 (2.1) says and RFC 7662 (2.1)
    implies; authlib refuses it. The token is looked up whatever the hint says."""

    def check_params(self, request, client):
        if "token" not in request.form:
            raise InvalidRequestError()


class Introspection(HintIgnored, IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = list(CLIENT_SECRET_METHODS)

    def query_token(self, token_string, token_type_hint):
        state = tokens.find(token_string)
        if state is None:
            return None
        return StoredToken(state, refresh=tokens.is_refresh_value(state, token_string))

    def check_permission(self, token, client, request):
        # A client may introspect only its own tokens; another's look inactive.
        return token.check_client(client)

    def introspect_token(self, token):
        row, user = token.row, token.state.user
        client = g.oauth2_client
        if user is not None and not may_use(client.application, user).allowed:
            return {"active": False}  # the user's access was removed since it was issued
        expiry = row.refresh_expires_at if token.refresh else row.access_expires_at
        payload = {
            "active": True,
            "client_id": client.get_client_id(),
            "token_type": "refresh_token" if token.refresh else "Bearer",
            "scope": row.scope,
            "sub": str(user.id) if user else client.get_client_id(),
            "aud": client.get_client_id(),
            "iss": client.issuer,
            "exp": int(expiry.timestamp()),
            "iat": int(row.issued_at.timestamp()),
        }
        if user is not None:
            payload["username"] = user.username
        return payload


class Revocation(HintIgnored, RevocationEndpoint):
    CLIENT_AUTH_METHODS = list(ALL_METHODS)

    def query_token(self, token_string, token_type_hint):
        state = tokens.find(token_string)
        if state is None:
            return None
        return StoredToken(state, refresh=tokens.is_refresh_value(state, token_string))

    def revoke_token(self, token, request):
        if token.refresh:
            count = tokens.revoke_family(token.row.family)
        else:
            token.row.revoked_at = utcnow()
            count = 1
        _event("oauth2_token_revoked", request.client, token.row.user_id, revoked=count)


def _event(action: str, client, user_id, **detail) -> None:
    user = db.session.get(User, user_id) if user_id else None
    record_event(
        action,
        user=user,
        ip=client_ip(),
        subject=client.application.slug if client else "",
        **detail,
    )


def generate_token(grant_type, client, user=None, scope=None, expires_in=None,
                   include_refresh_token=True):  # fmt: skip
    lifetime = consents.capped_lifetime(
        client.options.lifetime("access_token_lifetime"), client, user
    )
    token = {
        "token_type": "Bearer",
        "access_token": tokens.make_access_token(client, user, scope, client.issuer, lifetime),
        "expires_in": lifetime,
        "scope": scope or "",
    }
    wants_refresh = "offline_access" in (scope_to_list(scope) or [])
    if include_refresh_token and wants_refresh and grant_type != "client_credentials":
        token["refresh_token"] = tokens.make_refresh_token()
    return token


def save_token(token, request):
    client = request.client
    grant_type = request.payload.grant_type
    code = getattr(request, "authorization_code", None)
    previous = getattr(request, "refresh_token", None)
    if isinstance(previous, StoredToken):
        family, session_id = previous.row.family, previous.row.session_id
        auth_time, code_id = previous.row.auth_time, previous.row.code_id
        agreement = previous.row.consent_agreement
    else:
        family, session_id, auth_time, code_id = tokens.new_family(), None, None, None
        agreement = None
        if isinstance(code, StoredCode):
            session_id, auth_time, code_id = code.row.session_id, code.row.auth_time, code.row.id
            agreement = code.row.consent_agreement
    refresh = token.get("refresh_token")
    row = OAuth2Token(
        application_id=client.application.id,
        user_id=request.user.id if request.user is not None else None,
        session_id=session_id,
        code_id=code_id,
        family=family,
        grant_type=grant_type,
        scope=token.get("scope", ""),
        access_token_hash=tokens.digest(token["access_token"]),
        refresh_token_hash=tokens.digest(refresh) if refresh else None,
        auth_time=auth_time,
        consent_agreement=agreement,
        issued_at=utcnow(),
        access_expires_at=tokens.expiry(token["expires_in"]),
        refresh_expires_at=_refresh_expiry(client, request.user) if refresh else None,
    )
    if row.user_id is not None:
        purge.purge_tokens_of(row.user_id, client.application.id)
    db.session.add(row)
    db.session.flush()
    metrics.OAUTH2_TOKENS.labels(grant_type).inc()
    _event("oauth2_token_issued", client, row.user_id, grant_type=grant_type, scope=row.scope)


def _refresh_expiry(client, user):
    lifetime = client.options.lifetime("refresh_token_lifetime")
    return consents.capped(tokens.expiry(lifetime), client, user)


def make_server() -> AuthorizationServer:
    server = AuthorizationServer()
    server._query_client = query_client
    server._save_token = save_token
    server.register_token_generator("default", generate_token)
    server.register_grant(CodeGrant, [S256Challenge(required=True), GatehouseOpenIDCode()])
    server.register_grant(RefreshGrant, [RefreshIDToken()])
    server.register_grant(ServiceGrant)
    server.register_endpoint(Introspection())
    server.register_endpoint(Revocation())
    server.register_extension(Issuer())
    return server


server = make_server()
