import re
from dataclasses import dataclass
from typing import Literal

from idp.options import OptionsError

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
RESERVED_KEYS = {"csrf_token"}

FieldType = Literal["text", "username", "email", "password", "hidden", "static"]


@dataclass(frozen=True)
class PromptField:
    key: str
    label: str = ""
    type: FieldType = "text"
    required: bool = False
    placeholder: str = ""
    initial_value: str = ""
    help_text: str = ""
    order: int = 0

    def validate(self):
        if not KEY_PATTERN.match(self.key) or self.key in RESERVED_KEYS:
            raise OptionsError(
                "key", f"{self.key!r} must be lower-case letters, digits and _ (dots for nesting)"
            )


@dataclass(frozen=True)
class PromptOptions:
    fields: tuple[PromptField, ...] = ()
    # Policies every answer must pass (a password policy, say); their messages are shown.
    validation_policies: tuple[str, ...] = ()

    def validate(self):
        keys = [field.key for field in self.fields]
        for index, key in enumerate(keys):
            if key in keys[:index]:
                raise OptionsError(f"fields[{index}].key", f"{key!r} is used twice")
        if len(self.password_fields) > 2:
            raise OptionsError("fields", "at most two password fields (a password and its repeat)")

    @property
    def ordered_fields(self) -> list[PromptField]:
        return sorted(self.fields, key=lambda field: field.order)

    @property
    def password_fields(self) -> list[PromptField]:
        return [field for field in self.ordered_fields if field.type == "password"]
