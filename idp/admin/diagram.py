"""The flow as a linear picture: the flow's own gate, then each stage binding in the order the
planner walks them, with what gates it and when that is checked. A layout model (boxes of
lines with their places) that a template draws as SVG and writes out again as a list."""

from dataclasses import dataclass

from idp.admin.flow_forms import AUTHENTICATION_LABELS, DENIED_LABELS, INVALID_RESPONSE_LABELS
from idp.admin.flows_bindings import bound_in_words, when_checked
from idp.models import Flow, StageBinding
from idp.policies.engine import in_asking_order

WIDTH = 640
MARGIN = 10
PADDING = 12
LINE_HEIGHT = 18
GAP = 30
# About what fits across the box at the template's font size; the list beside has it all.
MAX_CHARACTERS = 78

ENGINE_WORDS = {"all": "every one must pass", "any": "any one is enough"}


@dataclass(frozen=True)
class Line:
    text: str
    y: int
    is_heading: bool = False

    @property
    def shown(self) -> str:
        if len(self.text) <= MAX_CHARACTERS:
            return self.text
        return self.text[: MAX_CHARACTERS - 1] + "…"


@dataclass(frozen=True)
class Box:
    # gate, stage, gated (a stage with policies) or end: the template's colours
    kind: str
    y: int
    height: int
    lines: tuple[Line, ...]

    @property
    def heading(self) -> str:
        return self.lines[0].text

    @property
    def details(self) -> tuple[Line, ...]:
        return self.lines[1:]


@dataclass(frozen=True)
class Arrow:
    x: int
    top: int
    bottom: int


@dataclass(frozen=True)
class Diagram:
    width: int
    height: int
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]
    summary: str


def _bound_lines(bindings, mode: str) -> list[str]:
    ordered = in_asking_order(bindings)
    if not ordered:
        return []
    return [
        f"Bound ({ENGINE_WORDS.get(mode, mode)}):",
        *(f"• {bound_in_words(binding)}" for binding in ordered),
    ]


def gate_lines(flow: Flow) -> list[str]:
    requirement = AUTHENTICATION_LABELS.get(flow.authentication, flow.authentication)
    lines = [f"Who may use the flow: {requirement.lower()}"]
    bound = _bound_lines(flow.policy_bindings, flow.policy_engine_mode)
    if bound:
        lines += [*bound, "Checked when the flow starts, and again at every step"]
    else:
        lines.append("No policy bindings")
    denied = DENIED_LABELS.get(flow.denied_action, flow.denied_action)
    return [*lines, f"When denied: {denied.lower()}"]


def stage_lines(binding: StageBinding) -> list[str]:
    invalid = INVALID_RESPONSE_LABELS.get(
        binding.invalid_response_action, binding.invalid_response_action
    )
    return [
        when_checked(binding),
        *_bound_lines(binding.policy_bindings, binding.policy_engine_mode),
        f"When an answer is invalid: {invalid.lower()}",
    ]


def _stage_kind(binding: StageBinding) -> str:
    return "gated" if any(item.enabled for item in binding.policy_bindings) else "stage"


def build(flow: Flow) -> Diagram:
    contents = [("gate", f"Start: {flow.name}", gate_lines(flow))]
    for binding in flow.bindings:
        heading = f"{binding.order} · {binding.stage.name} ({binding.stage.type})"
        contents.append((_stage_kind(binding), heading, stage_lines(binding)))
    contents.append(("end", "Done: on to where the visitor was going", []))
    boxes, arrows, y = [], [], MARGIN
    for kind, heading, lines in contents:
        if boxes:
            arrows.append(Arrow(WIDTH // 2, y, y + GAP))
            y += GAP
        box = _box(kind, y, heading, lines)
        boxes.append(box)
        y += box.height
    steps = len(flow.bindings)
    summary = (
        f"The flow {flow.name}: its gate, then {steps} stage binding{'s' * (steps != 1)} "
        "in order, then the end. The list below says the same in words."
    )
    return Diagram(WIDTH, y + MARGIN, tuple(boxes), tuple(arrows), summary)


def _box(kind: str, top: int, heading: str, lines: list[str]) -> Box:
    texts = [heading, *lines]
    placed = tuple(
        Line(text, top + PADDING + (index + 1) * LINE_HEIGHT - 4, is_heading=index == 0)
        for index, text in enumerate(texts)
    )
    return Box(kind, top, len(texts) * LINE_HEIGHT + 2 * PADDING, placed)
