"""One blueprint entry's attributes, as a stage or policy package reads them.

This is the interface a package's `read_options(source, options)` (authentik_models.py) gets:
reading an attribute marks it used, and whatever is never read is named as not imported.
`note` names one attribute that is not imported, `skip` leaves the whole entry out with a
reason (a flow that needs the entry is then left out too), and `problem` refuses the file.
References to other entries (a flow, a stage, a policy, a group, prompt fields) are resolved
by the reader that made the source.
"""

import re
from datetime import timedelta

from idp.transfer.authentik_models import parse_authentik_duration

# authentik's API reads these texts as true and false (Django REST framework's BooleanField).
FLAG_TEXTS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}
WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,18}")


class EntrySource:
    def __init__(self, reader, entry):
        self._reader = reader
        self._entry = entry

    # -- attributes

    def has(self, key: str) -> bool:
        return key in self._entry.fields

    def is_given(self, key: str) -> bool:
        """The blueprint states something for the attribute (a !Find that found nothing here
        still counts), not a plain null."""
        for part in ("identifiers", "attrs"):
            values = self._entry.raw.get(part)
            if isinstance(values, dict) and values.get(key) is not None:
                return True
        return False

    def value(self, key: str):
        self._entry.used.add(key)
        return self._entry.fields.get(key)

    def text(self, key: str, default=None, required: bool = False):
        value = self.value(key)
        if value is None:
            if required:
                self.problem(f"{key} is required")
            return default
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        self.problem(f"{key} must be text, not {self.show(value)}")
        return default

    def flag(self, key: str, default):
        value = self.value(key)
        if value is None:
            return default
        if isinstance(value, str) and value.strip().lower() in FLAG_TEXTS:
            return FLAG_TEXTS[value.strip().lower()]
        if not isinstance(value, bool):
            self.problem(f"{key} must be true or false, not {self.show(value)}")
            return default
        return value

    def number(self, key: str, default):
        value = self.value(key)
        if value is None:
            return default
        # authentik's API reads numbers written as text (`digits: '6'`), and exports keep them.
        if isinstance(value, str) and WHOLE_NUMBER.fullmatch(value.strip()):
            return int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(f"{key} must be a whole number, not {self.show(value)}")
            return default
        return value

    def choice(self, key: str, choices, default):
        value = self.text(key, default)
        if value not in choices:
            self.problem(f"{key} must be one of {', '.join(choices)}, not {value!r}")
            return default
        return value

    def items(self, key: str) -> list | None:
        value = self.value(key)
        if value is not None and not isinstance(value, list):
            self.problem(f"{key} must be a list")
            return None
        return value

    def duration(self, key: str) -> timedelta | None:
        """An authentik duration (`hours=8;minutes=30`), or None when it is not one."""
        text = self.text(key, "")
        try:
            return parse_authentik_duration(text)
        except ValueError:
            self.problem(f"{key} {text!r} is not a duration like hours=8;minutes=30")
            return None

    # -- what becomes of the entry

    def show(self, value) -> str:
        return self._reader.show(value)

    def note(self, subject: str, why: str) -> None:
        self._entry.notes.append(f"not imported: {subject} ({why})")

    def resolve(self, subject: str, what: str) -> None:
        """Something authentik has that Gatehouse does differently but to the same end: named
        among the resolved lines (which --strict accepts), not as left out."""
        self._reader.note_resolved(self._entry, f"{subject} becomes {what}")

    def skip(self, reason: str) -> None:
        self._entry.skip = reason

    def problem(self, message: str) -> None:
        self._reader.entry_problem(self._entry, message)

    # -- references to other entries, or to objects Gatehouse has

    def flow_link(self, key: str) -> str:
        """The slug of the flow an attribute points at, or "" (named) when there is none."""
        return self._reader.flow_link(self._entry, key)

    def policy_name(self, value) -> tuple[str | None, str]:
        """The name of the policy a value points at, or None and why."""
        return self._reader.policy_name(value, self._entry)

    def stage_name(self, value) -> tuple[str | None, str]:
        """The name of the stage a value points at, or None and why."""
        return self._reader.stage_name(value, self._entry)

    def group_name(self, value) -> str | None:
        return self._reader.group_name(value)

    def scope_mapping(self, value) -> tuple[str | None, str | None, str]:
        """What a provider's property mapping becomes: (a Gatehouse scope mapping to offer,
        a built-in scope, why neither)."""
        return self._reader.scope_mapping_of(value, self._entry)

    def group_exists(self, name: str) -> bool:
        return self._reader.lookup.find("group", {"name": name}) is not None

    def part_values(self, key: str) -> list:
        """What the entries an attribute lists became, when they are parts of this stage type
        (a prompt stage's prompts): see AuthentikModel.parts."""
        return self._reader.part_values(self._entry, key)
