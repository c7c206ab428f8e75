"""The dry run's words for what an import changes (idp.transfer.differences)."""

from idp.transfer.differences import component_changes, flow_binding_changes, shown
from idp.transfer.document import PolicyBindingSpec, StageBindingSpec


def test_long_and_multiline_values_are_shown_on_one_short_line():
    value = "line one\nline two " + "x" * 200
    assert "\n" not in shown(value) and len(shown(value)) == 80 and shown(value).endswith("…")
    assert (shown(True), shown(False), shown(None)) == ("yes", "no", "None")


def test_a_components_type_and_each_changed_option_are_named():
    lines = component_changes("deny", {"message": "a", "keep": 1}, "prompt", {"keep": 1, "x": 2})
    assert lines == [
        "type: deny → prompt",
        "options.message: 'a' → (not set)",
        "options.x: (not set) → 2",
    ]


def test_gates_and_stage_bindings_are_matched_by_what_they_bind():
    staff = PolicyBindingSpec(policy=None, group="staff", user=None)
    before = ((staff,), (StageBindingSpec(stage="ask", order=10, policies=(staff,)),))
    after = (
        (PolicyBindingSpec(policy="is-admin", group=None, user=None),),
        (
            StageBindingSpec(stage="ask", order=20, policies=(staff.__class__("p", None, None),)),
            StageBindingSpec(stage="deny", order=30),
        ),
    )
    assert flow_binding_changes(before, after) == [
        "flow gate: group staff unbound",
        "flow gate: policy is-admin bound",
        "stage deny bound at 30",
        "stage ask: order: 10 → 20",
        "stage ask: group staff unbound",
        "stage ask: policy p bound",
    ]
