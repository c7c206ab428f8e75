"""authentik's prompt stage, and its prompts (the fields a prompt stage lists)."""

import re

from idp.stages.prompt.options import CHOICE_TYPES, KEY_PATTERN, RESERVED_KEYS, FieldType
from idp.transfer.authentik_models import AuthentikModel
from idp.transfer.python_expressions import NO_CONSTANT, NotTranslated, translate_value

FIELD_TYPES = {name: name for name in FieldType.__args__} | {
    "text_area": "textarea",
    "radio-button-group": "radio",
}
FIELD_MODEL = "authentik_stages_prompt.prompt"
# authentik's language picker. Gatehouse has no translations yet: the field becomes a choice of
# the languages it has, stored where a language setting will read it (the user's attribute
# `locale`). The languages belong with Gatehouse's translations once they exist.
LOCALE_TYPE = "ak-locale"
LOCALES = ("en",)
LOCALE_KEY = "attributes.locale"

# authentik's own prompts, which blueprints name with `!Find` rather than define, and the
# field of a prompt stage Gatehouse ships that asks the same: (stage, field key).
_ENROLLMENT = "default-enrollment-prompt"
SHIPPED_FIELDS = {
    "default-source-enrollment-field-username": (_ENROLLMENT, "username"),
    "default-enrollment-field-username": (_ENROLLMENT, "username"),
    "default-enrollment-field-name": (_ENROLLMENT, "name"),
    "default-enrollment-field-email": (_ENROLLMENT, "email"),
    "default-enrollment-field-password": (_ENROLLMENT, "password"),
    "default-enrollment-field-password-repeat": (_ENROLLMENT, "password_repeat"),
    "default-user-settings-field-username": (_ENROLLMENT, "username"),
    "default-user-settings-field-name": (_ENROLLMENT, "name"),
    "default-user-settings-field-email": (_ENROLLMENT, "email"),
    "initial-setup-field-email": ("initial-setup-prompt", "email"),
    "initial-setup-field-password": ("initial-setup-prompt", "password"),
    "initial-setup-field-password-repeat": ("initial-setup-prompt", "password_repeat"),
    "default-password-change-field-password": ("default-password-change-prompt", "password"),
    "default-password-change-field-password-repeat": (
        "default-password-change-prompt",
        "password_repeat",
    ),
    "default-recovery-field-password": ("default-recovery-prompt", "password"),
    "default-recovery-field-password-repeat": ("default-recovery-prompt", "password_repeat"),
}


def shipped_field(model: str, conditions: dict, find_stage) -> tuple[dict, str] | None:
    """The field Gatehouse's shipped prompt stage has for one of authentik's own prompts
    that a `!Find` names (by name), with where it comes from; None when there is none.
    `find_stage(name)` gives a stage's (type, options) as the database has them."""
    name = conditions.get("name")
    if set(conditions) != {"name"} or name not in SHIPPED_FIELDS:
        return None
    stage_name, key = SHIPPED_FIELDS[name]
    stage = find_stage(stage_name)
    if stage is None or stage[0] != "prompt":
        return None
    for field in stage[1].get("fields", ()):
        if field.get("key") == key:
            return dict(field), f"field {key} of the prompt stage {stage_name}"
    return None


def read_options(source, options: dict) -> None:
    if source.has("fields"):
        options["fields"] = source.part_values("fields")
    if source.has("validation_policies"):
        names = []
        for value in source.items("validation_policies") or []:
            name, reason = source.policy_name(value)
            if name is None:
                # A validation policy can stop the flow: without it, answers it refuses pass.
                source.skip(
                    f"its validation policy {source.show(value)} cannot be imported ({reason})"
                )
                return
            names.append(name)
        options["validation_policies"] = names


