"""The flow as a linear picture: the flow's own gate, then each stage binding in the order the
planner walks them, with what gates it and when that is checked. A layout model (boxes of
lines with their places) that a template draws as SVG and writes out again as a list."""

import textwrap
from dataclasses import dataclass

from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from idp.admin.flows.bindings import bound_in_words, when_checked
from idp.admin.flows.forms import AUTHENTICATION_LABELS, DENIED_LABELS, INVALID_RESPONSE_LABELS
from idp.admin.flows.guidance import placement_warnings
from idp.core.i18n import lazy_text as _l
from idp.models import Flow, StageBinding
from idp.policies.engine import in_asking_order

WIDTH = 440
MARGIN = 6
PADDING = 10
LINE_HEIGHT = 18
GAP = 26
TEXT_X = 18
# What fits across a box at the template's font sizes; longer lines wrap.
HEADING_CHARACTERS = 42
LINE_CHARACTERS = 50
ITEM_INDENT = 12

ENGINE_WORDS = {"all": _l("every one must pass"), "any": _l("any one is enough")}


@dataclass(frozen=True)
class Entry:
    """One thing the box says, as the list beside the picture says it."""

    text: str
    is_item: bool = False


@dataclass(frozen=True)
class Line:
    """One line of text in the picture, placed."""

    text: str
    x: int
    y: int
    is_heading: bool = False


@dataclass(frozen=True)
class Box:
    # gate, stage, gated (a stage whose policies are checked), misplaced (a stage after the
    # sign-in or sign-out, whose first entry says so) or end: the template's colours
    kind: str
    y: int
    height: int
    heading: str
    entries: tuple[Entry, ...]
    lines: tuple[Line, ...]


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
    # How many steps come after the sign-in or sign-out.
    misplaced: int = 0


def _in_a_sentence(label) -> str:
    """A choice's label after a colon: lower-cased where the language writes it so (English,
    French), as it is in German, whose nouns keep their capital."""
    text = str(label)
    if str(get_locale() or "en").startswith("de"):
        return text
    return text.lower()


def _bound_entries(bindings, mode: str) -> list[Entry]:
    ordered = in_asking_order(bindings)
    if not ordered:
        return []
    return [
        Entry(_("Bound (%(mode)s):", mode=ENGINE_WORDS.get(mode, mode))),
        *(Entry(bound_in_words(binding), is_item=True) for binding in ordered),
    ]


def gate_entries(flow: Flow) -> list[Entry]:
    requirement = AUTHENTICATION_LABELS.get(flow.authentication, flow.authentication)
    entries = [Entry(_("Who may use the flow: %(lower)s", lower=_in_a_sentence(requirement)))]
    bound = _bound_entries(flow.policy_bindings, flow.policy_engine_mode)
    if bound:
        entries += [*bound, Entry(_("Checked when the flow starts, and again at every step"))]
    else:
        entries.append(Entry(_("No policy bindings")))
    denied = DENIED_LABELS.get(flow.denied_action, flow.denied_action)
    return [*entries, Entry(_("When denied: %(lower)s", lower=_in_a_sentence(denied)))]


def stage_entries(binding: StageBinding) -> list[Entry]:
    invalid = INVALID_RESPONSE_LABELS.get(
        binding.invalid_response_action, binding.invalid_response_action
    )
    return [
        Entry(when_checked(binding)),
        *_bound_entries(binding.policy_bindings, binding.policy_engine_mode),
        Entry(_("When an answer is invalid: %(lower)s", lower=_in_a_sentence(invalid))),
    ]


def _stage_kind(binding: StageBinding) -> str:
    is_checked = binding.evaluate_on_plan or binding.re_evaluate_policies
    has_policies = any(item.enabled for item in binding.policy_bindings)
    return "gated" if is_checked and has_policies else "stage"


def build(flow: Flow) -> Diagram:
    contents = [("gate", _("Start: %(name)s", name=flow.name), gate_entries(flow))]
    warnings = placement_warnings(flow)
    for binding in flow.bindings:
        heading = f"{binding.order} · {binding.stage.name} ({binding.stage.type})"
        entries, kind = stage_entries(binding), _stage_kind(binding)
        if binding.id in warnings:
            entries, kind = (
                [Entry(_("Warning: %(text)s", text=warnings[binding.id].text)), *entries],
                "misplaced",
            )
        contents.append((kind, heading, entries))
    contents.append(("end", _("Done: on to where the visitor was going"), []))
    boxes, arrows, y = [], [], MARGIN
    for kind, heading, entries in contents:
        if boxes:
            arrows.append(Arrow(WIDTH // 2, y, y + GAP))
            y += GAP
        box = _box(kind, y, heading, entries)
        boxes.append(box)
        y += box.height
    steps = len(flow.bindings)
    summary = ngettext(
        "The flow %(name)s: its gate, then %(num)d stage binding in order, then the end. The "
        "list below says the same in words.",
        "The flow %(name)s: its gate, then %(num)d stage bindings in order, then the end. The "
        "list below says the same in words.",
        steps,
        name=flow.name,
    )
    if warnings:
        summary += " " + ngettext(
            "Warning: %(num)d step comes after the sign-in or sign-out.",
            "Warning: %(num)d steps come after the sign-in or sign-out.",
            len(warnings),
        )
    return Diagram(WIDTH, y + MARGIN, tuple(boxes), tuple(arrows), summary, len(warnings))


def _box(kind: str, top: int, heading: str, entries: list[Entry]) -> Box:
    rows = [(text, TEXT_X, True) for text in _wrap(heading, HEADING_CHARACTERS)]
    for entry in entries:
        if entry.is_item:
            pieces = _wrap(entry.text, LINE_CHARACTERS - 2)
            rows.append((f"• {pieces[0]}", TEXT_X, False))
            rows += [(piece, TEXT_X + ITEM_INDENT, False) for piece in pieces[1:]]
        else:
            rows += [(piece, TEXT_X, False) for piece in _wrap(entry.text, LINE_CHARACTERS)]
    lines = tuple(
        Line(text, x, top + PADDING + (index + 1) * LINE_HEIGHT - 4, is_heading)
        for index, (text, x, is_heading) in enumerate(rows)
    )
    height = len(rows) * LINE_HEIGHT + 2 * PADDING
    return Box(kind, top, height, heading, tuple(entries), lines)


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]
