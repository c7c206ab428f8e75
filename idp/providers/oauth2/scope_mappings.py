"""Admin-defined scopes: asking for one gives the claims its expression returns.

The expression runs in the policies' sandbox (idp.policies.expression) and must give a mapping
of claim names to JSON values. It fails closed: an expression that raises, runs too long or
gives anything else adds no claim; the failure goes to the log and the events (its kind only:
an error message may quote the user's data), never to the client.
"""

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

from jinja2 import Undefined
from jinja2.runtime import Context
from sqlalchemy import select

from idp.core.events import record_event
from idp.core.extensions import db
from idp.core.i18n import N_
from idp.core.network import client_ip
from idp.identity.accounts import groups_of
from idp.models import ScopeMapping, User
from idp.policies.expression import expression_scope, run_expression
from idp.policies.types import PolicyError, PolicyUser, answering_by
from idp.providers.oauth2.claims import PERMISSIONS, standard_claims

log = logging.getLogger("idp.oauth2")

# Seconds one scope mapping may run for one token.
MAPPING_TIMEOUT = 2
MAX_DEPTH = 20
# What the protocol sets: an expression never overrides these.
PROTOCOL_CLAIMS = frozenset(
    {
        "sub", "iss", "aud", "exp", "iat", "nbf", "jti", "auth_time", "nonce", "acr", "amr",
        "azp", "at_hash", "c_hash", "sid", "events", "client_id", "scope",
    }
)  # fmt: skip


class NotJSON(ValueError):
    """A value a token cannot carry."""


@dataclass(frozen=True)
class ApplicationView:
    """What a scope mapping's expression may know of the application asking."""

    slug: str
    name: str


@dataclass(frozen=True)
class MappingFailure:
    mapping: str
    # The whole message (the admin's preview shows it), and its kind (what logs say).
    reason: str
    kind: str


@dataclass(frozen=True)
class Claims:
    values: dict
    failures: tuple[MappingFailure, ...] = ()


def load_scope_mappings(names) -> list[ScopeMapping]:
    """The scope mappings of these names that exist, in the order named (no query for none)."""
    names = list(names)
    if not names:
        return []
    found = {
        mapping.name: mapping
        for mapping in db.session.scalars(select(ScopeMapping).where(ScopeMapping.name.in_(names)))
    }
    return [found[name] for name in names if name in found]


def permissions_for(scopes, mappings) -> list[str]:
    """What the consent page lists: a line per scope asked for."""
    described = {mapping.name: mapping.description or mapping.name for mapping in mappings}
    return [
        PERMISSIONS.get(scope) or described[scope]
        for scope in scopes
        if scope in PERMISSIONS or scope in described
    ]


def claims_for(application, user: User, scopes, mappings, *, record_failures=True) -> Claims:
    """Every claim `scopes` give about `user`: the standard ones, then each scope mapping
    asked for. With `record_failures`, a failed mapping is logged and recorded as an event."""
    scopes = list(scopes)
    wanted = [mapping for mapping in mappings if mapping.name in scopes]
    groups = groups_of(user) if wanted or "profile" in scopes else []
    claims = standard_claims(user, scopes, [group.name for group in groups])
    failures = []
    if wanted:
        scope = expression_scope(
            {
                "user": PolicyUser.from_user(user, groups),
                "application": ApplicationView(application.slug, application.name),
                "scopes": tuple(scopes),
            }
        )
        for mapping in wanted:
            values, failure = _evaluate(mapping, scope)
            claims.update(values)
            if failure is not None:
                failures.append(failure)
    if record_failures:
        for failure in failures:
            _record(failure, application, user)
    return Claims(claims, tuple(failures))


def _evaluate(mapping: ScopeMapping, scope: Context) -> tuple[dict, MappingFailure | None]:
    deadline = time.monotonic() + MAPPING_TIMEOUT
    try:
        with answering_by(deadline):
            result = run_expression(mapping.expression, scope)
        if time.monotonic() > deadline:
            raise PolicyError(N_("took longer than %(seconds)s s"), seconds=MAPPING_TIMEOUT)
        claims = _claims_from(result)
    except (PolicyError, NotJSON) as error:
        return {}, MappingFailure(mapping.name, str(error), type(error).__name__)
    refused = sorted(PROTOCOL_CLAIMS & claims.keys())
    if refused:
        kept = {name: value for name, value in claims.items() if name not in PROTOCOL_CLAIMS}
        reason = f"may not set {', '.join(refused)} (the protocol's own claims): left out"
        return kept, MappingFailure(mapping.name, reason, "ProtocolClaim")
    return claims, None


def _claims_from(result) -> dict:
    if not isinstance(result, Mapping):
        raise NotJSON(f"gave {type(result).__name__}, not a mapping of claim names to values")
    return _json_value(result, 0)


def _json_value(value, depth: int):
    if depth > MAX_DEPTH:
        raise NotJSON("nests deeper than a token may")
    if isinstance(value, Undefined):
        raise NotJSON("names something that is not there")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotJSON("gave a number JSON cannot carry")
        return value
    if isinstance(value, list | tuple):
        return [_json_value(item, depth + 1) for item in value]
    if isinstance(value, Mapping):
        plain = {}
        for key, item in value.items():
            if not isinstance(key, str) or not key:
                raise NotJSON("named a claim with something other than text")
            plain[key] = _json_value(item, depth + 1)
        return plain
    raise NotJSON(f"gave a {type(value).__name__}, which JSON cannot carry")


def _record(failure: MappingFailure, application, user: User) -> None:
    log.warning(
        "scope mapping failed, its claims are left out",
        extra={"mapping": failure.mapping, "application": application.slug, "error": failure.kind},
    )
    record_event(
        "oauth2_scope_mapping_failed",
        user=user,
        ip=client_ip(),
        subject=application.slug,
        mapping=failure.mapping,
        error=failure.kind,
    )