def read_field(source) -> dict | None:
    """A prompt entry as a prompt field, or None when it is skipped (the reason given)."""
    key = source.text("field_key", required=True)
    # Some authentik versions (and their exports) call it prompt_type.
    type_key = "prompt_type" if source.has("prompt_type") and not source.has("type") else "type"
    authentik_type = source.text(type_key, required=True)
    source.value("name")  # how authentik tells prompts apart; a field has no name here
    field = {
        "key": key,
        "label": source.text("label", ""),
        "type": FIELD_TYPES.get(authentik_type, authentik_type),
        "required": source.flag("required", True),  # authentik's default
        "placeholder": source.text("placeholder", ""),
        "initial_value": source.text("initial_value", ""),
        "help_text": source.text("sub_text", "") or source.text("help_text", ""),
        "order": source.number("order", 0),
    }
    expressions = {
        name
        for name in ("placeholder", "initial_value")
        if source.flag(f"{name}_expression", False)
    }
    if key is None or authentik_type is None:
        return None
    if authentik_type == LOCALE_TYPE:
        return _locale_field(source, field, key)
    if authentik_type not in FIELD_TYPES:
        source.skip(
            f"its type {authentik_type} has no Gatehouse equivalent, "
            "so prompt stages that use it ask without this field"
        )
        return None
    if field["type"] in CHOICE_TYPES and not _read_choices(source, field, expressions):
        return None
    for name in sorted(expressions):
        if field[name]:
            _read_expression(source, field, name)
    if not KEY_PATTERN.match(key) or key in RESERVED_KEYS:
        if field["type"] != "static":
            source.skip(
                f"its field_key {key!r} is not a Gatehouse field key "
                "(lower-case letters, digits and _, dots for nesting)"
            )
            return None
        # A static field shows text and stores nothing, so its key only has to be valid.
        field["key"] = "static_" + re.sub(r"[^a-z0-9_]", "_", key.lower())
    return field


def _locale_field(source, field: dict, key: str) -> dict:
    source.value("placeholder_expression")
    source.value("initial_value_expression")
    source.resolve(
        f"type {LOCALE_TYPE} ({key})",
        f"a dropdown of the languages Gatehouse has ({', '.join(LOCALES)}), "
        f"stored as the user's attribute locale ({LOCALE_KEY})",
    )
    return {
        **field,
        "key": LOCALE_KEY,
        "type": "dropdown",
        "placeholder": "",
        "initial_value": LOCALES[0],
        "choices": list(LOCALES),
    }


def _read_expression(source, field: dict, name: str) -> None:
    """An initial value or placeholder written as Python: its value when it is a literal, else
    (an initial value) the translated expression. What cannot be translated is named and left
    empty: it only fills the field in."""
    text, field[name] = field[name], ""
    try:
        translated = translate_value(text)
    except NotTranslated as refused:
        source.note(name, "its Python cannot be translated: " + "; ".join(refused.problems))
        return
    if translated.constant is not NO_CONSTANT:
        value = _as_text(translated.constant)
        if value is None:
            source.note(name, "its Python gives a list or a mapping, not a text")
        field[name] = value or ""
    elif name == "initial_value":
        field["initial_value_expression"] = translated.expression
    else:
        source.note(name, "a placeholder that depends on the visit has no Gatehouse equivalent")


def _as_text(value) -> str | None:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _read_choices(source, field: dict, expressions: set) -> bool:
    """authentik takes a choice field's answers from its placeholder: one plain answer, or a
    Python expression giving a list, which becomes the choices when it is a list of texts."""
    choice = field.pop("placeholder")
    field["placeholder"] = ""
    if "placeholder" in expressions:
        choices = _expression_choices(source, choice)
        if choices is None:
            return False
        field["choices"] = choices
    else:
        field["choices"] = [choice] if choice else []
    if not field["choices"]:
        source.skip("it offers no choices")
        return False
    return True


def _expression_choices(source, text: str) -> list[str] | None:
    try:
        translated = translate_value(text)
    except NotTranslated as refused:
        source.skip(
            "its choices are Python that cannot be translated: " + "; ".join(refused.problems)
        )
        return None
    value = translated.constant
    if not isinstance(value, list):
        value = [value]
    value = [_as_text(item) for item in value if item not in ("", None)]
    if not all(isinstance(item, str) for item in value):
        source.skip(
            "its choices depend on the visit (a Python expression); "
            "add the field and its choices in the prompt stage's settings"
        )
        return None
    return value


AUTHENTIK = AuthentikModel(
    model="authentik_stages_prompt.promptstage",
    read_options=read_options,
    parts={FIELD_MODEL: read_field},
    find_shipped_part=shipped_field,
)
