"""Mapping flow, stage binding and policy binding entries into flow plans, and closing the
flows a gate that cannot be mapped belongs to."""

from idp.models.flows import (
    AUTHENTICATION_REQUIREMENTS,
    DENIED_ACTIONS,
    DESIGNATIONS,
    ENGINE_MODES,
    FLOW_DEFAULTS,
    FLOW_FIELDS,
    INVALID_RESPONSE_ACTIONS,
    STAGE_BINDING_DEFAULTS,
)
from idp.transfer.authentik.model import (
    APPLICATION,
    AUTHENTIK_ONLY_DESIGNATION,
    AUTHENTIK_ONLY_REQUIREMENT,
    FLOW,
    STAGE_BINDING,
    Entry,
    Existing,
    _FlowPlan,
)

NO_REQUIREMENT = "Gatehouse has no equivalent, and without it the flow would admit anyone"
REQUIREMENT_REASONS = {
    "require_redirect": (
        "authentik runs the flow only when another flow's redirect stage sends the visitor "
        "there; Gatehouse does not restrict how a flow is entered, so it is left out rather "
        "than opened to anyone (a redirect stage can still send visitors into it)"
    ),
    "require_outpost": (
        "authentik runs the flow only for its outposts (LDAP, RADIUS); Gatehouse has none"
    ),
    "require_token": "authentik runs the flow only with a flow token; Gatehouse has none",
}


def _subject_of(binding: dict) -> tuple[str, str]:
    kind = next(key for key in ("policy", "group", "user") if binding.get(key))
    return kind, binding[kind]


