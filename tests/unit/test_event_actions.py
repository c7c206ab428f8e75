"""The events page offers every action Gatehouse records: this reads idp's source (nothing is
run) for the actions passed to the audit log's writers, and fails on one missing from
EVENT_ACTIONS, so a new event cannot be forgotten there."""

import ast
import re
from pathlib import Path

from idp.admin.dashboard.event_actions import EVENT_ACTIONS, offered_actions

PACKAGE = Path(__file__).resolve().parents[2] / "idp"
# The writers of the audit log and which positional argument is the action.
WRITERS = {"record_event": 0, "record_change": 0, "_record": 0, "record": 0, "_change_flag": 1}


def _action_patterns(argument) -> list[str]:
    """Regular expressions for the action an argument names: a string, both branches of an
    `a if b else c`, or an f-string with any name in its holes. Other expressions pass a
    name on (the audit helpers' `action` parameter) and are checked where it comes from."""
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return [re.escape(argument.value)]
    if isinstance(argument, ast.IfExp):
        return _action_patterns(argument.body) + _action_patterns(argument.orelse)
    if isinstance(argument, ast.JoinedStr):
        parts = [
            re.escape(part.value) if isinstance(part, ast.Constant) else "[a-z_]+"
            for part in argument.values
        ]
        return ["".join(parts)]
    return []


def recorded_actions() -> dict[str, str]:
    """Pattern of each action recorded anywhere in idp -> a file that records it."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            function = node.func
            name = getattr(function, "id", None) or getattr(function, "attr", None)
            position = WRITERS.get(name)
            if position is None or len(node.args) <= position:
                continue
            for pattern in _action_patterns(node.args[position]):
                found.setdefault(pattern, str(path.relative_to(PACKAGE.parent)))
    return found


def test_every_recorded_action_is_offered_with_words():
    recorded = recorded_actions()
    assert len(recorded) > 50  # the scan finds the writers at all
    missing = {
        pattern: where
        for pattern, where in recorded.items()
        if not any(re.fullmatch(pattern, action) for action in EVENT_ACTIONS)
    }
    assert missing == {}, "record these actions in idp/admin/dashboard/event_actions.py"
    assert all(words.strip() for words in EVENT_ACTIONS.values())


def test_the_catalogs_admin_entries_cover_both_kinds_of_the_catalog():
    for kind in ("stage", "policy"):
        for change in ("created", "edited", "deleted"):
            assert f"admin_{kind}_{change}" in EVENT_ACTIONS


def test_actions_the_log_holds_but_this_version_does_not_know_are_offered_too():
    offered = dict(offered_actions(["login", "legacy_thing"]))
    assert offered["login"] == "Signed in"
    assert offered["legacy_thing"] == ""
    assert set(EVENT_ACTIONS) <= set(offered)
