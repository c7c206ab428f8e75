"""authentik's blueprint tags as its importer resolves them (authentik/blueprints/v1/common.py),
`!Env` read at import time, and the redirect stage's mapping."""

from textwrap import dedent

import pytest

from tests.unit.test_authentik_blueprint import (
    FakeLookup,
    existing_flow,
    only_document,
    problems_of,
    skipped_text,
    stage_named,
    title_of,
    translate,
    with_stage,
)


@pytest.mark.parametrize(
    ("expression", "title"),
    [
        # SEQ: one item per element, !Index and !Value of the innermost !Enumerate.
        ('!Format ["%s", !Enumerate [[a, b], SEQ, !Format ["%s=%s", !Index 0, !Value 0]]]', None),
        ("!AtIndex [[one, two], 1]", "two"),
        ("!AtIndex [[one, two], -1]", "two"),
        ("!AtIndex [{greeting: Hi}, greeting]", "Hi"),
        ("!AtIndex [[one], 5, Fallback]", "Fallback"),
        ("!AtIndex [{}, missing, Fallback]", "Fallback"),
        ("!AtIndex [!ParseJSON '[\"from json\"]', 0]", "from json"),
        ("!AtIndex [!Enumerate [{a: 1, b: 2}, MAP, [!Value 0, !Index 0]], 2]", "b"),
    ],
)
def test_enumerate_index_value_at_index_and_parse_json(expression, title):
    if title is None:
        assert title_of(expression) == "['0=a', '1=b']"
    else:
        assert title_of(expression) == title


def test_nested_enumerate_reaches_the_outer_item_by_depth():
    expression = (
        "!Format ['%s', !Enumerate [[x, y], SEQ, "
        "!Enumerate [[1, 2], SEQ, !Format ['%s%s', !Value 1, !Value 0]]]]"
    )
    assert title_of(expression) == "[['x1', 'x2'], ['y1', 'y2']]"


def test_enumerate_builds_the_fields_of_a_prompt_stage():
    entries = with_stage(
        "authentik_stages_prompt.promptstage",
        "{fields: !Enumerate [[first, second], SEQ, !Find [authentik_stages_prompt.prompt, "
        "[name, !Format ['field-%s', !Value 0]]]]}",
    ) + dedent("""
    - model: authentik_stages_prompt.prompt
      identifiers: {name: field-first}
      attrs: {field_key: first, type: text}
    - model: authentik_stages_prompt.prompt
      identifiers: {name: field-second}
      attrs: {field_key: second, type: text}
    """)
    stage = stage_named(only_document(translate(entries)), "the-stage")
    assert [field["key"] for field in stage.options["fields"]] == ["first", "second"]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("!Value 0", "!Value 0: not inside that many !Enumerate tags"),
        ("!Enumerate [[a], SEQ, !Index 1]", "!Index 1: not inside that many"),
        ("!AtIndex [[a], 3]", "!AtIndex: no item 3 and no default"),
        ("!AtIndex [[a], x]", "!AtIndex: x is not a list index"),
        ("!ParseJSON '{nope'", "!ParseJSON: not JSON"),
        ("!Enumerate [3, SEQ, x]", "!Enumerate takes a list or a mapping"),
    ],
)
def test_tags_used_wrongly_are_errors_with_their_line(expression, message):
    entries = f"""
    - model: authentik_flows.flow
      identifiers: {{slug: new-flow}}
      attrs: {{name: New, designation: authentication, title: {expression}}}
    """
    (problem,) = problems_of(entries)
    assert "(line 6)" in problem and message in problem


def test_an_enumerate_of_an_unknown_output_is_refused_when_read():
    entries = """
    - model: authentik_flows.flow
      identifiers: {slug: new-flow}
      attrs: {name: New, designation: authentication, title: !Enumerate [[a], LIST, x]}
    """
    (problem,) = problems_of(entries)
    assert "!Enumerate takes [iterable, SEQ or MAP, item]" in problem


def test_env_without_a_default_that_is_not_set_leaves_out_what_needs_it(monkeypatch):
    monkeypatch.delenv("GATEHOUSE_TEST_UNSET", raising=False)
    translation = translate(
        with_stage("authentik_stages_deny.denystage", "{deny_message: !Env GATEHOUSE_TEST_UNSET}")
    )
    assert (
        "denystage (name=the-stage): it uses !Env GATEHOUSE_TEST_UNSET (line 12), which is not "
        "set here and has no default"
    ) in skipped_text(translation)
    # The deny stage is a gate: its flow is left out rather than imported without it.
    assert translation.documents == []
    monkeypatch.setenv("GATEHOUSE_TEST_UNSET", "Closed")
    stage = stage_named(
        only_document(
            translate(
                with_stage(
                    "authentik_stages_deny.denystage", "{deny_message: !Env GATEHOUSE_TEST_UNSET}"
                )
            )
        ),
        "the-stage",
    )
    assert stage.options == {"message": "Closed"}


