"""What the flow pages tell an administrator about where a step is bound: the order that puts a
new step before signing in (or out), the steps placed after it, and the steps that apply to
everyone because nothing is bound to them."""

from dataclasses import dataclass

from flask_babel import gettext as _

from idp.core.i18n import lazy_text as _l
from idp.models import Flow, StageBinding

# Stage types after which a step no longer does what it usually should: the user is already
# signed in (a step meant to guard the sign-in comes too late) or already signed out.
ENDINGS = {
    "user_login": (
        _l("sign-in"),
        _l("the user is already signed in when it runs, so it cannot stop or guard the sign-in"),
    ),
    "user_logout": (
        _l("sign-out"),
        _l("the user is already signed out when it runs, so no user is known any more"),
    ),
}
STEP = 10


def first_ending(flow: Flow) -> StageBinding | None:
    """The first sign-in or sign-out step of the flow, in the order the planner walks them."""
    return next((item for item in flow.bindings if item.stage.type in ENDINGS), None)


def suggested_order(flow: Flow) -> int:
    """The order a new binding starts with: after the last step, but before the first sign-in
    or sign-out step when the flow has one, so that the new step runs while it still can."""
    orders = [item.order for item in flow.bindings]
    ending = first_ending(flow)
    if ending is None:
        return max(orders, default=0) + STEP
    before = [item.order for item in flow.bindings[: flow.bindings.index(ending)]]
    if not before:
        return ending.order - STEP
    last = max(before)
    if last + STEP < ending.order:
        return last + STEP
    if last < ending.order:
        # No room for a whole step: between the two, or equal to the last when they are
        # neighbours (a tie sorts by when the binding was made, so still before the ending).
        return (last + ending.order) // 2
    return ending.order - 1


def suggestion_in_words(flow: Flow) -> str:
    ending = first_ending(flow)
    if ending is None:
        return _("Suggested: after the last step.")
    name, _consequence = ENDINGS[ending.stage.type]
    return _(
        "Suggested: before the %(name)s stage %(name2)s (order %(order)s), so the new step runs "
        "before the %(name)s.",
        name=name,
        name2=ending.stage.name,
        order=ending.order,
    )


@dataclass(frozen=True)
class Placement:
    """A step placed after the flow signs the user in or out."""

    after: str  # sign-in | sign-out
    text: str


def placement_warnings(flow: Flow) -> dict[int, Placement]:
    """Binding id -> why its place is suspicious, for every step after a sign-in or sign-out."""
    warnings, ending = {}, None
    for binding in flow.bindings:
        if ending is not None:
            name, consequence = ENDINGS[ending.stage.type]
            text = _(
                "This step comes after the %(name)s stage %(name2)s: %(consequence)s. Give it a "
                "lower order than %(order)s unless it is meant to run after the %(name)s.",
                name=name,
                name2=ending.stage.name,
                consequence=consequence,
                order=ending.order,
            )
            warnings[binding.id] = Placement(name, text)
        if ending is None and binding.stage.type in ENDINGS:
            ending = binding
    return warnings


def applies_to_everyone(binding: StageBinding | None) -> bool:
    """No enabled policy, group or user is bound to the step: it runs for everyone."""
    return binding is None or not any(item.enabled for item in binding.policy_bindings)


EVERYONE_WORDS = _l(
    "Applies to everyone: no policy, group or user is bound to this step, so it runs for "
    "everyone who goes through the flow as soon as it is bound. To limit it, bind a policy, "
    "group or user to it on the Stage Bindings tab."
)
