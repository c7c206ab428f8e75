"""Each field's initial value for this visit: the option's text, or what its expression gives.

An expression that fails (an error, a time-out, a value that is not text) leaves its field
empty: an initial value helps the visitor, it never decides anything.
"""

import logging
import time

from flask import has_request_context, request

from idp.flows.planner import build_policy_request
from idp.policies.expression import run_for_request
from idp.policies.types import PolicyError, answering_by
from idp.stages.prompt.options import CHOICE_TYPES, INITIAL_VALUE_PARSERS

log = logging.getLogger("idp.stages.prompt")

INITIAL_VALUE_TIMEOUT = 2  # seconds, for each field's expression


def initial_values(ctx) -> dict[str, str]:
    """Worked out once per request and binding: the form, the page and the answers share it."""
    if not has_request_context():
        return _initial_values(ctx)
    known = request.environ.setdefault("gatehouse.prompt_initial_values", {})
    if ctx.binding.id not in known:
        known[ctx.binding.id] = _initial_values(ctx)
    return known[ctx.binding.id]


def _initial_values(ctx) -> dict[str, str]:
    values = {}
    request = None
    for prompt_field in ctx.options.ordered_fields:
        if not prompt_field.initial_value_expression:
            values[prompt_field.key] = prompt_field.initial_value
            continue
        request = request or build_policy_request(ctx.flow, ctx.data, ctx.current_user)
        values[prompt_field.key] = _evaluated(prompt_field, request)
    return values


def _evaluated(prompt_field, request) -> str:
    try:
        with answering_by(time.monotonic() + INITIAL_VALUE_TIMEOUT):
            value = run_for_request(prompt_field.initial_value_expression, request)
    except PolicyError as error:
        log.warning("initial value failed", extra={"field": prompt_field.key, "error": str(error)})
        return ""
    text = _as_text(value)
    return text if _fits(prompt_field, text) else ""


def _as_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return ""


def _fits(prompt_field, text: str) -> bool:
    """The value is one this field could have been given as its initial_value option."""
    if prompt_field.type in CHOICE_TYPES:
        return text in prompt_field.choices
    parser = INITIAL_VALUE_PARSERS.get(prompt_field.type)
    if parser is None or not text:
        return True
    try:
        parser(text)
    except ValueError:
        return False
    return True
