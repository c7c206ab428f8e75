"""The events page offers every action Gatehouse records: this reads idp's source (nothing is
run) for the actions passed to the audit log's writers, and fails on one missing from
EVENT_ACTIONS, so a new event cannot be forgotten there."""

import ast
import re
from pathlib import Path

from idp.admin.dashboard.event_actions import EVENT_ACTIONS, offered_actions

PACKAGE = Path(__file__).resolve().parents[2] / "idp"
# The audit log's writers and which positional argument is the action; the helpers that pass
# an `action` parameter on to one of them are found and added (tests below).
WRITERS = {"record_event": 0}


def _trees() -> list[tuple[Path, ast.AST]]:
    return [(path, ast.parse(path.read_text(), str(path))) for path in PACKAGE.rglob("*.py")]


def _called(node: ast.Call) -> str | None:
    return getattr(node.func, "id", None) or getattr(node.func, "attr", None)


def writers(trees) -> dict[str, int]:
    """record_event, and every function that hands one of its parameters on as the action of
    a writer (record_change, a module's _record or _event), with that parameter's place."""
    found = dict(WRITERS)
    while True:
        added = {}
        for _, tree in trees:
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef) or function.name in found:
                    continue
                parameters = [argument.arg for argument in function.args.args]
                skip = 1 if parameters[:1] in (["self"], ["cls"]) else 0
                for node in ast.walk(function):
                    if not isinstance(node, ast.Call) or _called(node) not in found:
                        continue
                    position = found[_called(node)]
                    argument = node.args[position] if len(node.args) > position else None
                    if isinstance(argument, ast.Name) and argument.id in parameters:
                        added[function.name] = parameters.index(argument.id) - skip
        if not added:
            return found
        found.update(added)


def _action_patterns(argument) -> list[str]:
    """Regular expressions for the action an argument names: a string, both branches of an
    `a if b else c`, or an f-string with any name in its holes. A name passed on is checked
    where the helper taking it is called."""
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
    trees = _trees()
    known = writers(trees)
    found = {}
    for path, tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _called(node) not in known:
                continue
            position = known[_called(node)]
            if len(node.args) > position:
                for pattern in _action_patterns(node.args[position]):
                    found.setdefault(pattern, str(path.relative_to(PACKAGE.parent)))
    return found


def test_the_helpers_that_record_are_found():
    found = writers(_trees())
    assert {"record_change", "_record", "_event", "_change_flag"} <= set(found)
    assert found["_change_flag"] == 1  # (user, action, ...)


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
