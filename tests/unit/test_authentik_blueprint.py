"""The authentik blueprint reader: tags, states, each mapped model and what it names as skipped.

No database: a FakeLookup stands for the objects Gatehouse has already.
"""

import textwrap
from datetime import timedelta
from textwrap import dedent

import pytest

from idp.transfer.authentik import (
    CONDITION_MODES,
    Condition,
    Context,
    Enumerate,
    Env,
    Find,
    Format,
    If,
    KeyOf,
    format_duration,
    is_blueprint,
    load_blueprint,
    looks_like_blueprint,
    parse_authentik_duration,
    read_blueprint,
)
from idp.transfer.document import FlowFileError

FLOW = "authentik_flows.flow"


class FakeLookup:
    def __init__(self, flows=None, stages=None, policies=None, groups=(), users=()):
        self.flows = flows or {}  # slug -> version-1 document
        self.stages = stages or {}  # name -> (type, options)
        self.policies = policies or {}
        self.groups = set(groups)
        self.users = set(users)

    def find(self, kind, conditions, type_name=None):
        if kind == "flow":
            slug = conditions.get("slug")
            return slug if slug in self.flows else None
        if kind in ("stage", "policy"):
            found = (self.stages if kind == "stage" else self.policies).get(conditions["name"])
            matches = found is not None and type_name in (None, found[0])
            return conditions["name"] if matches else None
        names = self.groups if kind == "group" else self.users
        value = conditions.get("name") or conditions.get("username")
        return value if value in names else None

    def stage(self, name):
        return self.stages.get(name)

    def policy(self, name):
        return self.policies.get(name)

    def flow(self, slug):
        return self.flows.get(slug)

    def application(self, slug):
        return None


def existing_flow(slug="existing", stages=(), policies=()):
    return {
        "version": 1,
        "flow": {
            "slug": slug,
            "name": "Existing",
            "title": "Hello",
            "designation": "authentication",
            "authentication": "none",
            "denied_action": "message_continue",
            "policy_engine_mode": "any",
            "policies": list(policies),
            "stages": [
                {
                    "stage": name,
                    "order": order,
                    "evaluate_on_plan": False,
                    "re_evaluate_policies": True,
                    "policy_engine_mode": "any",
                    "invalid_response_action": "retry",
                }
                for name, order in stages
            ],
        },
        "stages": [],
        "policies": [],
    }


def translate(entries: str, lookup=None, header="version: 1\nentries:\n"):
    text = header + textwrap.indent(textwrap.dedent(entries), "  ")
    return read_blueprint(load_blueprint(text, "bp.yaml"), "bp.yaml", lookup or FakeLookup())


def problems_of(entries: str, lookup=None, header="version: 1\nentries:\n") -> list[str]:
    with pytest.raises(FlowFileError) as caught:
        translate(entries, lookup, header)
    return caught.value.problems


def only_document(translation):
    assert len(translation.documents) == 1, translation.skipped
    return translation.documents[0]


def stage_named(document, name):
    return next(stage for stage in document.stages if stage.name == name)


def skipped_text(translation) -> str:
    return "\n".join(translation.skipped)


NEW_FLOW = """
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: new-flow}
  attrs: {name: New, designation: authentication}
"""


def with_stage(model, attrs="{}", name="the-stage"):
    return NEW_FLOW + textwrap.dedent(f"""
    - model: {model}
      id: stage
      identifiers: {{name: {name}}}
      attrs: {attrs}
    - model: authentik_flows.flowstagebinding
      id: binding
      identifiers: {{order: 10, target: !KeyOf flow, stage: !KeyOf stage}}
    """)


# -- reading the YAML ----------------------------------------------------------------------------


def test_tags_are_read_with_their_line():
    document = load_blueprint(
        textwrap.dedent("""
        version: 1
        entries:
          - a: !KeyOf flow
            b: !Find [authentik_flows.flow, [slug, x]]
            c: !Context [key, fallback]
            d: !Env NAME
            e: !Format ["%s-%s", one, two]
            f: !If [true, open, closed]
            g: !Condition [AND, true, false]
            h: !Enumerate [[], SEQ, x]
        """),
        "bp.yaml",
    )
    tags = document["entries"][0]
    assert tags["a"] == KeyOf(4, "flow")
    assert tags["b"] == Find(5, "authentik_flows.flow", [("slug", "x")])
    assert tags["c"] == Context(6, "key", "fallback")
    assert tags["d"] == Env(7, "NAME")
    assert tags["e"] == Format(8, "%s-%s", ["one", "two"])
    assert tags["f"] == If(9, True, "open", "closed")
    assert tags["g"] == Condition(10, "AND", [True, False])
    assert tags["h"] == Enumerate(11, [], "SEQ", "x")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 1\nentries: [\n", "bp.yaml: not valid YAML (line"),
        (
            "version: 1\nentries:\n  - model: !Teleport x\n",
            "bp.yaml: line 3: unknown tag !Teleport",
        ),
        ("version: 1\nentries:\n  - a: !!python/name:os.system\n", "line 3: unknown tag"),
        ("version: 1\nentries:\n  - a: !KeyOf [x]\n", "line 3: !KeyOf takes the id"),
        ("version: 1\nentries:\n  - a: !Find x\n", "line 3: !Find takes [model"),
        ("version: 1\nentries:\n  - a: !Find [m, [slug]]\n", "line 3: !Find takes [model"),
        ("version: 1\nentries:\n  - a: !If [a, b]\n", "line 3: !If takes [condition]"),
        ("version: 1\nentries:\n  - a: !Condition [AND]\n", "!Condition takes at least 2"),
        ("version: 1\nentries:\n  - a: !Env [a, b, c]\n", "!Env takes 2 to 2 values"),
        ("- just\n- a list\n", "a blueprint must be a mapping"),
    ],
)
def test_unreadable_yaml_is_one_line_with_its_place(text, message):
    with pytest.raises(FlowFileError) as caught:
        load_blueprint(text, "bp.yaml")
    assert len(caught.value.problems) == 1
    assert message in caught.value.problems[0]


def test_a_blueprint_is_recognised_by_its_entries():
    assert looks_like_blueprint(b"version: 1\nentries:\n  - model: x\n")
    assert not looks_like_blueprint(b"version: 1\nflow:\n  entries: 1\n")
    assert is_blueprint({"version": 1, "entries": []})
    assert not is_blueprint({"version": 1, "flow": {}, "entries": []})


# -- tags ----------------------------------------------------------------------------------------


def title_of(expression: str, lookup=None, header="version: 1\nentries:\n") -> str:
    entries = f"""
    - model: authentik_flows.flow
      identifiers: {{slug: new-flow}}
      attrs: {{name: New, designation: authentication, title: {expression}}}
    """
    return only_document(translate(entries, lookup, header)).flow.title


def test_env_reads_the_environment_with_a_default(monkeypatch):
    monkeypatch.setenv("GATEHOUSE_TEST_TITLE", "From the environment")
    assert title_of("!Env GATEHOUSE_TEST_TITLE") == "From the environment"
    assert title_of("!Env [GATEHOUSE_TEST_TITLE, Fallback]") == "From the environment"
    monkeypatch.delenv("GATEHOUSE_TEST_TITLE")
    assert title_of("!Env [GATEHOUSE_TEST_TITLE, Fallback]") == "Fallback"


