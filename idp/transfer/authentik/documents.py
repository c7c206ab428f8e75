"""The flow documents a blueprint's mapped entries become: one version-1 document per flow,
with the stages and policies it uses (and, with the first, those no flow binds)."""


def entry_place(entry) -> str:
    """An entry as problems name it: its place, its model and its line."""
    where = f"{entry.place} {entry.model}".rstrip()
    return where + (f" (line {entry.line})" if entry.line else "")


def flow_documents(plans: list, stages: list, policies: list, standalone: list) -> list:
    """(plan, document, places) for each flow to import; `stages` and `policies` are the
    components to write, `standalone` those written with the first flow although no flow
    binds them. `places` names the entry each object comes from (FlowDocument.places)."""
    by_name = {}
    for is_stage, components in ((True, stages), (False, policies)):
        for component in components:
            by_name[(is_stage, component.name)] = component
    documents = []
    for position, plan in enumerate(plans):
        extra = {id(component) for component in standalone} if position == 0 else set()
        stage_names = {binding["stage"] for binding in plan.stages}
        used_stages = [
            component
            for (is_stage, name), component in by_name.items()
            if is_stage and (name in stage_names or id(component) in extra)
        ]
        policy_names = {
            binding["policy"]
            for binding in plan.policies
            + [item for stage in plan.stages for item in stage["policies"]]
            if "policy" in binding
        }
        for component in used_stages:
            policy_names.update(component.policy_names)
        used_policies = [
            component
            for (is_stage, name), component in by_name.items()
            if not is_stage and (name in policy_names or id(component) in extra)
        ]
        document = {
            "version": 1,
            "flow": {
                **plan.fields,
                "policies": by_order(plan.policies),
                "stages": [
                    {**binding, "policies": by_order(binding["policies"])}
                    for binding in by_order(plan.stages)
                ],
            },
            "stages": [_component_document(component) for component in used_stages],
            "policies": [_component_document(component) for component in used_policies],
        }
        places = {("stage", item.name): entry_place(item.entry) for item in used_stages}
        places |= {("policy", item.name): entry_place(item.entry) for item in used_policies}
        # A flow the blueprint only finds is named by the first entry that binds to it.
        declaring = plan.entry or next(iter(plan.contributors), None)
        if declaring is not None:
            places[("flow", plan.slug)] = entry_place(declaring)
        documents.append((plan, document, places))
    return documents


def by_order(bindings: list) -> list:
    return sorted(bindings, key=lambda binding: binding["order"])


def _component_document(component) -> dict:
    return {"name": component.name, "type": component.type, "options": component.options}