class FlowMapping:
    """The reader's (`entries._Translator`) methods for flows and their bindings."""

    def _flow_plan(self, slug: str, base: dict | None) -> _FlowPlan:
        plan = self.flows.get(slug)
        if plan is not None:
            return plan
        if base is not None:
            flow = base["flow"]
            plan = _FlowPlan(
                slug=slug,
                fields={key: flow[key] for key in FLOW_FIELDS},
                policies=[dict(binding) for binding in flow.get("policies", [])],
                stages=[
                    {
                        **binding,
                        "policies": [dict(item) for item in binding.get("policies", [])],
                    }
                    for binding in flow.get("stages", [])
                ],
            )
        else:
            plan = _FlowPlan(
                slug=slug,
                fields={"slug": slug, **FLOW_DEFAULTS},
                policies=[],
                stages=[],
            )
        self.flows[slug] = plan
        return plan

    def _declared_flow_plan(self, slug: str, base: dict | None) -> _FlowPlan:
        """A flow the blueprint declares (an entry with state present) is what the file says:
        fields it leaves out take their defaults (an existing flow keeps its name and
        designation), and its bindings are the file's alone. Importing a changed file so
        converges on the file, rather than keeping what an older version bound (a prompt
        moved to another order would otherwise be asked twice). What the file no longer binds
        is named (Translation.replaced). authentik itself keeps such bindings."""
        plan = self.flows.get(slug)
        if plan is not None:
            return plan
        plan = _FlowPlan(slug=slug, fields={"slug": slug, **FLOW_DEFAULTS}, policies=[], stages=[])
        if base is not None:
            flow = base["flow"]
            plan.fields.update(name=flow["name"], designation=flow["designation"])
            plan.replaced = base
        self.flows[slug] = plan
        return plan

    def replaced_lines(self) -> list[str]:
        """The bindings of declared flows that the file no longer has, one line each."""
        lines = []
        for plan in self.flows.values():
            if plan.replaced is None or plan.skip is not None:
                continue
            flow = plan.replaced["flow"]
            kept_stages = {(binding["stage"], binding["order"]) for binding in plan.stages}
            orders = {binding["stage"]: binding["order"] for binding in plan.stages}
            for binding in flow.get("stages", []):
                stage, order = binding["stage"], binding["order"]
                if (stage, order) in kept_stages:
                    continue
                if stage in orders:
                    what = f"moves from order {order} to {orders[stage]}"
                else:
                    what = (
                        f"(order {order}) is no longer bound, as the file declares the flow "
                        "without it"
                    )
                lines.append(f"{self.prefix}flow {plan.slug}: stage {stage} {what}")
            kept_policies = [_subject_of(binding) for binding in plan.policies]
            for binding in flow.get("policies", []):
                if _subject_of(binding) not in kept_policies:
                    kind, name = _subject_of(binding)
                    lines.append(
                        f"{self.prefix}flow {plan.slug}: its {kind} binding {name} is removed, "
                        "as the file declares the flow without it"
                    )
        return lines

    def _target_flow(self, value) -> tuple[_FlowPlan | None, str]:
        target = self._entry_of(value)
        if target is not None:
            if target.model != FLOW:
                shown = self.show(value)
                return None, f"its target {target.model} {shown} is not something Gatehouse imports"
            plan = self.flow_of_entry.get(target.index)
            if plan is None:
                return None, f"its flow {target.key or target.place} is skipped"
            return plan, ""
        if isinstance(value, Existing) and value.kind == "flow":
            base = self.lookup.flow(value.name)
            if base is not None:
                return self._flow_plan(value.name, base), ""
        if value is None:
            return None, "its target is empty (a !Find that found nothing?)"
        return None, f"its target {self.show(value)} is not a flow in this blueprint or Gatehouse"

    # -- flows and bindings

    def _map_flow(self, entry: Entry) -> None:
        slug = self._text(entry, "slug", required=True)
        if slug is None:
            return
        base = self.lookup.flow(slug)
        exists = base is not None or slug in self.flows
        if not self._settle_state(entry, slug, exists, "flow"):
            return
        # An entry that only names an existing flow sets nothing on it in authentik: the file
        # adds its bindings to the flow, as to one it finds with !Find.
        names_only = not set(entry.fields) - {"slug", "pk"}
        if (entry.state == "created" or names_only) and exists:
            entry.used.update(entry.fields)
        else:
            fields = {}
            for key in ("name", "title"):
                if key in entry.fields:
                    fields[key] = self._text(entry, key, "")
            for key, choices, foreign in (
                ("designation", DESIGNATIONS, AUTHENTIK_ONLY_DESIGNATION),
                ("authentication", AUTHENTICATION_REQUIREMENTS, AUTHENTIK_ONLY_REQUIREMENT),
                ("denied_action", DENIED_ACTIONS, None),
                ("policy_engine_mode", ENGINE_MODES, None),
            ):
                if key not in entry.fields:
                    continue
                value = self._text(entry, key)
                is_foreign = foreign is not None and isinstance(value, str)
                if is_foreign and value not in choices and foreign.fullmatch(value):
                    # Who may run the flow (require_token, require_outpost...): one flow Gatehouse
                    # cannot guard the same way is left out, not the whole file.
                    entry.skip = f"{key} {value}: {REQUIREMENT_REASONS.get(value, NO_REQUIREMENT)}"
                    return
                fields[key] = self._choice(entry, key, choices, None)
            if not exists:
                for key in ("name", "designation"):
                    if entry.fields.get(key) is None:
                        self.entry_problem(entry, f"{key} is required for a new flow")
            self._declared_flow_plan(slug, base).fields.update(fields)
        plan = self._flow_plan(slug, base)
        plan.entry = plan.entry or entry
        self.flow_of_entry[entry.index] = plan

    def _map_stage_binding(self, entry: Entry) -> None:
        plan, flow_reason = self._target_flow(self._value(entry, "target"))
        stage_name, stage_reason = self.stage_name(self._value(entry, "stage"), entry)
        order = self._order(entry)
        if order is None and entry.state != "absent":
            return
        if plan is None:
            entry.skip = flow_reason
            return
        if stage_name is None:
            entry.skip = stage_reason
            plan.contributors.append(entry)
            if entry.state != "absent":
                plan.closed_gates.append(
                    (entry, f"its stage binding {entry.place} ({stage_reason})")
                )
            return
        plan.contributors.append(entry)
        by_order = "order" in entry.identifiers or not entry.identifiers
        matches = [
            binding
            for binding in plan.stages
            if binding["stage"] == stage_name
            and (order is None or not by_order or binding["order"] == order)
        ]
        binding = matches[0] if matches else None
        if entry.state == "absent":
            if binding is not None:
                plan.stages.remove(binding)
            return
        if binding is not None and entry.state == "must_created":
            self.entry_problem(entry, "state must_created, but the binding exists")
            return
        if binding is not None and entry.state == "created":
            entry.used.update(entry.fields)
            self.bindings[entry.index] = (plan, binding)
            return
        if binding is None:
            binding = {
                "stage": stage_name,
                "order": order,
                **STAGE_BINDING_DEFAULTS,
                "policies": [],
            }
            plan.stages.append(binding)
        binding["order"] = order
        for key in ("evaluate_on_plan", "re_evaluate_policies"):
            binding[key] = self._flag(entry, key, binding[key])
        binding["policy_engine_mode"] = self._choice(
            entry, "policy_engine_mode", ENGINE_MODES, binding["policy_engine_mode"]
        )
        binding["invalid_response_action"] = self._choice(
            entry,
            "invalid_response_action",
            INVALID_RESPONSE_ACTIONS,
            binding["invalid_response_action"],
        )
        self.bindings[entry.index] = (plan, binding)

    def _order(self, entry: Entry) -> int | None:
        """A binding's order: required, except to find a binding to remove."""
        if entry.fields.get("order") is None:
            if entry.state != "absent":
                self.entry_problem(entry, "order is required")
            entry.used.add("order")
            return None
        return self._number(entry, "order", None)

    def _subject(self, entry: Entry) -> tuple[tuple[str, str] | None, str]:
        """What a policy binding checks: ("policy"|"group"|"user", name), or why it cannot."""
        values = {key: self._value(entry, key) for key in ("policy", "group", "user")}
        given = [key for key, value in values.items() if value is not None]
        if len(given) > 1:
            self.entry_problem(entry, "names more than one of policy, group and user")
            return None, ""
        if not given:
            return None, "its policy, group or user is empty (a !Find that found nothing?)"
        kind = given[0]
        value = values[kind]
        if kind == "policy":
            name, reason = self.policy_name(value, entry)
            return (("policy", name), "") if name else (None, reason)
        name = self.group_name(value) if kind == "group" else self._user_name(value)
        field_name = "name" if kind == "group" else "username"
        found = self.lookup.find(kind, {field_name: name}) if name else None
        if found:
            return (kind, found), ""
        if name:
            return None, f"Gatehouse has no {kind} {name!r} (create it, then import again)"
        return None, f"its {kind} {self.show(value)} is not in this blueprint or in Gatehouse"

    def _map_policy_binding(self, entry: Entry) -> None:
        target_value = self._value(entry, "target")
        target = self._entry_of(target_value)
        order = self._order(entry)
        if order is None and entry.state != "absent":
            return
        subject, subject_reason = self._subject(entry)
        if subject is None and not subject_reason:
            return  # a problem, named already
        if target is not None and target.model == STAGE_BINDING:
            if target.index not in self.bindings:
                entry.skip = f"the stage binding it belongs to ({target.place}) is skipped"
                return
            plan, stage_binding = self.bindings[target.index]
            holder = stage_binding["policies"]
            is_flow_gate = False
            described = (
                f"binding #{stage_binding['order']} of flow {plan.slug} "
                f"(stage {stage_binding['stage']})"
            )
        elif target is not None and target.model == APPLICATION:
            plan = self.applications.get(target.index)
            if plan is None:
                entry.skip = f"its application {target.key or target.place} is skipped"
                return
            holder = plan.policies
            is_flow_gate = True
        else:
            plan, reason = self._target_flow(target_value)
            if plan is None:
                entry.skip = reason
                return
            holder = plan.policies
            is_flow_gate = True
        plan.contributors.append(entry)
        if subject is None:
            if entry.state == "absent":
                return  # Gatehouse cannot have it, so there is nothing to remove
            entry.skip = subject_reason
            if is_flow_gate:
                plan.closed_gates.append((entry, f"its own policy binding ({entry.place})"))
            else:
                plan.closed_gates.append(
                    (entry, f"the policy binding {entry.place} on {described} ({subject_reason})")
                )
            return
        kind, name = subject
        matches = [
            binding
            for binding in holder
            if binding.get(kind) == name and (order is None or binding["order"] == order)
        ]
        binding = matches[0] if matches else None
        if entry.state == "absent":
            if binding is not None:
                holder.remove(binding)
            return
        if binding is not None and entry.state == "must_created":
            self.entry_problem(entry, "state must_created, but the binding exists")
            return
        if binding is not None and entry.state == "created":
            entry.used.update(entry.fields)
            return
        if binding is None:
            binding = {kind: name, "order": order, "negate": False, "enabled": True, "timeout": 30}
            binding["failure_result"] = False  # authentik's default: a failing policy is false
            holder.append(binding)
        binding["order"] = order
        for key in ("negate", "enabled", "failure_result"):
            binding[key] = self._flag(entry, key, binding.get(key))
        binding["timeout"] = self._number(entry, "timeout", binding["timeout"])

    def _close_unreadable_bindings(self, entries: list) -> None:
        """A binding left out before it was mapped (it needs a tag Gatehouse does not evaluate)
        closes the flow it belongs to, or every flow of the blueprint when that is unknown."""
        for entry in entries:
            gate = (entry, f"the binding {entry.place} ({entry.skip})")
            target = self._entry_of(entry.fields.get("target"))
            if target is not None and target.model == APPLICATION:
                if target.index in self.applications:
                    self.applications[target.index].closed_gates.append(gate)
                continue
            plan = self._plan_of_target(entry.fields.get("target"))
            for closed in [plan] if plan is not None else self.flows.values():
                closed.closed_gates.append(gate)

    def _plan_of_target(self, value, depth: int = 0) -> "_FlowPlan | None":
        """The flow a binding's target is, or belongs to (a policy binding's stage binding)."""
        if isinstance(value, Existing) and value.kind == "flow":
            return self.flows.get(value.name)
        target = self._entry_of(value)
        if target is None:
            return None
        if target.model == FLOW:
            return self.flow_of_entry.get(target.index) or self.flows.get(target.key or "")
        if target.model == STAGE_BINDING and depth == 0:
            if target.index in self.bindings:
                return self.bindings[target.index][0]
            return self._plan_of_target(target.fields.get("target"), 1)
        return None

    def _close_gated_flows(self) -> None:
        for plan in self.flows.values():
            if plan.closed_gates:
                places = ", ".join(entry.place for entry, _ in plan.closed_gates)
                gates = "; ".join(what for _, what in plan.closed_gates)
                plan.skip = (
                    f"{gates} cannot be imported, and without that gate the flow would not "
                    "stop whom it stops in authentik"
                )
                if plan.entry is not None and plan.entry.skip is None:
                    plan.entry.skip = plan.skip
                for entry in plan.contributors:
                    if entry.skip is None:
                        entry.skip = f"its flow {plan.slug} is skipped ({places})"
