import pytest

from idp.core.options import OptionsError, options_to_mapping, parse_options
from idp.policies.registry import POLICY_TYPES
from idp.stages.identification.options import IdentificationOptions
from idp.stages.prompt.options import PromptOptions
from idp.stages.registry import STAGE_TYPES
from idp.stages.user_login.options import UserLoginOptions


def test_defaults_apply_when_options_are_missing():
    assert parse_options(IdentificationOptions, None).user_fields == ("username", "email")


@pytest.mark.parametrize(
    ("options_class", "mapping", "place", "message"),
    [
        (IdentificationOptions, {"user_fields": "username"}, "user_fields", "must be a list"),
        (IdentificationOptions, {"user_fields": ["phone"]}, "user_fields[0]", "must be one of"),
        (IdentificationOptions, {"user_fields": []}, "user_fields", "at least one"),
        (IdentificationOptions, {"colour": "red"}, "colour", "unknown option"),
        (UserLoginOptions, {"session_duration": "forever"}, "session_duration", "not a duration"),
        (UserLoginOptions, {"session_duration": "0m"}, "session_duration", "between"),
        (PromptOptions, {"fields": [{"label": "x"}]}, "fields[0].key", "is required"),
        (PromptOptions, {"fields": [{"key": "Bad Key"}]}, "fields[0].key", "lower-case"),
        (PromptOptions, {"fields": [{"key": "a"}, {"key": "a"}]}, "fields[1].key", "twice"),
        (PromptOptions, {"fields": [{"key": "a", "type": "rocket"}]}, "fields[0].type", "one of"),
        (
            PromptOptions,
            {"fields": [{"key": "a", "required": "yes"}]},
            "fields[0].required",
            "true or false",
        ),
        (PromptOptions, "fields", "", "must be a mapping"),
    ],
)
def test_bad_options_name_the_field(options_class, mapping, place, message):
    with pytest.raises(OptionsError) as caught:
        parse_options(options_class, mapping)
    assert caught.value.place == place
    assert message in caught.value.message


def test_parsed_options_round_trip_to_the_same_mapping():
    mapping = {"fields": [{"key": "email", "type": "email", "required": True}]}
    parsed = parse_options(PromptOptions, mapping)
    again = parse_options(PromptOptions, options_to_mapping(parsed))
    assert again == parsed


@pytest.mark.parametrize("registry", [STAGE_TYPES, POLICY_TYPES], ids=["stages", "policies"])
def test_every_type_parses_its_default_options(registry):
    for type_name, component_type in registry.items():
        assert component_type.name == type_name
        component_type.parse_options({})


@pytest.mark.parametrize(
    ("type_name", "mapping", "place", "message"),
    [
        ("reputation", {"threshold": -500}, "threshold", "between"),
        ("reputation", {"check_ip": False, "check_username": False}, "check_ip", "or both"),
        ("reputation", {"threshold": "low"}, "threshold", "whole number"),
        ("dummy", {"wait_seconds": 600}, "wait_seconds", "between 0 and 60"),
        ("dummy", {"result": "yes"}, "result", "true or false"),
        ("expression", {"expression": "1 +"}, "expression", "not a valid expression"),
        ("initial_setup", {"anything": 1}, "anything", "unknown option"),
    ],
)
def test_bad_policy_options_name_the_field(type_name, mapping, place, message):
    with pytest.raises(OptionsError) as caught:
        POLICY_TYPES[type_name].parse_options(mapping)
    assert caught.value.place == place
    assert message in caught.value.message
