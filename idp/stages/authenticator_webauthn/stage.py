from idp.core.events import record_event
from idp.core.i18n import N_
from idp.core.network import client_ip
from idp.credentials import passkeys, reauthentication
from idp.flows import once
from idp.flows.outcomes import Advance, Deny, Retry, Stay
from idp.identity import sessions
from idp.stages.authenticator_webauthn.authentik import AUTHENTIK
from idp.stages.authenticator_webauthn.forms import (
    WebAuthnSetupForm,
    WebAuthnStartForm,
)
from idp.stages.authenticator_webauthn.options import AuthenticatorWebAuthnOptions
from idp.stages.base import StageType

DEVICE_SAVED = "webauthn_device"
FOLLOW_THE_BROWSER = N_("Name your passkey, then follow your browser's prompts.")


class AuthenticatorWebAuthnStage(StageType):
    """Sets up a passkey or security key for the user the flow is about.

    The challenge is a database row for this plan's stage, made when the stage is reached
    (or by a click, when another site's link brought the user here) and used up by the
    answer; the browser's part runs in idp/static/webauthn.js."""

    name = "authenticator_webauthn"
    label = N_("Passkey setup")
    description = N_(
        "Sets up a passkey or security key (WebAuthn). Needs JavaScript and IDP_BASE_URL "
        "(or IDP_WEBAUTHN_RP_ID / IDP_WEBAUTHN_ORIGIN) set to a domain name."
    )
    Options = AuthenticatorWebAuthnOptions
    authentik = AUTHENTIK
    form_class = WebAuthnSetupForm

    def build_form(self, ctx):
        if reauthentication.is_required(ctx):
            return reauthentication.ReauthenticateForm()
        if _challenge_of(ctx) is None:
            return WebAuthnStartForm()  # a button that makes a challenge
        return WebAuthnSetupForm()

    def on_reach(self, ctx):
        user = ctx.proved_user
        if user is None or passkeys.relying_party() is None:
            return None
        if reauthentication.is_required(ctx) or _challenge_of(ctx) is not None:
            return None
        _new_challenge(ctx, user)
        return None

    def render(self, ctx) -> dict:
        if reauthentication.is_required(ctx):
            return reauthentication.page(ctx)
        party, user, challenge = passkeys.relying_party(), ctx.proved_user, _challenge_of(ctx)
        options_json = None
        if party is not None and user is not None and challenge is not None:
            options_json = passkeys.registration_options_json(
                party,
                user,
                passkeys.base64url_to_bytes(challenge.challenge),
                ctx.options.settings,
            )
        return {
            "unavailable": passkeys.UNAVAILABLE if party is None else "",
            "options_json": options_json,
            "username": user.username if user else "",
        }

    def submit(self, ctx, form):
        user, party = ctx.proved_user, passkeys.relying_party()
        if user is None:
            return Deny(N_("Please sign in first."))
        if party is None:
            return Deny(passkeys.UNAVAILABLE)
        if reauthentication.is_required(ctx):
            refusal = reauthentication.confirm(ctx, form)
            if refusal is not None:
                return refusal
            _new_challenge(ctx, user)
            return Stay(FOLLOW_THE_BROWSER)
        if not form.webauthn_response.data:
            # Reached from another site, so on_reach waited for this click.
            _new_challenge(ctx, user)
            return Stay(FOLLOW_THE_BROWSER)
        challenge = passkeys.take_challenge(ctx.plan_id, ctx.binding.id, passkeys.REGISTER)
        if challenge is None:
            # Deleting the account deletes its challenge too (and waits for a request that
            # took it): a challenge gone with the account is not one that expired.
            if not passkeys.account_exists(user):
                return _account_gone()
            _new_challenge(ctx, user)
            return Retry(passkeys.EXPIRED)
        try:
            device = passkeys.register(
                party,
                user,
                challenge,
                form.webauthn_response.data,
                ctx.options.settings,
                form.name.data,
            )
        except passkeys.PasskeyRefused as refused:
            _new_challenge(ctx, user)
            return Retry(refused.message)
        except passkeys.AccountGone:
            return _account_gone()
        # Once per plan: a replayed cookie must not add a second passkey.
        once.claim_or_stop(ctx, DEVICE_SAVED)
        record_event(
            "authenticator_added",
            user=user,
            ip=client_ip(),
            flow_slug=ctx.flow.slug,
            kind="webauthn",
            name=device.name,
        )
        reauthentication.notify_added(user, "webauthn")
        return Advance(notice=ctx.options.done_message)


def _account_gone() -> Deny:
    """The account was deleted meanwhile, its sessions with it: the flow ends, and this
    request goes on as nobody (its events name no user that no longer exists)."""
    sessions.forget_user_deleted_meanwhile()
    return Deny(passkeys.ACCOUNT_GONE)


def _challenge_of(ctx):
    return passkeys.current_challenge(ctx.plan_id, ctx.binding.id, passkeys.REGISTER)


def _new_challenge(ctx, user) -> None:
    passkeys.new_challenge(ctx.plan_id, ctx.binding.id, passkeys.REGISTER, user)
