"""What a flow would do for a chosen user and address, foretold by the planner's own functions.

The simulation hands the planner an evaluator that keeps every verdict it reaches, so the rules
are the ones the executor runs; nothing is executed, written or remembered. The chosen user
either is signed in when the flow starts (the plan is made with them as its pending user) or
names themselves during the flow (the plan is made for an anonymous visitor, and what is
checked later sees them).
"""

from dataclasses import dataclass, field

from flask import current_app, url_for

from idp.core.i18n import lazy_text as _l
from idp.flows import planner
from idp.flows.context import PENDING_USER_ID
from idp.flows.loading import flow_fingerprint
from idp.models import Flow, PolicyBinding, StageBinding, User
from idp.policies.engine import Explanation, PolicyFailure, explain_bindings, in_asking_order

# What happens to a stage binding.
RUNS = "runs"
SKIPPED = "skipped"
LEFT_OUT = "left out of the plan"
STOPS = "stops the flow"
NOT_REACHED = "not reached"

# How the chosen user comes to the flow.
SIGNED_IN = "signed_in"
NAMED_IN_FLOW = "named_in_flow"
ARRIVALS = {
    SIGNED_IN: _l("Signed in when the flow starts"),
    NAMED_IN_FLOW: _l("Not signed in: they name themselves during the flow (identification)"),
}

# What the executor does with a denied visitor (FlowRun.check_access), in words.
DENIED_CONSEQUENCES = {
    "continue": _l("They are sent on to where they were going, without a message."),
    "message_continue": _l(
        "They are sent on to where they were going when the flow was opened with ?next=…; "
        "otherwise they see the message and the flow stops."
    ),
    "message": _l("They see the message and the flow stops."),
}
# The outcomes in words for the page (the constants above stay the values the code compares).
OUTCOME_WORDS = {
    RUNS: _l("runs"),
    SKIPPED: _l("skipped"),
    LEFT_OUT: _l("left out of the plan"),
    STOPS: _l("stops the flow"),
    NOT_REACHED: _l("not reached"),
}


class Recorder:
    """evaluate_bindings that also keeps its explanation, found again by the bindings asked."""

    def __init__(self):
        self._explanations = {}

    def __call__(self, bindings, mode, request):
        explanation = explain_bindings(bindings, mode, request)
        # The loaded collection is one object for the whole request, so its identity names
        # the flow or stage binding it belongs to.
        self._explanations[id(bindings)] = explanation
        if explanation.failure is not None:
            raise explanation.failure
        return explanation.result

    def explanation_of(self, bindings) -> Explanation | None:
        return self._explanations.get(id(bindings))


@dataclass
class Check:
    """One set of policy bindings asked once, with each binding's verdict, in the engine's
    order; `not_asked` are the enabled ones after a failure, `disabled` are never asked."""

    explanation: Explanation
    bindings: list[PolicyBinding]
    mode: str

    @property
    def failure(self) -> PolicyFailure | None:
        return self.explanation.failure

    @property
    def passing(self) -> bool:
        return self.explanation.failure is None and self.explanation.result.passing

    @property
    def not_asked(self) -> list[PolicyBinding]:
        asked = {verdict.binding.id for verdict in self.explanation.verdicts}
        if self.failure is not None:
            asked.add(self.failure.binding.id)
        return [item for item in self.bindings if item.enabled and item.id not in asked]

    @property
    def disabled(self) -> list[PolicyBinding]:
        return [item for item in self.bindings if not item.enabled]


@dataclass
class StageForecast:
    binding: StageBinding
    outcome: str = NOT_REACHED
    at_plan: Check | None = None
    before_stage: Check | None = None


@dataclass
class Simulation:
    flow: Flow
    user: User | None
    ip: str
    arrival: str = SIGNED_IN
    denial: planner.Denial | None = None
    access: Check | None = None
    # The flow's gate asked again at a later step, once a user who named themselves is known.
    later_denial: planner.Denial | None = None
    later_access: Check | None = None
    # The message the visitor reads when a policy fails closed.
    stopped: str | None = None
    stages: list[StageForecast] = field(default_factory=list)

    @property
    def running(self) -> list[StageBinding]:
        return [forecast.binding for forecast in self.stages if forecast.outcome == RUNS]