def test_context_takes_the_blueprints_context_else_the_default():
    assert title_of("!Context [greeting, Fallback]") == "Fallback"
    header = "version: 1\ncontext: {greeting: Hi}\nentries:\n"
    assert title_of("!Context [greeting, Fallback]", header=header) == "Hi"


def test_format_fills_in_values_and_names_of_references():
    assert title_of('!Format ["%s of %d", Sign in, 3]') == "Sign in of 3"
    entries = """
    - model: authentik_flows.flow
      id: flow
      identifiers: {slug: new-flow}
      attrs: {name: New, designation: authentication, title: !Format ["Flow %s", !KeyOf flow]}
    """
    assert only_document(translate(entries)).flow.title == "Flow new-flow"


def test_format_with_the_wrong_number_of_values_is_an_error():
    entries = """
    - model: authentik_flows.flow
      identifiers: {slug: new-flow}
      attrs:
        name: New
        title: !Format ["%s %s", one]
    """
    (problem,) = problems_of(entries)
    assert "entries[0] authentik_flows.flow (line 8): !Format '%s %s'" in problem


@pytest.mark.parametrize(
    ("expression", "title"),
    [
        ("!If [true, Open, Closed]", "Open"),
        ("!If [false, Open, Closed]", "Closed"),
        ("!If [!Condition [OR, false, true], Open, Closed]", "Open"),
        ("!If [!Find [authentik_flows.flow, [slug, nowhere]], Open, Closed]", "Closed"),
    ],
)
def test_if_picks_a_branch(expression, title):
    assert title_of(expression) == title


@pytest.mark.parametrize(
    ("mode", "values", "expected"),
    [
        ("AND", [True, True], True),
        ("AND", [True, False], False),
        ("OR", [False, True], True),
        ("OR", [False, False], False),
        ("NAND", [True, True], False),
        ("NAND", [True, False], True),
        ("NOR", [False, False], True),
        ("NOR", [True, False], False),
        ("XOR", [True, False], True),
        ("XOR", [True, True], False),
        ("XNOR", [True, True], True),
        ("XNOR", [True, False], False),
        ("XOR", [True], True),
    ],
)
def test_condition_modes(mode, values, expected):
    assert CONDITION_MODES[mode](values) is expected
    arguments = ", ".join(str(value).lower() for value in values)
    assert title_of(f"!If [!Condition [{mode.lower()}, {arguments}], Open, Closed]") == (
        "Open" if expected else "Closed"
    )


def test_a_condition_with_an_unknown_mode_is_an_error():
    (problem,) = problems_of(
        """
        - model: authentik_flows.flow
          identifiers: {slug: x}
          attrs: {title: !Condition [MAYBE, true]}
        """
    )
    assert "(line 6): !Condition mode must be one of AND" in problem


def test_key_of_an_unknown_id_is_an_error_with_its_line():
    problems = problems_of(
        NEW_FLOW + "- {model: authentik_flows.flowstagebinding, identifiers: "
        "{order: 0, target: !KeyOf flow, stage: !KeyOf nowhere}}\n"
    )
    assert problems == [
        "bp.yaml: entries[1] authentik_flows.flowstagebinding (line 8): "
        "!KeyOf 'nowhere': no entry has this id"
    ]


def test_find_prefers_the_blueprint_then_the_database_then_nothing():
    lookup = FakeLookup(
        flows={"existing": existing_flow()}, stages={"db-login": ("user_login", {})}
    )
    entries = NEW_FLOW + dedent("""
    - model: authentik_stages_user_login.userloginstage
      identifiers: {name: login}
    - model: authentik_flows.flowstagebinding
      identifiers:
        order: 10
        target: !Find [authentik_flows.flow, [slug, new-flow]]
        stage: !Find [authentik_stages_user_login.userloginstage, [name, login]]
    - model: authentik_flows.flowstagebinding
      identifiers:
        order: 20
        target: !Find [authentik_flows.flow, [slug, existing]]
        stage: !Find [authentik_stages_user_login.userloginstage, [name, db-login]]
    """)
    translation = translate(entries, lookup)
    new, existing = translation.documents
    assert [binding.stage for binding in new.flow.stages] == ["login"]
    assert [binding.stage for binding in existing.flow.stages] == ["db-login"]
    translation = translate(
        entries
        + dedent("""
    - model: authentik_flows.flowstagebinding
      identifiers:
        order: 30
        target: !Find [authentik_flows.flow, [slug, existing]]
        stage: !Find [authentik_stages_user_login.userloginstage, [name, nowhere]]
    """),
        lookup,
    )
    assert [document.flow.slug for document in translation.documents] == ["new-flow"]
    assert "entries[4] authentik_flows.flowstagebinding (order=30" in skipped_text(translation)
    assert "its stage is empty (a !Find that found nothing?)" in skipped_text(translation)


def test_a_flow_named_only_by_find_does_not_fail():
    translation = translate(
        with_stage(
            "authentik_stages_password.passwordstage",
            "{configure_flow: !Find [authentik_flows.flow, [slug, default-password-change]]}",
        )
    )
    assert only_document(translation).flow.stages[0].stage == "the-stage"
    assert translation.skipped == []


def test_unsupported_tags_skip_the_entry_that_needs_them():
    translation = translate(
        with_stage("authentik_stages_deny.denystage", "{deny_message: !File /etc/motd}")
    )
    assert "entries[1] authentik_stages_deny.denystage (name=the-stage): it uses !File " in (
        skipped_text(translation)
    )
    # The deny stage can stop the flow, so the flow is not imported without it.
    assert translation.documents == []
    assert "entries[0] authentik_flows.flow (slug=new-flow): its stage binding entries[2]" in (
        skipped_text(translation)
    )


def test_an_entry_whose_conditions_are_false_is_left_out_without_a_note():
    entries = NEW_FLOW + dedent("""
    - model: authentik_brands.brand
      conditions: [!Condition [NOR, true]]
      identifiers: {domain: example}
    - model: authentik_brands.brand
      conditions: [!Condition [NOR, !Find [authentik_brands.brand, [domain, x]]]]
      identifiers: {domain: x}
    """)
    skipped = translate(entries).skipped
    assert len(skipped) == 1
    assert "entries[2] authentik_brands.brand (domain=x): Gatehouse has no equivalent" in skipped[0]


# -- states --------------------------------------------------------------------------------------


def test_present_makes_the_stage_what_the_entry_says_defaults_for_the_rest():
    lookup = FakeLookup(
        stages={
            "the-stage": (
                "identification",
                {"user_fields": ["username"], "enrollment_flow": "sign-up", "recovery_flow": ""},
            )
        }
    )
    entries = with_stage(
        "authentik_stages_identification.identificationstage", "{user_fields: [email]}"
    )
    stage = stage_named(only_document(translate(entries, lookup)), "the-stage")
    # Not a merge with what the database had: a re-imported file converges on the file.
    assert stage.options == {
        "user_fields": ["email"],
        "enrollment_flow": "",
        "recovery_flow": "",
        "password_field": False,
        "submit_label": "",
        "passkey_login": False,
    }


