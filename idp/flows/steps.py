"""Going back a step: the browser's Back button, JavaScript on or off.

Every stage page has its own address (`?step=<binding id>`). The plan remembers, for each
step the visitor answered, the position and the plan context from just before the answer
(`FlowPlan.history`). Opening an earlier step's address shows that step again as it was
asked, and changes nothing; answering it there puts the plan back to that point (the context
included, so nothing proved later stays proved) and goes on from it.

A step is out of reach once the flow did something that cannot be done twice after it: a
stage that ran by itself (a user written, a session started) forgets the history, and a
step at or after which the plan claimed a one-time effect (idp.flows.once: a mail sent on
arrival, codes made) is not gone back to. Those addresses show the current step instead.

The flow's bare address shows the current step, as every entry to a flow expects. The first
page is loaded there; a script in its head names the step in the address before the page can
be clicked (static/step-address.js), so with JavaScript Back returns to it. Without
JavaScript the first page keeps the bare address, and Back to it shows where the flow is now.
"""

import copy

from flask import request

from idp.flows import once
from idp.flows.plan import FlowPlan

STEP_ARGUMENT = "step"
# Enough to go back through any shipped flow; the cookie stays small.
KEPT_STEPS = 4


def asked_step() -> int | None:
    """The binding id the address names, if any."""
    value = request.args.get(STEP_ARGUMENT, "")
    return int(value) if value.isdigit() else None


def remember_answer(plan: FlowPlan, binding_id: int, position: int, context: dict) -> None:
    """The visitor answered the step at `position`; `context` is the plan's from before."""
    entries = [entry for entry in plan.history if entry[0] != binding_id]
    entries.append([binding_id, position, copy.deepcopy(context)])
    plan.history = entries[-KEPT_STEPS:]


def forget_answers(plan: FlowPlan) -> None:
    """A stage acted on its own: no step before it can be answered again."""
    plan.history = []


def earlier_step(plan: FlowPlan, binding_id: int) -> list | None:
    """The history entry of an earlier step the visitor may go back to, or None."""
    entry = next((entry for entry in plan.history if entry[0] == binding_id), None)
    if entry is None or entry[1] >= plan.position:
        return None
    later_bindings = set(plan.bindings[entry[1] :])
    if later_bindings & once.bindings_that_acted(plan.plan_id):
        return None
    return entry


def go_back(plan: FlowPlan, entry: list) -> None:
    """Put the plan back to just before the step of `entry` was answered."""
    index = plan.history.index(entry)
    plan.position = entry[1]
    plan.context = copy.deepcopy(entry[2])
    plan.history = plan.history[:index]