def usual_arrival(flow: Flow) -> str:
    """How users usually come to a flow: signing in, signing up and recovering start signed out."""
    signed_out = flow.authentication == "require_unauthenticated" or flow.designation in (
        "authentication",
        "enrollment",
        "recovery",
    )
    return NAMED_IN_FLOW if signed_out else SIGNED_IN


def _check(recorder: Recorder, owner) -> Check | None:
    """What the recorder found for a flow's or a stage binding's own policy bindings."""
    explanation = recorder.explanation_of(owner.policy_bindings)
    if explanation is None:
        return None
    return Check(explanation, in_asking_order(owner.policy_bindings), owner.policy_engine_mode)


def _ask_gate(simulation: Simulation, policy_request, signed_in):
    """The flow's own gate, as FlowRun.check_access asks it: (check, denial)."""
    recorder = Recorder()
    denial = None
    try:
        denial = planner.check_access(simulation.flow, policy_request, signed_in, recorder)
    except PolicyFailure:
        simulation.stopped = planner.POLICY_ERROR_MESSAGE
    return _check(recorder, simulation.flow), denial


def simulate_plan(
    flow: Flow, user: User | None, ip: str = "", arrival: str = SIGNED_IN
) -> Simulation:
    """The flow's gate, the plan it would make, and which stages would run, for `user` (None:
    an anonymous visitor) arriving as `arrival` says, from `ip`."""
    simulation = Simulation(flow, user, ip, arrival)
    simulation.stages = [StageForecast(binding) for binding in flow.bindings]
    signed_in = user if arrival == SIGNED_IN else None
    path = url_for("flow.execute", slug=flow.slug)

    def request_for(data):
        return planner.policy_request_for(flow, data, signed_in, ip=ip, path=path)

    start = request_for({})
    simulation.access, simulation.denial = _ask_gate(simulation, start, signed_in)
    if simulation.denial is not None or simulation.stopped is not None:
        return simulation
    plan_time = Recorder()
    try:
        plan = planner.make_plan(
            flow,
            start,
            flow_fingerprint(flow),
            current_app.config["FLOW_PLAN_LIFETIME"],
            current_user=signed_in,
            evaluate=plan_time,
        )
    except PolicyFailure as failure:
        simulation.stopped = planner.POLICY_ERROR_MESSAGE
        for forecast in simulation.stages:
            forecast.at_plan = _check(plan_time, forecast.binding)
            if forecast.at_plan is not None and forecast.at_plan.failure is failure:
                forecast.outcome = STOPS
        return simulation
    later = dict(plan.context)
    if user is not None and signed_in is None:
        later[PENDING_USER_ID] = user.id
        later_request = request_for(later)
        simulation.later_access, simulation.later_denial = _ask_gate(
            simulation, later_request, signed_in
        )
        if simulation.stopped is not None:
            return simulation
    _walk(simulation, plan, request_for(later), plan_time)
    return simulation


def _walk(simulation: Simulation, plan, stage_request, plan_time: Recorder) -> None:
    """Each stage in order as the executor reaches it, with the context the plan starts with
    (and the user named, when they name themselves): re-evaluated bindings may see more by
    then (what earlier stages learn)."""
    before = Recorder()
    for forecast in simulation.stages:
        binding = forecast.binding
        forecast.at_plan = _check(plan_time, binding)
        if binding.id not in plan.bindings:
            forecast.outcome = LEFT_OUT
            continue
        try:
            runs = planner.runs_now(binding, lambda: stage_request, evaluate=before)
        except PolicyFailure:
            simulation.stopped = planner.POLICY_ERROR_MESSAGE
            forecast.before_stage = _check(before, binding)
            forecast.outcome = STOPS
            return
        forecast.before_stage = _check(before, binding)
        forecast.outcome = RUNS if runs else SKIPPED
