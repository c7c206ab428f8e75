"""What every provider type has. A type overrides only what it needs."""

from abc import ABC

from flask import Blueprint

from idp.core.options import NoOptions, parse_options
from idp.core.options_forms import options_form_for


class ProviderType(ABC):
    name: str
    label: str
    description: str = ""
    Options: type = NoOptions
    # Its own routes (the OpenID Connect endpoints), registered by the factory.
    blueprint: Blueprint | None = None
    # Admin pages of the type's own, as (endpoint, label): linked from the application's page.
    admin_tools: tuple[tuple[str, str], ...] = ()
    # authentik's provider model this type reads from blueprints (transfer/authentik_models.py).
    authentik = None

    @property
    def options_form(self) -> type:
        """The admin's settings form; a package sets its own here."""
        return options_form_for(self.Options)

    def parse_options(self, mapping):
        """The one validator: admin, import and every request go through it."""
        return parse_options(self.Options, mapping)

    def claimed_address(self, options) -> str | None:
        """What no two applications of this type may share, since a request to it could not
        tell them apart (a proxy's host and path); None when the type claims nothing."""
        return None

    def provision(self, provider, options) -> dict:
        """Called once when the provider is created (flushed): fill in generated columns and
        return what is shown once and never again (a client secret), by name."""
        return {}

    def ready_to_serve(self, options) -> None:
        """Called whenever a provider is saved with these options (created, edited, imported,
        and by `idp setup` for every one), before the commit: make what serving it needs, so
        that no request has to write it first."""
        return None

    def facts(self, application, provider, options, base_url: str) -> dict:
        """What a person configuring the application needs (client id, issuer, endpoints),
        as label -> value; shown in the admin and printed by `idp apps create --json`."""
        return {}

    def rotate_secret(self, provider, options) -> dict | None:
        """A new secret replaces the old one at once; returns it (shown once), or None when
        the type has no secret to rotate."""
        return None

    def referenced_scope_mappings(self, options) -> tuple[str, ...]:
        """Names of the scope mappings (admin-defined OpenID Connect scopes) the options
        offer, so flow files can carry and check them."""
        return ()

    def preview(self, application, provider, options, user) -> dict | None:
        """What the application would receive about `user` (the admin's claims preview), or
        None when the type has nothing to show."""
        return None