def test_created_leaves_an_existing_stage_alone_and_creates_a_missing_one():
    entries = with_stage("authentik_stages_deny.denystage", "{deny_message: New text}").replace(
        "id: stage\n", "id: stage\n  state: created\n"
    )
    lookup = FakeLookup(stages={"the-stage": ("deny", {"message": "Old text"})})
    document = only_document(translate(entries, lookup))
    assert document.stages == ()
    assert document.flow.stages[0].stage == "the-stage"
    created = only_document(translate(entries))
    assert stage_named(created, "the-stage").options == {"message": "New text"}


def test_must_created_on_an_existing_object_is_an_error():
    entries = with_stage("authentik_stages_deny.denystage").replace(
        "id: stage\n", "id: stage\n  state: must_created\n"
    )
    (problem,) = problems_of(entries, FakeLookup(stages={"the-stage": ("deny", {})}))
    assert "state must_created, but the stage 'the-stage' exists" in problem


def test_absent_removes_a_binding_but_never_deletes_a_stage():
    lookup = FakeLookup(
        flows={"existing": existing_flow(stages=[("keep", 10), ("drop", 20)])},
        stages={"drop": ("deny", {})},
    )
    entries = """
    - model: authentik_stages_deny.denystage
      state: absent
      identifiers: {name: drop}
    - model: authentik_flows.flowstagebinding
      state: absent
      identifiers:
        order: 20
        target: !Find [authentik_flows.flow, [slug, existing]]
        stage: !Find [authentik_stages_deny.denystage, [name, drop]]
    """
    translation = translate(entries, lookup)
    assert [binding.stage for binding in only_document(translation).flow.stages] == ["keep"]
    (line,) = translation.skipped
    assert "entries[0] authentik_stages_deny.denystage (name=drop): state absent" in line


def test_a_declared_flow_has_only_the_files_bindings_and_names_those_it_drops():
    lookup = FakeLookup(flows={"existing": existing_flow(stages=[("ours", 30), ("login", 10)])})
    entries = """
    - model: authentik_flows.flow
      id: flow
      identifiers: {slug: existing}
      attrs: {title: Welcome}
    - model: authentik_stages_user_login.userloginstage
      id: login
      identifiers: {name: login}
    - model: authentik_flows.flowstagebinding
      identifiers: {order: 100, target: !KeyOf flow, stage: !KeyOf login}
    """
    translation = translate(entries, lookup)
    document = only_document(translation)
    assert document.flow.title == "Welcome"
    assert document.flow.name == "Existing"  # kept: a flow needs one, and the file is silent
    assert [(item.stage, item.order) for item in document.flow.stages] == [("login", 100)]
    assert translation.replaced == [
        "bp.yaml: flow existing: stage ours (order 30) is no longer bound, as the file "
        "declares the flow without it",
        "bp.yaml: flow existing: stage login moves from order 10 to 100",
    ]


def test_bindings_added_to_a_flow_the_file_only_finds_are_merged_as_in_authentik():
    lookup = FakeLookup(flows={"existing": existing_flow(stages=[("ours", 30)])})
    entries = """
    - model: authentik_stages_user_login.userloginstage
      id: login
      identifiers: {name: login}
    - model: authentik_flows.flowstagebinding
      identifiers:
        order: 100
        target: !Find [authentik_flows.flow, [slug, existing]]
        stage: !KeyOf login
    """
    translation = translate(entries, lookup)
    document = only_document(translation)
    assert [(item.stage, item.order) for item in document.flow.stages] == [
        ("ours", 30),
        ("login", 100),
    ]
    assert translation.replaced == []


# -- each mapped model ---------------------------------------------------------------------------


def test_flow_attributes_map_one_to_one():
    entries = """
    - model: authentik_flows.flow
      identifiers: {slug: guarded}
      attrs:
        name: Guarded
        title: Welcome
        designation: enrollment
        authentication: require_unauthenticated
        denied_action: message
        policy_engine_mode: all
        layout: stacked
    """
    translation = translate(entries)
    flow = only_document(translation).flow
    assert (flow.slug, flow.name, flow.title, flow.designation) == (
        "guarded",
        "Guarded",
        "Welcome",
        "enrollment",
    )
    assert (flow.authentication, flow.denied_action, flow.policy_engine_mode) == (
        "require_unauthenticated",
        "message",
        "all",
    )
    assert translation.skipped == []


@pytest.mark.parametrize(
    ("attribute", "value"),
    [("authentication", "require_outpost")],
)
def test_a_flow_gatehouse_cannot_express_is_skipped_with_its_bindings(attribute, value):
    entries = with_stage("authentik_stages_user_logout.userlogoutstage").replace(
        "designation: authentication", f"designation: authentication, {attribute}: {value}"
    )
    translation = translate(entries)
    assert translation.documents == []
    skipped = skipped_text(translation)
    assert (
        f"entries[0] {FLOW} (slug=new-flow): {attribute} {value}: authentik runs the flow only"
        in skipped
    )
    assert "entries[2] authentik_flows.flowstagebinding" in skipped
    assert "its flow new-flow is skipped" in skipped


def test_stage_binding_attributes_map_one_to_one():
    entries = NEW_FLOW + dedent("""
    - model: authentik_stages_user_logout.userlogoutstage
      id: stage
      identifiers: {name: logout}
    - model: authentik_flows.flowstagebinding
      identifiers: {order: 5, target: !KeyOf flow, stage: !KeyOf stage}
      attrs:
        evaluate_on_plan: true
        re_evaluate_policies: false
        policy_engine_mode: all
        invalid_response_action: restart_with_context
    """)
    (binding,) = only_document(translate(entries)).flow.stages
    assert (binding.stage, binding.order, binding.evaluate_on_plan) == ("logout", 5, True)
    assert (binding.re_evaluate_policies, binding.policy_engine_mode) == (False, "all")
    assert binding.invalid_response_action == "restart_with_context"


def test_policy_bindings_on_flows_and_on_stage_bindings():
    entries = with_stage("authentik_stages_user_logout.userlogoutstage") + dedent("""
    - model: authentik_policies_dummy.dummypolicy
      id: never
      identifiers: {name: never}
    - model: authentik_policies.policybinding
      identifiers: {order: 1, target: !KeyOf binding, policy: !KeyOf never}
      attrs: {negate: true, enabled: false, timeout: 5}
    - model: authentik_policies.policybinding
      identifiers:
        order: 2
        target: !KeyOf flow
        group: !Find [authentik_core.group, [name, staff]]
    - model: authentik_policies.policybinding
      identifiers:
        order: 3
        target: !KeyOf flow
        user: !Find [authentik_core.user, [username, ada]]
      attrs: {failure_result: true}
    """)
    document = only_document(translate(entries, FakeLookup(groups={"staff"}, users={"ada"})))
    (on_binding,) = document.flow.stages[0].policies
    assert (on_binding.policy, on_binding.order, on_binding.negate) == ("never", 1, True)
    assert (on_binding.enabled, on_binding.timeout, on_binding.failure_result) == (False, 5, False)
    group, user = document.flow.policies
    assert (group.group, group.order, user.user, user.failure_result) == ("staff", 2, "ada", True)
    assert [policy.name for policy in document.policies] == ["never"]
    assert document.policies[0].options["result"] is False  # authentik's default


