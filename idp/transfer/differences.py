"""What an import changes in an object it finds, field by field, in words an administrator reads
on the dry run: "title: 'Sign in' → 'Welcome'", "stage binding 20 (password) added"."""

from dataclasses import asdict

LONGEST_VALUE = 80


def shown(value) -> str:
    """A value as the dry run shows it: short, and never more than one line."""
    text = repr(value) if not isinstance(value, bool) else ("yes" if value else "no")
    text = " ".join(text.split())
    return text if len(text) <= LONGEST_VALUE else text[: LONGEST_VALUE - 1] + "…"


def field_changes(before: dict, after: dict, prefix: str = "") -> list[str]:
    """One line per field whose value differs; a field one side lacks counts as absent."""
    lines = []
    for name in sorted(before.keys() | after.keys(), key=str):
        old, new = before.get(name, ABSENT), after.get(name, ABSENT)
        if old != new:
            lines.append(f"{prefix}{name}: {_shown_or_absent(old)} → {_shown_or_absent(new)}")
    return lines


class _Absent:
    def __repr__(self) -> str:
        return "(not set)"


ABSENT = _Absent()


def _shown_or_absent(value) -> str:
    return "(not set)" if value is ABSENT else shown(value)


def component_changes(old_type: str, old_options: dict, new_type: str, new_options: dict):
    lines = [] if old_type == new_type else [f"type: {old_type} → {new_type}"]
    return lines + field_changes(old_options or {}, new_options or {}, prefix="options.")


def _binding_fields(spec) -> dict:
    return {name: value for name, value in asdict(spec).items() if name != "policies"}


def _policy_subject(spec) -> str:
    if spec.policy:
        return f"policy {spec.policy}"
    if spec.group:
        return f"group {spec.group}"
    return f"user {spec.user}"


def policy_binding_changes(before, after, where: str) -> list[str]:
    """Gates matched by what they bind (a policy, a group or a user)."""
    old = {_policy_subject(spec): spec for spec in before}
    new = {_policy_subject(spec): spec for spec in after}
    lines = [f"{where}{subject} unbound" for subject in old.keys() - new.keys()]
    lines += [f"{where}{subject} bound" for subject in new.keys() - old.keys()]
    for subject in old.keys() & new.keys():
        prefix = f"{where}{subject}: "
        lines += field_changes(_binding_fields(old[subject]), _binding_fields(new[subject]), prefix)
    return sorted(lines)


def stage_binding_changes(before, after) -> list[str]:
    """Stage bindings matched by their stage's name: added, removed, or changed in a field."""
    old = {spec.stage: spec for spec in before}
    new = {spec.stage: spec for spec in after}
    lines = [f"stage {name} unbound" for name in sorted(old.keys() - new.keys())]
    added = sorted(new.keys() - old.keys())
    lines += [f"stage {name} bound at {new[name].order}" for name in added]
    for name in sorted(old.keys() & new.keys()):
        prefix = f"stage {name}: "
        lines += field_changes(_binding_fields(old[name]), _binding_fields(new[name]), prefix)
        lines += policy_binding_changes(old[name].policies, new[name].policies, prefix)
    return lines


def flow_binding_changes(before: tuple | None, after: tuple) -> list[str]:
    """`before` and `after` are (policy bindings, stage bindings) as specs."""
    old_policies, old_stages = before or ((), ())
    new_policies, new_stages = after
    lines = policy_binding_changes(old_policies, new_policies, "flow gate: ")
    return lines + stage_binding_changes(old_stages, new_stages)