def test_an_empty_environment_variable_takes_the_default_as_in_authentik(monkeypatch):
    monkeypatch.setenv("GATEHOUSE_TEST_EMPTY", "")
    assert title_of("!Env [GATEHOUSE_TEST_EMPTY, Fallback]") == "Fallback"


# -- the redirect stage ----------------------------------------------------------------------


REDIRECT = "authentik_stages_redirect.redirectstage"


def test_a_static_redirect_stage_keeps_its_address():
    translation = translate(
        with_stage(REDIRECT, "{mode: static, target_static: 'https://a.test/'}")
    )
    stage = stage_named(only_document(translation), "the-stage")
    assert stage.type == "redirect"
    assert stage.options["mode"] == "static"
    assert stage.options["target_url"] == "https://a.test/"
    assert translation.skipped == []


def test_a_flow_redirect_stage_names_its_flow_and_keeps_context():
    lookup = FakeLookup(flows={"existing": existing_flow()})
    attrs = (
        "{mode: flow, keep_context: false, "
        "target_flow: !Find [authentik_flows.flow, [slug, existing]]}"
    )
    stage = stage_named(only_document(translate(with_stage(REDIRECT, attrs), lookup)), "the-stage")
    assert stage.options == {
        "mode": "flow",
        "target_url": "",
        "target_flow": "existing",
        "keep_context": False,
    }


@pytest.mark.parametrize(
    ("attrs", "reason"),
    [
        ("{mode: static, target_static: /if/user/}", "'/if/user/' is not an absolute http(s)"),
        ("{mode: flow, target_flow: !Find [authentik_flows.flow, [slug, nowhere]]}", "target_flow"),
    ],
)
def test_a_redirect_gatehouse_cannot_follow_keeps_its_flow_out(attrs, reason):
    translation = translate(with_stage(REDIRECT, attrs))
    assert translation.documents == []
    assert reason in skipped_text(translation)


# -- attributes Gatehouse does otherwise ---------------------------------------------------------


def test_user_type_and_path_are_named_with_what_gatehouse_does_instead():
    translation = translate(
        with_stage(
            "authentik_stages_user_write.userwritestage",
            "{user_type: internal, user_path_template: users/staff}",
        )
    )
    skipped = skipped_text(translation)
    assert "not imported: user_type internal (Gatehouse's users are all of one kind" in skipped
    assert "not imported: user_path_template users/staff (Gatehouse has no user paths" in skipped


def password_policy(attrs: str):
    entries = with_stage(
        "authentik_stages_prompt.promptstage", "{validation_policies: [!KeyOf policy]}"
    ) + dedent(f"""
    - model: authentik_policies_password.passwordpolicy
      id: policy
      identifiers: {{name: rules}}
      attrs: {attrs}
    """)
    translation = translate(entries)
    document = only_document(translation)
    return next(p for p in document.policies if p.name == "rules").options, translation


# authentik's default symbol_charset (a raw text in its model), as a single-quoted YAML text.
AUTHENTIK_SYMBOLS = "'" + "!\\\"#$%&''()*+,-./:;<=>?@[\\]^_`{|}~ " + "'"


def test_password_policy_thresholds_follow_authentiks_comparisons():
    options, translation = password_policy(
        "{length_min: 10, amount_digits: 2, amount_uppercase: 1, amount_lowercase: 1, "
        "amount_symbols: 1, check_zxcvbn: true, zxcvbn_score_threshold: 2, "
        "check_have_i_been_pwned: true, hibp_allowed_count: 0, "
        f"symbol_charset: {AUTHENTIK_SYMBOLS}}}"
    )
    # authentik fails a zxcvbn score at or below its threshold: the lowest pass is one more.
    assert (options["min_length"], options["min_digits"], options["zxcvbn_min_score"]) == (
        10,
        2,
        3,
    )
    assert (options["min_uppercase"], options["min_lowercase"], options["min_symbols"]) == (1, 1, 1)
    assert options["check_hibp"] is True
    # authentik's default symbols are left unnamed; Gatehouse counts those as symbols too.
    assert translation.skipped == []


def test_password_policy_differences_are_named():
    _, translation = password_policy(
        "{check_zxcvbn: true, zxcvbn_score_threshold: 4, check_have_i_been_pwned: true, "
        "hibp_allowed_count: 3, symbol_charset: '!?'}"
    )
    skipped = skipped_text(translation)
    assert "zxcvbn_score_threshold 4 (authentik then refuses every password" in skipped
    assert "hibp_allowed_count 3 (Gatehouse refuses any breached password)" in skipped
    assert "symbol_charset !? (Gatehouse counts any punctuation" in skipped