def test_identification_keeps_username_and_email_and_names_the_rest():
    lookup = FakeLookup(flows={"sign-up": existing_flow("sign-up")})
    translation = translate(
        with_stage(
            "authentik_stages_identification.identificationstage",
            "{user_fields: [email, upn, username], "
            "enrollment_flow: !Find [authentik_flows.flow, [slug, sign-up]]}",
        ),
        lookup,
    )
    options = stage_named(only_document(translation), "the-stage").options
    assert options["user_fields"] == ["email", "username"]
    assert options["enrollment_flow"] == "sign-up"
    (line,) = translation.skipped
    assert "(name=the-stage): not imported: user_fields upn (Gatehouse identifies" in line


def test_identification_that_asks_for_the_password_itself_gets_the_password_field():
    entries = with_stage(
        "authentik_stages_identification.identificationstage",
        "{password_stage: !KeyOf password}",
    ) + dedent("""
    - model: authentik_stages_password.passwordstage
      id: password
      identifiers: {name: password}
    """)
    translation = translate(entries)
    document = only_document(translation)
    assert stage_named(document, "the-stage").options["password_field"] is True
    # The password stage it names is written beside it (unbound), not named as skipped.
    assert [binding.stage for binding in document.flow.stages] == ["the-stage"]
    assert stage_named(document, "password").type == "password"
    assert translation.skipped == []


def test_identification_whose_password_stage_is_skipped_keeps_its_flow_out():
    entries = with_stage(
        "authentik_stages_identification.identificationstage",
        "{password_stage: !KeyOf password}",
    ) + dedent("""
    - model: authentik_stages_password.passwordstage
      id: password
      identifiers: {name: password}
      attrs: {backends: !File /nowhere}
    """)
    translation = translate(entries)
    assert translation.documents == []
    assert "it asks for the password with a password stage that is skipped" in (
        skipped_text(translation)
    )


def test_password_stage_names_the_backends_it_drops():
    translation = translate(
        with_stage(
            "authentik_stages_password.passwordstage",
            "{backends: [authentik.core.auth.InbuiltBackend, authentik.sources.ldap.auth.LDAP]}",
        )
    )
    assert stage_named(only_document(translation), "the-stage").type == "password"
    assert "not imported: backends authentik.sources.ldap.auth.LDAP" in skipped_text(translation)


def test_prompt_stage_takes_its_fields_from_prompt_entries():
    entries = with_stage(
        "authentik_stages_prompt.promptstage",
        "{fields: [!KeyOf intro, !KeyOf email, !KeyOf locale, !KeyOf greeting]}",
    ) + dedent("""
    - model: authentik_stages_prompt.prompt
      id: intro
      identifiers: {name: intro}
      attrs: {field_key: intro-text, type: static, initial_value: Hello, order: 1}
    - model: authentik_stages_prompt.prompt
      id: email
      identifiers: {name: email}
      attrs:
        field_key: email
        label: Email
        type: email
        placeholder: you@example.test
        sub_text: We never share it
        order: 2
    - model: authentik_stages_prompt.prompt
      id: locale
      identifiers: {name: locale}
      attrs: {field_key: locale, type: ak-locale}
    - model: authentik_stages_prompt.prompt
      id: greeting
      identifiers: {name: greeting}
      attrs:
        field_key: greeting
        type: text
        initial_value: return user.name
        initial_value_expression: true
    """)
    translation = translate(entries)
    fields = stage_named(only_document(translation), "the-stage").options["fields"]
    intro, email, locale, greeting = fields
    assert (intro["key"], intro["type"], intro["initial_value"]) == (
        "static_intro_text",
        "static",
        "Hello",
    )
    assert email == {
        "key": "email",
        "label": "Email",
        "type": "email",
        "required": True,  # authentik's default
        "placeholder": "you@example.test",
        "initial_value": "",
        "initial_value_expression": "",
        "help_text": "We never share it",
        "order": 2,
        "choices": [],
    }
    # authentik's Python, translated: the user's name when the form is shown.
    assert (greeting["initial_value"], greeting["initial_value_expression"]) == ("", "user.name")
    skipped = skipped_text(translation)
    # No translations yet: a choice of the languages Gatehouse has, kept as the attribute.
    assert (locale["key"], locale["type"], locale["choices"]) == (
        "attributes.locale",
        "dropdown",
        ["en"],
    )
    assert "ak-locale" not in skipped
    assert any(
        "type ak-locale (locale) becomes a dropdown" in line for line in translation.resolved
    )
    assert "greeting" not in skipped


def test_prompt_with_a_key_gatehouse_cannot_store_is_skipped():
    prompt_stage = with_stage("authentik_stages_prompt.promptstage", "{fields: [!KeyOf odd]}")
    entries = prompt_stage + dedent("""
    - model: authentik_stages_prompt.prompt
      id: odd
      identifiers: {name: odd}
      attrs: {field_key: Odd-Key, type: text}
    """)
    translation = translate(entries)
    assert "its field_key 'Odd-Key' is not a Gatehouse field key" in skipped_text(translation)
    assert stage_named(only_document(translation), "the-stage").options["fields"] == []


@pytest.mark.parametrize(
    ("authentik", "gatehouse"),
    [
        ("never_create", "never"),
        ("create_when_required", "when_required"),
        ("always_create", "always"),
    ],
)
def test_user_write_creation_modes(authentik, gatehouse):
    translation = translate(
        with_stage(
            "authentik_stages_user_write.userwritestage",
            f"{{user_creation_mode: {authentik}, create_users_as_inactive: true}}",
        )
    )
    options = stage_named(only_document(translation), "the-stage").options
    assert options["user_creation_mode"] == gatehouse
    assert options["create_users_as_inactive"] is True


def test_user_write_group_is_kept_only_when_gatehouse_has_it():
    entries = with_stage(
        "authentik_stages_user_write.userwritestage", "{create_users_group: !KeyOf group}"
    ) + dedent("""
    - model: authentik_core.group
      id: group
      identifiers: {name: staff}
    """)
    kept = translate(entries, FakeLookup(groups={"staff"}))
    assert stage_named(only_document(kept), "the-stage").options["create_users_group"] == "staff"
    missing = translate(entries)
    assert stage_named(only_document(missing), "the-stage").options["create_users_group"] == ""
    assert "not imported: create_users_group staff (Gatehouse has no group 'staff'" in (
        skipped_text(missing)
    )


@pytest.mark.parametrize(
    ("authentik", "gatehouse"),
    [
        ("seconds=0", "1d"),
        ("hours=8", "8h"),
        ("days=1;hours=12", "1d12h"),
        ("minutes=90", "1h30m"),
        ("weeks=2", "14d"),
    ],
)
def test_user_login_session_duration(authentik, gatehouse):
    translation = translate(
        with_stage(
            "authentik_stages_user_login.userloginstage", f"{{session_duration: {authentik}}}"
        )
    )
    options = stage_named(only_document(translation), "the-stage").options
    assert options["session_duration"] == gatehouse


def test_a_session_duration_gatehouse_does_not_allow_is_named():
    translation = translate(
        with_stage("authentik_stages_user_login.userloginstage", "{session_duration: seconds=5}")
    )
    assert stage_named(only_document(translation), "the-stage").options["session_duration"] == "1d"
    assert "not imported: session_duration seconds=5 (Gatehouse allows" in skipped_text(translation)


