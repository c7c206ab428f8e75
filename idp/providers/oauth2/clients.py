"""The applications that sign in over OpenID Connect, kept in the worker under the flows
revision as forward auth's are (idp/providers/proxy/targets.py). The authorization, token
and userinfo endpoints then find their application, its bindings, its parsed settings and
its authorization flow's slug without building them again on each request. An app's call to
the token endpoint carries no session cookie: it reads the revision by itself, one small
query in place of the three that build the application."""

import logging
from dataclasses import dataclass

from sqlalchemy import select

from idp.applications.loading import applications_of_type
from idp.core.extensions import db
from idp.core.options import OptionsError, parse_options
from idp.flows.revision import kept_apart
from idp.models import Application, Flow
from idp.providers.oauth2.options import OAuth2Options

KEPT_KEY = "gatehouse.oauth2_applications"

log = logging.getLogger("idp.oauth2")


@dataclass(frozen=True)
class Registered:
    application: Application
    options: OAuth2Options | None  # None: the provider's settings cannot be read
    authorization_flow_slug: str


@dataclass(frozen=True)
class Registry:
    by_client_id: dict[str, Registered]
    by_id: dict[int, Registered]
    by_slug: dict[str, Registered]


def registry() -> Registry:
    return kept_apart(db.session, KEPT_KEY, _load)


def _load(session) -> Registry:
    applications = applications_of_type(session, "oauth2")
    flow_ids = {application.provider.authorization_flow_id for application in applications}
    flow_slugs = dict(
        session.execute(select(Flow.id, Flow.slug).where(Flow.id.in_(flow_ids))).all()
    )
    found = [
        Registered(
            application,
            _options_of(application),
            flow_slugs.get(application.provider.authorization_flow_id, ""),
        )
        for application in applications
    ]
    return Registry(
        by_client_id={
            entry.application.provider.client_id: entry
            for entry in found
            if entry.application.provider.client_id
        },
        by_id={entry.application.id: entry for entry in found},
        by_slug={entry.application.slug: entry for entry in found},
    )


def _options_of(application: Application) -> OAuth2Options | None:
    try:
        return parse_options(OAuth2Options, application.provider.options)
    except OptionsError:
        log.warning("oauth2 provider misconfigured", extra={"application": application.slug})
        return None
