"""What a plan may do only once, decided by the database rather than by the cookie.

The plan lives in a cookie that can be copied and replayed, and two requests can carry the
same plan at the same time. A stage whose work must not be repeated by the same plan (a user
created or written, an invitation's sign-up, a mail sent on arrival, recovery codes made, an
authenticator saved, an account deleted) claims it here first, in the transaction that does
the work: one INSERT against a unique (plan_id, effect) constraint. Of two claims exactly one
wins; the other waits for it (PostgreSQL, or SQLite's single writer) and then loses. Rolled
back with the work, a claim is gone with it, so a step refused for a taken username may run
again in the same plan.
"""

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from idp.core.extensions import db
from idp.core.i18n import N_
from idp.models import PlanEffect
from idp.models.types import utcnow

ALREADY_DONE = N_("This step was already done. Please start again.")
# A plan lives a day at most, and an emailed link may resume it up to a week later: the
# claims are kept well beyond both.
KEPT_FOR = timedelta(days=30)


class EffectRepeated(Exception):
    """A replayed or parallel plan tried to do again what it did once. The executor rolls
    back the whole request and stops the flow."""

    def __init__(self, effect: str):
        self.effect = effect
        super().__init__(ALREADY_DONE)


def effect_of(ctx, kind: str) -> str:
    """The effect `kind` of this stage binding (a flow may have two stages of one type)."""
    return f"{kind}:{ctx.binding.id}"


def claim(plan_id: str, effect: str) -> bool:
    """Record that the plan does this now. False when it was done before (or a parallel
    request of the same plan is doing it): the caller must not do it again."""
    try:
        with db.session.begin_nested():
            db.session.add(PlanEffect(plan_id=plan_id, effect=effect))
    except IntegrityError:
        return False
    return True


def claim_or_stop(ctx, kind: str) -> None:
    """Claim this stage's effect, or raise EffectRepeated."""
    effect = effect_of(ctx, kind)
    if not claim(ctx.plan_id, effect):
        raise EffectRepeated(effect)


def purge() -> int:
    """Delete claims old enough that no plan carrying them can still be used."""
    return db.session.execute(
        delete(PlanEffect).where(PlanEffect.created_at < utcnow() - KEPT_FOR)
    ).rowcount


def bindings_that_acted(plan_id: str) -> set[int]:
    """The stage bindings that did something once in this plan (effect_of names them)."""
    effects = db.session.scalars(select(PlanEffect.effect).where(PlanEffect.plan_id == plan_id))
    acted = set()
    for effect in effects:
        _, _, binding_id = effect.rpartition(":")
        if binding_id.isdigit():
            acted.add(int(binding_id))
    return acted