def test_logout_and_deny_stages():
    logout = translate(with_stage("authentik_stages_user_logout.userlogoutstage"))
    assert stage_named(only_document(logout), "the-stage").type == "user_logout"
    deny = translate(with_stage("authentik_stages_deny.denystage", "{deny_message: Go away}"))
    assert stage_named(only_document(deny), "the-stage").options == {"message": "Go away"}


# -- what is not imported ------------------------------------------------------------------------


def test_an_unknown_model_is_named_by_index_model_and_identifiers():
    translation = translate(
        NEW_FLOW + "- {model: authentik_outposts.outpost, identifiers: {name: wiki}}\n"
    )
    assert translation.skipped == [
        "bp.yaml: entries[1] authentik_outposts.outpost (name=wiki): Gatehouse has no equivalent"
    ]


def test_an_untranslatable_expression_policy_on_a_stage_binding_leaves_its_flow_out():
    entries = with_stage("authentik_stages_password.passwordstage") + dedent("""
    - model: authentik_policies_expression.expressionpolicy
      id: optional
      identifiers: {name: password-optional}
      attrs:
        expression: |
          akadmin = ak_user_by(username="akadmin")
          return not akadmin.has_usable_password()
    - model: authentik_policies.policybinding
      identifiers: {order: 10, target: !KeyOf binding, policy: !KeyOf optional}
      attrs: {failure_result: true}
    """)
    translation = translate(entries)
    assert translation.documents == []
    flow, stage, binding, expression, policy_binding = translation.skipped
    assert "flow (slug=new-flow): the policy binding entries[4] on binding #10 of flow " in flow
    assert (
        "expressionpolicy (name=password-optional): its Python cannot be translated: "
        "line 1: ak_user_by: a policy does not look other users up in Gatehouse" in expression
    )
    assert "policybinding (order=10, target=binding, policy=password-optional): its policy " in (
        policy_binding
    )
    assert "passwordstage (name=the-stage): what uses it is skipped (entries[2])" in stage
    assert "flowstagebinding (order=10, target=new-flow, stage=the-stage): its flow" in binding


def test_a_flow_whose_own_gate_cannot_be_imported_is_skipped_whole():
    lookup = FakeLookup(flows={"new-flow": existing_flow("new-flow", stages=[("ours", 10)])})
    entries = with_stage("authentik_stages_user_login.userloginstage") + dedent("""
    - model: authentik_policies.policybinding
      identifiers:
        order: 0
        target: !KeyOf flow
        group: !Find [authentik_core.group, [name, admins]]
    """)
    translation = translate(entries, lookup)
    assert translation.documents == []
    skipped = skipped_text(translation)
    assert "entries[0] authentik_flows.flow (slug=new-flow): its own policy binding" in skipped
    assert "entries[1] authentik_stages_user_login.userloginstage" in skipped
    assert "entries[2] authentik_flows.flowstagebinding" in skipped
    assert "entries[3] authentik_policies.policybinding" in skipped


def test_a_group_gatehouse_lacks_is_named_with_the_fix():
    entries = NEW_FLOW + dedent("""
    - model: authentik_core.group
      id: group
      identifiers: {name: admins}
    - model: authentik_policies.policybinding
      identifiers: {order: 0, target: !KeyOf flow, group: !KeyOf group}
    """)
    skipped = skipped_text(translate(entries))
    assert "Gatehouse has no group 'admins' (create it, then import again)" in skipped


def test_standalone_stages_go_with_the_first_flow_or_are_named():
    stage = dedent("""
    - model: authentik_stages_deny.denystage
      identifiers: {name: alone}
    """)
    assert [item.name for item in only_document(translate(NEW_FLOW + stage)).stages] == ["alone"]
    translation = translate(stage)
    assert translation.documents == []
    assert "this blueprint has no flow it can import" in skipped_text(translation)


# -- wrong blueprints ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "header", "message"),
    [
        ("[]", "version: 1\nentries: ", "this authentik blueprint has no entries"),
        ("5", "version: 1\nentries: ", "bp.yaml: entries: must be a list"),
        ("{a: 5}", "version: 1\nentries: ", "bp.yaml: entries.a: must be a list"),
        ("- {model: x}\n", "version: 2\nentries:\n", "bp.yaml: version: must be 1, not 2"),
        ("- {model: x}\n", "version: 1\nbogus: 1\nentries:\n", "unknown key 'bogus'"),
        ("- 5\n", "version: 1\nentries:\n", "entries[0]: must be a mapping with model"),
        ("- {attrs: {}}\n", "version: 1\nentries:\n", "entries[0] (line 3): model must be text"),
        ("- {model: x, colour: red}\n", "version: 1\nentries:\n", "unknown key 'colour'"),
        ("- {model: x, state: gone}\n", "version: 1\nentries:\n", "state must be one of present"),
        (
            "- {model: x, id: a}\n- {model: y, id: a}\n",
            "version: 1\nentries:\n",
            "entries[1] (line 4): id 'a' is used by entries[0] already",
        ),
        (
            NEW_FLOW.replace("designation: authentication", "designation: 7"),
            "version: 1\nentries:\n",
            "designation must be one of authentication",
        ),
        (
            with_stage("authentik_stages_deny.denystage").replace("order: 10", "order: ten"),
            "version: 1\nentries:\n",
            "entries[2] authentik_flows.flowstagebinding (line 13): order must be a whole number",
        ),
        (
            with_stage(
                "authentik_stages_user_write.userwritestage", "{create_users_as_inactive: 1}"
            ),
            "version: 1\nentries:\n",
            "create_users_as_inactive must be true or false",
        ),
        (
            with_stage("authentik_stages_user_login.userloginstage", "{session_duration: soon}"),
            "version: 1\nentries:\n",
            "session_duration 'soon' is not a duration",
        ),
        (
            NEW_FLOW.replace("name: New, ", ""),
            "version: 1\nentries:\n",
            "name is required for a new flow",
        ),
    ],
)
def test_wrong_blueprints_are_errors_with_their_place(entries, header, message):
    problems = problems_of(entries, header=header)
    assert any(message in problem for problem in problems), problems
    assert all(problem.startswith("bp.yaml: ") for problem in problems)


# -- durations -----------------------------------------------------------------------------------


def test_durations_convert_both_ways():
    assert parse_authentik_duration("hours=1;minutes=30") == timedelta(minutes=90)
    assert parse_authentik_duration("seconds=0") == timedelta()
    assert format_duration(timedelta(days=1, hours=2, seconds=3)) == "1d2h3s"
    for text in ("", "hours", "decades=1", "hours=many"):
        with pytest.raises(ValueError):
            parse_authentik_duration(text)


# -- types mapped by their own packages ------------------------------------------------------------


def prompt_fields_of(*prompts: str):
    keys = ", ".join(f"!KeyOf p{index}" for index in range(len(prompts)))
    entries = with_stage("authentik_stages_prompt.promptstage", f"{{fields: [{keys}]}}")
    for index, attrs in enumerate(prompts):
        entries += dedent(f"""
        - model: authentik_stages_prompt.prompt
          id: p{index}
          identifiers: {{name: p{index}}}
          attrs: {attrs}
        """)
    translation = translate(entries)
    return stage_named(only_document(translation), "the-stage").options["fields"], translation


