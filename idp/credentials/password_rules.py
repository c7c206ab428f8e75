"""Sign-up's password rules, applied where a password is set outside a prompt: an
administrator setting a user's password in the admin. They are the options of the password
policy sign-up uses (`default-enrollment-password-rules`, which initial setup uses too), or
that policy type's defaults when it is gone, so an administrator cannot set a password that
sign-up would refuse."""

from types import MappingProxyType

from sqlalchemy import select

from idp.core.extensions import db
from idp.core.i18n import N_, translated
from idp.core.options import OptionsError
from idp.flows.context import PROMPT_DATA
from idp.models import Policy
from idp.policies.password import PasswordPolicy
from idp.policies.types import PolicyError, PolicyRequest, PolicyUser

SIGN_UP_PASSWORD_RULES = "default-enrollment-password-rules"  # noqa: S105 (a policy name)
NOT_CHECKED = N_("The password could not be checked just now. Try again in a moment.")

_password_policy = PasswordPolicy()


def _sign_up_options():
    stored = db.session.scalar(
        select(Policy.options).where(
            Policy.name == SIGN_UP_PASSWORD_RULES, Policy.type == _password_policy.name
        )
    )
    try:
        return _password_policy.parse_options(stored or {})
    except OptionsError:
        # Stored options that no longer parse: the defaults are never weaker than nothing.
        return _password_policy.parse_options({})


def password_problems(password: str, username: str = "", email: str = "") -> list[str]:
    """What sign-up's rules say about `password` for the account named; empty when it is
    accepted. A rule that cannot decide (a breach service down) refuses."""
    options = _sign_up_options()
    request = PolicyRequest(
        user=PolicyUser(username=username, email=email or ""),
        context=MappingProxyType({PROMPT_DATA: {options.password_field: password}}),
    )
    try:
        result = _password_policy.evaluate(request, options)
    except PolicyError:
        return [translated(NOT_CHECKED)]
    return [] if result.passing else list(result.messages)
