import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from idp.core.durations import parse_duration
from idp.core.i18n import N_, Sentence
from idp.core.options import OptionsError, option

SCOPES = ("openid", "profile", "email", "offline_access")
# What a scope may be called (RFC 6749 3.3 allows more; these read well in a URL and a page).
SCOPE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}\Z")
MAX_LIFETIMES = {
    "access_token_lifetime": 24 * 3600,
    "refresh_token_lifetime": 365 * 24 * 3600,
}


@dataclass(frozen=True)
class OAuth2Options:
    # confidential: a server that keeps a secret; public: a browser or native app that cannot.
    client_type: Literal["confidential", "public"] = "confidential"
    # Matched exactly, character for character.
    redirect_uris: tuple[str, ...] = ()
    # Where RP-initiated logout may send the user back to (redirect URIs count too).
    post_logout_redirect_uris: tuple[str, ...] = ()
    # Public clients always need PKCE; a confidential one may be let off.
    require_pkce: bool = True
    # Native apps on loopback pick their port at run time: RFC 8252 7.3 says a loopback IP
    # redirect URI (http://127.0.0.1/..., http://[::1]/...) MUST then accept any port. Only a
    # public client is a native app: a confidential one always matches exactly, whatever this
    # says. On by default (the MUST); off pins a public client's port too.
    allow_any_loopback_port: bool = True
    signing_algorithm: Literal["ES256", "RS256"] = "ES256"
    allowed_scopes: tuple[Literal["openid", "profile", "email", "offline_access"], ...] = SCOPES
    access_token_lifetime: str = "10m"  # noqa: S105 (a duration, not a secret)
    refresh_token_lifetime: str = "30d"  # noqa: S105
    # Put the profile and email claims into the ID token too, not only into userinfo.
    include_claims_in_id_token: bool = True
    # Admin-defined scopes (scope mappings, by name) the application may ask for as well.
    scope_mappings: tuple[str, ...] = ()
    # Back-channel logout 1.0: where Gatehouse posts a logout token when a session that
    # signed in to the application ends.
    backchannel_logout_uri: str = ""
    # The client's registration (Back-Channel Logout 1.0, 2.2): it needs the session id
    # (`sid`) in the logout token. Gatehouse always sends it, beside the user (`sub`).
    backchannel_logout_session_required: bool = option(
        False,
        N_(
            "Kept as the application registered it. Gatehouse always names the session (sid) "
            "in the logout token, so this changes nothing."
        ),
    )

    def validate(self):
        for index, uri in enumerate(self.redirect_uris):
            problem = _redirect_problem(uri)
            if problem:
                raise OptionsError(f"redirect_uris[{index}]", problem)
        for index, uri in enumerate(self.post_logout_redirect_uris):
            problem = _redirect_problem(uri)
            if problem:
                raise OptionsError(f"post_logout_redirect_uris[{index}]", problem)
        for index, name in enumerate(self.scope_mappings):
            problem = scope_name_problem(name)
            if problem:
                raise OptionsError(f"scope_mappings[{index}]", problem)
        if len(set(self.scope_mappings)) != len(self.scope_mappings):
            raise OptionsError("scope_mappings", N_("names a scope mapping twice"))
        if self.backchannel_logout_uri:
            problem = _backchannel_problem(self.backchannel_logout_uri)
            if problem:
                raise OptionsError("backchannel_logout_uri", problem)
        elif self.backchannel_logout_session_required:
            raise OptionsError(
                "backchannel_logout_session_required", N_("needs a backchannel_logout_uri")
            )
        if self.client_type == "public" and not self.require_pkce:
            raise OptionsError("require_pkce", N_("a public client must use PKCE"))
        for name, limit in MAX_LIFETIMES.items():
            try:
                seconds = parse_duration(getattr(self, name)).total_seconds()
            except ValueError as error:
                raise OptionsError(name, error.args[0]) from None
            if not 0 < seconds <= limit:
                raise OptionsError(
                    name, N_("must be between 1s and %(limit)sh"), limit=limit // 3600
                )

    @property
    def is_public(self) -> bool:
        return self.client_type == "public"

    def lifetime(self, name: str) -> int:
        return int(parse_duration(getattr(self, name)).total_seconds())


# The problems below are English constants marked N_, or Sentences where they name something:
# the importer prints them, the admin says them in its language.


def _redirect_problem(uri: str) -> str:
    if len(uri) > 2000:
        return N_("is longer than 2000 characters")
    parts = urlsplit(uri)
    if not parts.scheme or parts.fragment or any(ord(c) < 33 for c in uri):
        return N_("must be an absolute URI without a fragment or spaces")
    if parts.scheme in ("http", "https") and not parts.hostname:
        return N_("must name a host")
    if parts.scheme.lower() in ("javascript", "data", "vbscript", "file"):
        return Sentence(N_("may not use the %(scheme)s scheme"), scheme=parts.scheme)
    return ""


def scope_name_problem(name: str) -> str:
    if name in SCOPES:
        return Sentence(N_("%(name)s is a scope Gatehouse has built in"), name=name)
    if not SCOPE_NAME.match(name or ""):
        return N_(
            "a scope is 1 to 100 letters, digits, _ . : / or -, starting with a letter or digit"
        )
    return ""


def _backchannel_problem(uri: str) -> str:
    problem = _redirect_problem(uri)
    if problem:
        return problem
    # Gatehouse itself posts here, from the server: only the web, never a custom scheme.
    if urlsplit(uri).scheme not in ("http", "https"):
        return N_("must be an http:// or https:// address")
    return ""