def test_text_area_and_radio_button_group_prompts_become_textarea_and_radio():
    (about, colour), translation = prompt_fields_of(
        "{field_key: about, type: text_area, label: About you}",
        "{field_key: colour, type: radio-button-group, placeholder: Blue}",
    )
    assert (about["key"], about["type"], about["label"]) == ("about", "textarea", "About you")
    assert (colour["type"], colour["choices"], colour["placeholder"]) == ("radio", ["Blue"], "")
    assert translation.skipped == []


def test_a_choice_field_whose_choices_are_a_python_list_gets_them():
    (plan,), translation = prompt_fields_of(
        '{field_key: plan, type: dropdown, placeholder: \'return ["Free", "Team", 3]\', '
        "placeholder_expression: true}"
    )
    assert (plan["choices"], plan["placeholder"]) == (["Free", "Team", "3"], "")
    assert translation.skipped == []


def test_a_choice_field_whose_choices_depend_on_the_visit_is_skipped_with_the_reason():
    fields, translation = prompt_fields_of(
        "{field_key: plan, type: dropdown, placeholder: 'return [user.username]', "
        "placeholder_expression: true}",
        "{field_key: team, type: dropdown, placeholder: 'return list_flatten(x)', "
        "placeholder_expression: true}",
    )
    assert fields == []
    skipped = skipped_text(translation)
    assert "prompt (name=p0): its choices depend on the visit" in skipped
    assert "prompt (name=p1): its choices are Python that cannot be translated: line 1: " in skipped


def options_of(model: str, attrs: str) -> tuple[dict, str]:
    translation = translate(with_stage(model, attrs))
    return stage_named(only_document(translation), "the-stage").options, skipped_text(translation)


def test_authenticator_setup_stages_keep_what_gatehouse_has_and_name_the_rest():
    options, skipped = options_of(
        "authentik_stages_authenticator_totp.authenticatortotpstage",
        "{digits: 8, friendly_name: TOTP Device, configure_flow: !KeyOf flow}",
    )
    assert options["digits"] == 8
    assert "not imported: friendly_name TOTP Device" in skipped
    assert "not imported: configure_flow new-flow" in skipped
    options, _ = options_of(
        "authentik_stages_authenticator_static.authenticatorstaticstage", "{token_count: 8}"
    )
    assert options["codes_count"] == 8
    problems = problems_of(
        with_stage("authentik_stages_authenticator_totp.authenticatortotpstage", "{digits: 7}")
    )
    assert any("digits must be 6 or 8, not 7" in problem for problem in problems)


def test_authenticator_validation_maps_its_action_and_names_other_devices():
    options, skipped = options_of(
        "authentik_stages_authenticator_validate.authenticatorvalidatestage",
        "{not_configured_action: deny, device_classes: [totp, static, webauthn, duo],"
        " webauthn_user_verification: required}",
    )
    assert options["not_configured_action"] == "deny"
    assert options["device_classes"] == ["totp", "static", "webauthn"]
    assert options["webauthn_user_verification"] == "required"
    assert "not imported: device_classes duo" in skipped


def test_authenticator_validation_for_devices_gatehouse_lacks_is_skipped():
    translation = translate(
        with_stage(
            "authentik_stages_authenticator_validate.authenticatorvalidatestage",
            "{device_classes: [sms, duo]}",
        )
    )
    assert "none of its device_classes is totp, static or webauthn" in skipped_text(translation)


def test_webauthn_setup_maps_its_requirements():
    options, _ = options_of(
        "authentik_stages_authenticator_webauthn.authenticatorwebauthnstage",
        "{resident_key_requirement: required, user_verification: required,"
        " authenticator_attachment: cross-platform}",
    )
    assert options["resident_key"] == "required"
    assert options["user_verification"] == "required"
    assert options["authenticator_attachment"] == "cross-platform"


@pytest.mark.parametrize(
    ("attrs", "mode", "expires_in"),
    [
        ("{mode: always_require}", "always", "28d"),
        ("{mode: permanent}", "permanent", "28d"),
        ("{mode: expiring, consent_expire_in: 'days=7;hours=12'}", "expiring", "7d12h"),
    ],
)
def test_consent_modes(attrs, mode, expires_in):
    options, _ = options_of("authentik_stages_consent.consentstage", attrs)
    assert (options["mode"], options["expires_in"]) == (mode, expires_in)


def password_policy_options(attrs: str) -> tuple[dict, str]:
    entries = with_stage("authentik_stages_user_logout.userlogoutstage") + dedent(f"""
    - model: authentik_policies_password.passwordpolicy
      id: rules
      identifiers: {{name: rules}}
      attrs: {attrs}
    - model: authentik_policies.policybinding
      identifiers: {{order: 1, target: !KeyOf binding, policy: !KeyOf rules}}
    """)
    translation = translate(entries)
    (policy,) = only_document(translation).policies
    return policy.options, skipped_text(translation)


def test_a_password_policy_keeps_its_rules():
    options, skipped = password_policy_options(
        "{length_min: 12, amount_digits: 1, check_zxcvbn: true, zxcvbn_score_threshold: 2, "
        "check_have_i_been_pwned: true, error_message: Too weak}"
    )
    assert options["min_length"] == 12
    assert options["min_digits"] == 1
    # authentik fails a score at or below its threshold: 2 there is "at least 3" here.
    assert options["zxcvbn_min_score"] == 3
    assert options["check_hibp"] is True
    assert options["check_common_passwords"] is False
    assert "not imported: error_message Too weak" in skipped


def test_a_password_policy_without_static_rules_checks_no_length():
    options, _ = password_policy_options("{check_static_rules: false, length_min: 20}")
    assert (options["min_length"], options["zxcvbn_min_score"]) == (1, 0)


# -- failing closed: a gate the reader cannot map keeps its flow out -----------------------------

INVITATION_ONLY_ENROLLMENT = """
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: invited-enrollment}
  attrs: {name: Sign up, designation: enrollment}
- model: authentik_flows.flow
  id: logout
  identifiers: {slug: plain-logout}
  attrs: {name: Sign out, designation: invalidation}
- model: authentik_stages_invitation.invitationstage
  id: invitation
  identifiers: {name: invitation-only}
  attrs: {continue_flow_without_invitation: !File /nowhere}
- model: authentik_stages_prompt.promptstage
  id: prompt
  identifiers: {name: enrollment-prompt}
- model: authentik_stages_user_write.userwritestage
  id: write
  identifiers: {name: enrollment-write}
- model: authentik_stages_user_logout.userlogoutstage
  id: sign-out
  identifiers: {name: sign-out}
- model: authentik_flows.flowstagebinding
  identifiers: {order: 10, target: !KeyOf flow, stage: !KeyOf invitation}
- model: authentik_flows.flowstagebinding
  identifiers: {order: 20, target: !KeyOf flow, stage: !KeyOf prompt}
- model: authentik_flows.flowstagebinding
  identifiers: {order: 30, target: !KeyOf flow, stage: !KeyOf write}
- model: authentik_flows.flowstagebinding
  identifiers: {order: 10, target: !KeyOf logout, stage: !KeyOf sign-out}
"""


def test_an_invitation_stage_that_cannot_be_read_keeps_the_enrollment_flow_out():
    translation = translate(INVITATION_ONLY_ENROLLMENT)
    # Imported without its invitation stage, sign-up would be open to anyone.
    assert [document.flow.slug for document in translation.documents] == ["plain-logout"]
    skipped = skipped_text(translation)
    assert "flow (slug=invited-enrollment): its stage binding entries[6] (its stage " in skipped
    assert "invitationstage (name=invitation-only)" in skipped
    assert "userwritestage (name=enrollment-write): what uses it is skipped" in skipped


