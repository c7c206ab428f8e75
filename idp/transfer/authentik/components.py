"""Mapping stage and policy entries (and their parts, a prompt stage's prompts) through their
packages' AuthentikModel, and settling which are written with the flows that use them."""

from idp.core.options import OptionsError, options_to_mapping
from idp.policies.registry import POLICY_TYPES
from idp.stages.registry import STAGE_TYPES
from idp.transfer.authentik.model import (
    Entry,
    ShippedPart,
    _Component,
    _mapping,
    _part_models,
    _types_of,
)
from idp.transfer.authentik.source import EntrySource


class ComponentMapping:
    """The reader's (`entries._Translator`) methods for stages, policies and their parts."""

    def _map_part(self, entry: Entry) -> None:
        if entry.state == "absent":
            entry.used.update(entry.fields)
            entry.skip = "state absent: it lives inside the stages that list it; remove it there"
            return
        read_part = _part_models()[entry.model][1].parts[entry.model]
        value = read_part(EntrySource(self, entry))
        if value is not None and entry.skip is None:
            self.parts[entry.index] = value

    def _component_to_map(self, entry: Entry, kind: str, find):
        """(name, existing) for a stage or policy entry still to be mapped, or None when
        the entry is settled already (bad name, state, or `created` over an existing one)."""
        name = self._text(entry, "name", required=True)
        if name is None:
            return None
        existing = find(name)
        if not self._settle_state(entry, name, existing is not None, kind):
            return None
        if entry.state == "created" and existing is not None:
            entry.used.update(entry.fields)
            self.components[entry.index] = _Component(entry, name, *existing, is_written=False)
            return None
        return name, existing

    def _map_policy(self, entry: Entry) -> None:
        self._map_component(entry, "policy", self.lookup.policy)

    def _map_stage(self, entry: Entry) -> None:
        self._map_component(entry, "stage", self.lookup.stage)

    def _map_component(self, entry: Entry, kind: str, find) -> None:
        type_name = _types_of(kind)[entry.model]
        found = self._component_to_map(entry, kind, find)
        if found is None:
            return
        name, existing = found
        mapping = _mapping(kind, type_name)
        # An existing object of the same type keeps what the entry does not mention.
        if existing is not None and existing[0] == type_name:
            options = dict(existing[1])
        else:
            options = dict(mapping.new_options)
        mapping.read_options(EntrySource(self, entry), options)
        if entry.skip is None:
            self._add_component(entry, name, type_name, options, kind)

    def _add_component(self, entry, name, type_name, options, kind) -> None:
        registry = STAGE_TYPES if kind == "stage" else POLICY_TYPES
        try:
            parsed = registry[type_name].parse_options(options)
        except OptionsError as error:
            self.entry_problem(entry, f"cannot become a {type_name} {kind}: {error}")
            return
        self.components[entry.index] = _Component(
            entry,
            name,
            type_name,
            options_to_mapping(parsed),
            policy_names=tuple(registry[type_name].referenced_policies(parsed))
            if kind == "stage"
            else (),
        )

    def part_values(self, entry: Entry, key: str) -> list:
        """What the part entries (prompts) an attribute lists became, in its order."""
        values = []
        for position, value in enumerate(self._list(entry, key) or []):
            if isinstance(value, ShippedPart):
                values.append(value.value)
                self.resolved.append(
                    f"{self.prefix}{self._label(entry)}: {key}[{position}] {value.name} is "
                    f"one of authentik's own; Gatehouse uses its {value.origin}"
                )
                continue
            target = self._entry_of(value)
            if value is None:
                self._note(
                    entry,
                    f"{key}[{position}]",
                    "its !Find found nothing here, in Gatehouse or among the shipped fields",
                )
                continue
            if target is None or target.model not in _part_models():
                self._note(
                    entry,
                    f"{key}[{position}] {self.show(value)}",
                    "it is not an entry of this blueprint that it can list",
                )
                continue
            self.users_of[target.index].add(entry.index)
            if target.index in self.parts:  # a skipped part is named on its own entry
                values.append(self.parts[target.index])
        return values

    def _settle_components(self) -> None:
        """Stages, policies and their parts (prompts) are written with the flows that use
        them."""
        imported = [plan for plan in self.flows.values() if plan.skip is None]
        stage_names = {binding["stage"] for plan in imported for binding in plan.stages}
        policy_names = {
            binding["policy"]
            for plan in imported
            for binding in plan.policies
            + [item for stage in plan.stages for item in stage["policies"]]
            if "policy" in binding
        }
        policy_names |= self._application_policy_names()
        written = [
            component
            for component in self.components.values()
            if component.is_written and component.entry.skip is None
        ]
        stages = [item for item in written if item.entry.model in _types_of("stage")]
        policies = [item for item in written if item.entry.model in _types_of("policy")]
        for component in stages:
            # A stage another imported stage names (the password stage an identification
            # stage asks with) is written, unbound, beside them.
            is_named = any(
                user in self.components and self.components[user].name in stage_names
                for user in self.users_of[component.entry.index]
                if self.entries[user].skip is None
            )
            if is_named and component.name not in stage_names:
                self.standalone.append(component)
                continue
            self._settle_component(component, component.name in stage_names, imported)
        for component in stages:
            if component.entry.skip is None:
                policy_names.update(component.policy_names)
        for component in policies:
            self._settle_component(component, component.name in policy_names, imported)
        for index in self.parts:
            entry = self.entries[index]
            if entry.skip is None and not any(
                self.entries[user].skip is None
                and user in self.components
                and self.components[user].is_written
                for user in self.users_of[index]
            ):
                entry.skip = "no stage that Gatehouse imports lists it"

    def _settle_component(self, component: _Component, is_used: bool, imported: list) -> None:
        entry = component.entry
        if is_used:
            return
        users = [self.entries[index] for index in sorted(self.users_of[entry.index])]
        if users:
            places = ", ".join(user.place for user in users)
            entry.skip = f"what uses it is skipped ({places})"
        elif imported:
            self.standalone.append(component)
        else:
            entry.skip = (
                "Gatehouse imports stages and policies with a flow, and this blueprint has "
                "no flow it can import"
            )
