import hashlib

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from idp.core.events import record_event
from idp.core.extensions import db
from idp.core.i18n import N_, translated
from idp.core.network import client_ip
from idp.flows.context import APPLICATION
from idp.flows.handoff import DECLINED
from idp.flows.outcomes import Advance
from idp.models import Consent
from idp.models.consents import new_agreement
from idp.models.types import utcnow
from idp.stages.base import StageType
from idp.stages.consent.authentik import AUTHENTIK
from idp.stages.consent.forms import DECLINE, ConsentForm
from idp.stages.consent.options import ConsentOptions


class ConsentStage(StageType):
    """Shows terms to agree to, and remembers the agreement (per user, per stage, per version
    of the terms) so that, unless told to ask always, it is not asked again.

    In an authorization flow (the plan context names an application) it asks whether the
    application may receive what it asked for, and remembers that per user and application,
    with the scopes agreed to: asking for more asks again."""

    name = "consent"
    label = N_("Consent")
    description = N_("Asks the user to agree to terms, once, every time, or again after a while.")
    Options = ConsentOptions
    authentik = AUTHENTIK
    form_class = ConsentForm
    confirm_label = "I agree"

    def is_satisfied(self, ctx) -> bool:
        if ctx.options.mode == "always":
            return False
        user = _proved_user(ctx)
        if user is None:
            return False
        application = _application(ctx)
        if application.get("ask_again"):  # the application asked with prompt=consent
            return False
        return _covers(_consent_of(user, ctx), ctx.options, application.get("scopes"))

    def render(self, ctx) -> dict:
        application = _application(ctx)
        return {
            "title": translated(ctx.options.title),
            "paragraphs": _paragraphs(ctx.options.terms),
            "application_name": application.get("name"),
            "permissions": [translated(words) for words in application.get("permissions") or ()],
        }

    def submit(self, ctx, form):
        user = _proved_user(ctx)
        application = _application(ctx)
        if application and form.decision.data == DECLINE:
            # Nothing is remembered; the provider tells the application access_denied.
            record_event(
                "consent_declined", user=user, ip=client_ip(), flow_slug=ctx.flow.slug,
                subject=_subject(ctx),
            )  # fmt: skip
            return Advance(updates={APPLICATION: {**application, DECLINED: True}})
        if user is not None:
            _remember(user, ctx)
            record_event(
                "consent_given",
                user=user,
                ip=client_ip(),
                flow_slug=ctx.flow.slug,
                subject=_subject(ctx),
                scopes=sorted(_application(ctx).get("scopes") or ()),
            )
        # Nobody proved yet (an enrollment before its user is written): agreeing lets the
        # visitor go on, but there is no one to remember it for.
        return Advance()


def _proved_user(ctx):
    """The user who proved who they are, or the signed-in one; a name merely typed at
    identification does not count, or anyone could agree on someone's behalf."""
    return ctx.proved_user or ctx.current_user


def _application(ctx) -> dict:
    """The application an authorization flow runs for: {id, name, scopes, permissions,
    ask_again, request} (see idp.flows.handoff)."""
    value = ctx.data.get(APPLICATION)
    return value if isinstance(value, dict) and isinstance(value.get("id"), int) else {}


def _subject(ctx) -> str:
    application = _application(ctx)
    if application:
        return f"application:{application['id']}"
    return ctx.binding.stage.name


def _stands(consent: Consent | None) -> bool:
    """Given and not expired (the expiry instant itself is already over)."""
    return consent is not None and (consent.expires_at is None or consent.expires_at > utcnow())


def _is_current(consent: Consent | None, options) -> bool:
    return _stands(consent) and consent.terms_digest == _digest(options.terms)


def _covers(consent: Consent | None, options, scopes) -> bool:
    return _is_current(consent, options) and set(scopes or ()) <= set(consent.scopes or ())


def application_consent_covers(user, application_id: int, options, scopes) -> bool:
    """Whether the consent stage with these options would pass by itself for this user,
    application and scopes: what an authorization with prompt=none (no page may be shown)
    needs to know. Asking always never passes by itself."""
    if options.mode == "always":
        return False
    consent = db.session.scalar(
        select(Consent).where(
            Consent.user_id == user.id, Consent.subject == f"application:{application_id}"
        )
    )
    return _covers(consent, options, scopes)


def _consent_of(user, ctx) -> Consent | None:
    return db.session.scalar(
        select(Consent).where(Consent.user_id == user.id, Consent.subject == _subject(ctx))
    )


def _remember(user, ctx) -> None:
    now = utcnow()
    lifetime = ctx.options.lifetime
    application = _application(ctx)
    consent = _consent_of(user, ctx)
    scopes = set(application.get("scopes") or ())
    if _is_current(consent, ctx.options):
        scopes |= set(consent.scopes or ())  # agreeing to more keeps what was agreed before
    values = {
        "terms_digest": _digest(ctx.options.terms),
        "given_at": now,
        "expires_at": now + lifetime if lifetime is not None else None,
        "application_id": application.get("id"),
        "scopes": sorted(scopes),
    }
    if consent is None:
        try:
            with db.session.begin_nested():
                db.session.add(Consent(user_id=user.id, subject=_subject(ctx), **values))
            return
        except IntegrityError:  # a parallel request agreed first; this answer is as good
            consent = _consent_of(user, ctx)
    if not _stands(consent):
        # A new agreement, not the old one's renewal: tokens issued under that one stay over.
        consent.agreement = new_agreement()
    for name, value in values.items():
        setattr(consent, name, value)


def _digest(terms: str) -> str:
    return hashlib.sha256(terms.encode()).hexdigest()


def _paragraphs(terms: str) -> list[list[str]]:
    """Blank lines part paragraphs; a single line break stays a line break."""
    text = terms.replace("\r\n", "\n").strip()
    blocks = [block.strip() for block in text.split("\n\n")]
    return [block.split("\n") for block in blocks if block]