def test_a_deny_stage_whose_condition_cannot_be_mapped_keeps_its_flow_out():
    entries = with_stage("authentik_stages_deny.denystage") + dedent("""
    - model: authentik_policies_geoip.geoippolicy
      id: elsewhere
      identifiers: {name: from-elsewhere}
      attrs: {countries: [XX]}
    - model: authentik_policies.policybinding
      identifiers: {order: 0, target: !KeyOf binding, policy: !KeyOf elsewhere}
    """)
    translation = translate(entries)
    # Without its condition the deny stage would stop everyone.
    assert translation.documents == []
    assert "flow (slug=new-flow): the policy binding entries[4] on binding #10" in (
        skipped_text(translation)
    )


def test_a_binding_that_cannot_be_read_keeps_its_flow_out():
    entries = NEW_FLOW + dedent("""
    - model: authentik_stages_deny.denystage
      id: stage
      identifiers: {name: the-stage}
    - model: authentik_flows.flowstagebinding
      identifiers: {order: !File /nowhere, target: !KeyOf flow, stage: !KeyOf stage}
    """)
    translation = translate(entries)
    assert translation.documents == []
    assert "flow (slug=new-flow): the binding entries[2] (it uses !File" in (
        skipped_text(translation)
    )


def test_a_binding_whose_flow_cannot_be_known_keeps_every_flow_of_the_file_out():
    entries = with_stage("authentik_stages_user_login.userloginstage") + dedent("""
    - model: authentik_stages_deny.denystage
      id: deny
      identifiers: {name: deny}
    - model: authentik_flows.flowstagebinding
      identifiers: {order: 5, target: !File /nowhere, stage: !KeyOf deny}
    """)
    translation = translate(entries)
    assert translation.documents == []


def test_a_prompt_stage_whose_validation_policy_cannot_be_mapped_keeps_its_flow_out():
    entries = with_stage(
        "authentik_stages_prompt.promptstage", "{validation_policies: [!KeyOf check]}"
    ) + dedent("""
    - model: authentik_policies_expression.expressionpolicy
      id: check
      identifiers: {name: check}
      attrs: {expression: "from authentik.core.models import User\\nreturn User.objects.exists()"}
    """)
    translation = translate(entries)
    assert translation.documents == []
    assert "promptstage (name=the-stage): its validation policy check cannot be imported" in (
        skipped_text(translation)
    )


def test_a_nicety_left_out_is_only_a_note():
    translation = translate(
        with_stage("authentik_stages_identification.identificationstage", "{sources: [x]}")
    )
    assert only_document(translation).flow.slug == "new-flow"
    assert "not imported: sources [x]" in skipped_text(translation)


def test_numbers_and_flags_written_as_text_are_read():
    translation = translate(
        with_stage(
            "authentik_stages_authenticator_totp.authenticatortotpstage", "{digits: '8'}"
        ).replace("order: 10", "order: '10'")
        + dedent("""
        - model: authentik_stages_user_write.userwritestage
          id: write
          identifiers: {name: write}
          attrs: {create_users_as_inactive: 'true'}
        - model: authentik_flows.flowstagebinding
          identifiers: {order: 20, target: !KeyOf flow, stage: !KeyOf write}
        """)
    )
    document = only_document(translation)
    assert stage_named(document, "the-stage").options["digits"] == 8
    assert document.flow.stages[0].order == 10
    assert stage_named(document, "write").options["create_users_as_inactive"] is True


@pytest.mark.parametrize("requirement", ["require_token", "require_outpost", "require_redirect"])
def test_a_flow_with_a_requirement_gatehouse_lacks_is_left_out_and_the_rest_imported(
    requirement,
):
    entries = INVITATION_ONLY_ENROLLMENT.replace(
        "designation: invalidation", f"designation: invalidation, authentication: {requirement}"
    ).replace("!File /nowhere", "false")
    translation = translate(entries)
    slugs = [document.flow.slug for document in translation.documents]
    assert slugs == ["invited-enrollment"]
    assert (
        f"flow (slug=plain-logout): authentication {requirement}: authentik runs the flow only"
        in (skipped_text(translation))
    )


# -- stages and policies Gatehouse has, read from authentik's entries ----------------------------


@pytest.mark.parametrize(
    ("token_expiry", "minutes"),
    [("minutes=30", 30), ("hours=2", 120), (45, 45), ("'45'", 45), ("weeks=2", 10080)],
)
def test_email_stage_takes_its_expiry_in_minutes_or_as_a_duration(token_expiry, minutes):
    translation = translate(
        with_stage(
            "authentik_stages_email.emailstage",
            f"{{token_expiry: {token_expiry}, subject: Verify, activate_user_on_success: true}}",
        )
    )
    stage = stage_named(only_document(translation), "the-stage")
    assert stage.type == "email"
    assert stage.options["token_expiry_minutes"] == minutes
    assert stage.options["subject"] == "Verify"
    assert stage.options["activate_user_on_success"] is True
    assert ("lasts 10080" in skipped_text(translation)) is (minutes == 10080)


def test_email_stage_names_its_own_mail_server_and_template():
    attrs = (
        "{use_global_settings: false, host: smtp.example.test, port: 587, "
        "template: email/account_confirmation.html}"
    )
    translation = translate(with_stage("authentik_stages_email.emailstage", attrs))
    skipped = skipped_text(translation)
    assert "not imported: host, port (Gatehouse sends every mail through its IDP_SMTP_*" in skipped
    assert "not imported: template email/account_confirmation.html" in skipped
    for attrs in ("{use_global_settings: true, port: 587}", "{use_global_settings: true}"):
        quiet = translate(with_stage("authentik_stages_email.emailstage", attrs))
        assert quiet.skipped == []


@pytest.mark.parametrize("continues", [True, False])
def test_invitation_stage_keeps_whether_the_flow_goes_on_without_one(continues):
    translation = translate(
        INVITATION_ONLY_ENROLLMENT.replace("!File /nowhere", str(continues).lower())
    )
    enrollment = next(
        document for document in translation.documents if document.flow.slug == "invited-enrollment"
    )
    assert enrollment.flow.stages[0].stage == "invitation-only"
    stage = stage_named(enrollment, "invitation-only")
    assert stage.type == "invitation"
    assert stage.options["continue_flow_without_invitation"] is continues


def test_user_delete_stage_maps():
    translation = translate(with_stage("authentik_stages_user_delete.userdeletestage"))
    assert stage_named(only_document(translation), "the-stage").type == "user_delete"
    assert translation.skipped == []


