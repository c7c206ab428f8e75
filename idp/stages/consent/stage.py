import hashlib

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from idp.events import record_event
from idp.extensions import db
from idp.flows.outcomes import Advance
from idp.models import Consent
from idp.models.types import utcnow
from idp.network import client_ip
from idp.stages.base import StageType
from idp.stages.consent.authentik import AUTHENTIK
from idp.stages.consent.forms import ConsentForm
from idp.stages.consent.options import ConsentOptions


class ConsentStage(StageType):
    """Shows terms to agree to, and remembers the agreement (per user, per stage, per version
    of the terms) so that, unless told to ask always, it is not asked again."""

    name = "consent"
    label = "Consent"
    description = "Asks the user to agree to terms, once, every time, or again after a while."
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
        consent = _consent_of(user, ctx)
        return (
            consent is not None
            and consent.terms_digest == _digest(ctx.options.terms)
            and (consent.expires_at is None or consent.expires_at > utcnow())
        )

    def render(self, ctx) -> dict:
        return {"title": ctx.options.title, "paragraphs": _paragraphs(ctx.options.terms)}

    def submit(self, ctx, form):
        user = _proved_user(ctx)
        if user is not None:
            _remember(user, ctx)
            subject = ctx.binding.stage.name
            record_event(
                "consent_given", user=user, ip=client_ip(), flow_slug=ctx.flow.slug, subject=subject
            )
        # Nobody proved yet (an enrollment before its user is written): agreeing lets the
        # visitor go on, but there is no one to remember it for.
        return Advance()


def _proved_user(ctx):
    """The user who proved who they are, or the signed-in one; a name merely typed at
    identification does not count, or anyone could agree on someone's behalf."""
    return ctx.proved_user or ctx.current_user


def _consent_of(user, ctx) -> Consent | None:
    return db.session.scalar(
        select(Consent).where(Consent.user_id == user.id, Consent.subject == ctx.binding.stage.name)
    )


def _remember(user, ctx) -> None:
    now = utcnow()
    lifetime = ctx.options.lifetime
    values = {
        "terms_digest": _digest(ctx.options.terms),
        "given_at": now,
        "expires_at": now + lifetime if lifetime is not None else None,
    }
    consent = _consent_of(user, ctx)
    if consent is None:
        try:
            with db.session.begin_nested():
                db.session.add(Consent(user_id=user.id, subject=ctx.binding.stage.name, **values))
            return
        except IntegrityError:  # a parallel request agreed first; this answer is as good
            consent = _consent_of(user, ctx)
    for name, value in values.items():
        setattr(consent, name, value)


def _digest(terms: str) -> str:
    return hashlib.sha256(terms.encode()).hexdigest()


def _paragraphs(terms: str) -> list[list[str]]:
    """Blank lines part paragraphs; a single line break stays a line break."""
    text = terms.replace("\r\n", "\n").strip()
    blocks = [block.strip() for block in text.split("\n\n")]
    return [block.split("\n") for block in blocks if block]