@pytest.mark.parametrize(
    ("js_url", "provider"),
    [
        ("https://challenges.cloudflare.com/turnstile/v0/api.js", "turnstile"),
        ("https://js.hcaptcha.com/1/api.js", "hcaptcha"),
        ("https://www.recaptcha.net/recaptcha/api.js", "recaptcha"),
    ],
)
def test_captcha_stage_becomes_the_provider_its_addresses_belong_to(js_url, provider):
    api_url = {
        "turnstile": "https://challenges.cloudflare.com/turnstile/v0/siteverify",
        "hcaptcha": "https://api.hcaptcha.com/siteverify",
        "recaptcha": "https://www.recaptcha.net/recaptcha/api/siteverify",
    }[provider]
    attrs = (
        f"{{public_key: site, private_key: secret, js_url: '{js_url}', "
        f"api_url: '{api_url}', interactive: true}}"
    )
    translation = translate(with_stage("authentik_stages_captcha.captchastage", attrs))
    stage = stage_named(only_document(translation), "the-stage")
    assert (stage.type, stage.options["mode"], stage.options["provider"]) == (
        "captcha",
        "provider",
        provider,
    )
    assert (stage.options["site_key"], stage.options["secret_key"]) == ("site", "secret")
    assert translation.skipped == []


@pytest.mark.parametrize(
    ("attrs", "reason"),
    [
        ("{public_key: a, private_key: b}", "invisible reCAPTCHA (interactive false)"),
        (
            "{public_key: a, secret: some-secret, interactive: true}",
            "its private key is kept in an authentik secret (some-secret)",
        ),
        ("{public_key: a, private_key: '', interactive: true}", "private_key is empty"),
        (
            "{public_key: a, private_key: b, js_url: 'https://captcha.example/api.js'}",
            "not one of the providers Gatehouse knows",
        ),
    ],
)
def test_a_captcha_gatehouse_cannot_check_the_same_way_keeps_its_flow_out(attrs, reason):
    translation = translate(with_stage("authentik_stages_captcha.captchastage", attrs))
    assert translation.documents == []
    assert reason in skipped_text(translation)


def test_a_deny_stage_conditioned_on_reputation_keeps_its_condition():
    entries = with_stage(
        "authentik_stages_deny.denystage", "{deny_message: Too many failures}"
    ) + dedent("""
    - model: authentik_policies_reputation.reputationpolicy
      id: bad
      identifiers: {name: bad-reputation}
      attrs: {threshold: '-3', check_ip: true, check_username: false}
    - model: authentik_policies.policybinding
      identifiers: {order: 0, target: !KeyOf binding, policy: !KeyOf bad}
    """)
    translation = translate(entries)
    document = only_document(translation)
    binding = document.flow.stages[0]
    assert [policy.policy for policy in binding.policies] == ["bad-reputation"]
    (policy,) = document.policies
    assert (policy.type, policy.options) == (
        "reputation",
        {"check_username": False, "check_ip": True, "threshold": -3},
    )
    assert translation.skipped == []


def test_a_reputation_policy_checking_nothing_keeps_its_flow_out():
    entries = with_stage("authentik_stages_deny.denystage") + dedent("""
    - model: authentik_policies_reputation.reputationpolicy
      id: bad
      identifiers: {name: bad-reputation}
      attrs: {check_ip: false, check_username: false}
    - model: authentik_policies.policybinding
      identifiers: {order: 0, target: !KeyOf binding, policy: !KeyOf bad}
    """)
    translation = translate(entries)
    assert translation.documents == []
    assert "it checks neither the IP nor the username" in skipped_text(translation)


@pytest.mark.parametrize(("slug", "noted"), [("default-password-change", False), ("mine", True)])
def test_password_stage_configure_flow_is_the_password_change_flow_of_me(slug, noted):
    lookup = FakeLookup(flows={slug: existing_flow(slug)})
    translation = translate(
        with_stage(
            "authentik_stages_password.passwordstage",
            f"{{configure_flow: !Find [authentik_flows.flow, [slug, {slug}]]}}",
        ),
        lookup,
    )
    assert ("/me offers the flow default-password-change" in skipped_text(translation)) is noted


def test_prompts_found_among_authentiks_own_are_gatehouses_shipped_fields():
    username = {"key": "username", "label": "Username", "type": "username", "required": True}
    lookup = FakeLookup(stages={"default-enrollment-prompt": ("prompt", {"fields": [username]})})
    entries = with_stage(
        "authentik_stages_prompt.promptstage",
        "{fields: [!Find [authentik_stages_prompt.prompt, "
        "[name, default-source-enrollment-field-username]]]}",
    )
    translation = translate(entries, lookup)
    stage = stage_named(only_document(translation), "the-stage")
    assert [field["key"] for field in stage.options["fields"]] == ["username"]
    (line,) = translation.resolved
    assert "fields[0] default-source-enrollment-field-username is one of authentik's own" in line
    assert "field username of the prompt stage default-enrollment-prompt" in line
    assert translation.skipped == []


def test_a_binding_whose_conditions_cannot_be_evaluated_keeps_its_flow_out():
    entries = with_stage("authentik_stages_user_login.userloginstage") + dedent("""
    - model: authentik_stages_deny.denystage
      id: deny
      identifiers: {name: deny}
    - model: authentik_flows.flowstagebinding
      conditions: [!File /nowhere]
      identifiers: {order: 5, target: !KeyOf flow, stage: !KeyOf deny}
    """)
    translation = translate(entries)
    assert translation.documents == []
    assert "flow (slug=new-flow): the binding entries[4] (its conditions use !File" in (
        skipped_text(translation)
    )


def test_an_identification_stage_with_a_captcha_on_its_page_keeps_its_flow_out():
    entries = with_stage(
        "authentik_stages_identification.identificationstage", "{captcha_stage: !KeyOf captcha}"
    ) + dedent("""
    - model: authentik_stages_captcha.captchastage
      id: captcha
      identifiers: {name: captcha}
      attrs: {public_key: a, private_key: b, interactive: true}
    """)
    translation = translate(entries)
    assert translation.documents == []
    assert "it shows a captcha on its page (captcha_stage captcha)" in skipped_text(translation)


def test_a_prompt_found_nowhere_is_named_with_its_place():
    entries = with_stage(
        "authentik_stages_prompt.promptstage",
        "{fields: [!Find [authentik_stages_prompt.prompt, "
        "[name, default-enrollment-field-email]]]}",
    )
    translation = translate(entries)
    assert "not imported: fields[0] (its !Find found nothing here, in Gatehouse or among" in (
        skipped_text(translation)
    )


def test_an_invitation_entry_is_named_with_the_command_that_makes_one():
    translation = translate(
        """\
        - model: authentik_stages_invitation.invitation
          identifiers: {name: welcome}
          attrs: {single_use: true, fixed_data: {email: a@example.test}}
        """
    )
    assert translation.documents == []
    assert translation.skipped == [
        "bp.yaml: entries[0] authentik_stages_invitation.invitation (name=welcome): "
        "invitations are not created from blueprints (idp invitations create --flow SLUG)"
    ]


def test_a_model_authentik_has_renamed_is_read_by_its_older_name():
    # authentik renamed the WebAuthn setup stage's model; a homelab blueprint still has the old.
    translation = translate(
        """\
        - model: authentik_flows.flow
          id: flow
          identifiers: {slug: passkey-setup}
          attrs: {name: Passkey, designation: stage_configuration}
        - model: authentik_stages_authenticator_webauthn.authenticatewebauthnstage
          id: setup
          identifiers: {name: passkey-setup-stage}
        - model: authentik_flows.flowstagebinding
          identifiers: {order: 10, target: !KeyOf flow, stage: !KeyOf setup}
        """
    )
    document = only_document(translation)
    assert [stage.name for stage in document.stages] == ["passkey-setup-stage"]
    assert any("is read as its current name" in line for line in translation.resolved)
