"""Mapping application and provider entries (and the policy bindings on an application) into
one version-1 document of applications."""

from dataclasses import replace

from idp.core.options import OptionsError, options_to_mapping
from idp.models.flows import (
    ENGINE_MODES,
)
from idp.providers.registry import PROVIDER_TYPES
from idp.transfer.authentik.documents import entry_place
from idp.transfer.authentik.model import (
    APPLICATION,
    Entry,
    _ApplicationPlan,
    _provider_types,
    _ProviderPlan,
    _types_of,
)
from idp.transfer.authentik.source import EntrySource
from idp.transfer.document import FlowDocument, FlowFileError, read_document


class ApplicationMapping:
    """The reader's (`entries._Translator`) methods for applications and providers."""

    def _map_provider(self, entry: Entry) -> None:
        type_name = _provider_types()[entry.model]
        provider_type = PROVIDER_TYPES[type_name]
        if entry.state == "absent":
            entry.used.update(entry.fields)
            entry.skip = "state absent: a provider belongs to its application; delete that"
            return
        entry.used.add("name")
        source = EntrySource(self, entry)
        options = dict(provider_type.authentik.new_options)
        provider_type.authentik.read_options(source, options)
        if entry.skip is not None:
            return
        try:
            parsed = provider_type.parse_options(options)
        except OptionsError as error:
            entry.skip = f"it cannot become a {type_name} provider: {error}"
            return
        fields = {"type": type_name, "options": options_to_mapping(parsed)}
        if provider_type.authentik.client_id_attribute:
            client_id = source.text(provider_type.authentik.client_id_attribute, "")
            if client_id:
                fields["client_id"] = client_id
        flow_slugs = []
        for key in ("authorization_flow", "authentication_flow", "invalidation_flow"):
            if not source.has(key):
                continue
            target = self._entry_of(entry.fields.get(key))
            slug = source.flow_link(key)
            if slug:
                fields[key] = slug
                if target is not None:
                    flow_slugs.append(slug)
            elif entry.fields.get(key) is None and key == "authorization_flow":
                self._note(
                    entry, f"{key} none", "Gatehouse's default authorization flow is used instead"
                )
        self.providers[entry.index] = _ProviderPlan(entry, fields, tuple(flow_slugs))

    def _map_application(self, entry: Entry) -> None:
        slug = self._text(entry, "slug", required=True)
        if slug is None:
            return
        base = self.lookup.application(slug)
        if not self._settle_state(entry, slug, base is not None, "application"):
            return
        if entry.state == "created" and base is not None:
            entry.used.update(entry.fields)
            entry.skip = "state created, and Gatehouse has this application already: kept as it is"
            return
        provider_value = self._value(entry, "provider")
        target = self._entry_of(provider_value)
        if target is None or target.index not in self.providers:
            if target is not None and target.skip is not None:
                entry.skip = f"its provider {target.key or target.place} is skipped ({target.skip})"
            elif target is not None:
                entry.skip = f"its provider {target.key or target.place} is not one Gatehouse has"
            else:
                entry.skip = (
                    f"its provider {self.show(provider_value)} is not a provider of this blueprint"
                )
            return
        provider = self.providers[target.index]
        self.users_of[target.index].add(entry.index)
        fields = dict(base or {"slug": slug})
        fields.pop("policies", None)
        for key, attribute in (
            ("name", "name"),
            ("launch_url", "meta_launch_url"),
            ("description", "meta_description"),
        ):
            if self._value(entry, attribute) is not None:
                fields[key] = self._text(entry, attribute, "")
        if "policy_engine_mode" in entry.fields:
            fields["policy_engine_mode"] = self._choice(
                entry, "policy_engine_mode", ENGINE_MODES, "any"
            )
        if not fields.get("name"):
            self.entry_problem(entry, "name is required for a new application")
            return
        fields["provider"] = dict(provider.fields)
        policies = [dict(binding) for binding in (base or {}).get("policies", [])]
        self.applications[entry.index] = _ApplicationPlan(slug, fields, policies, entry, provider)

    def _settle_applications(self) -> None:
        """An application whose gates cannot all be mapped, or whose provider names a flow of
        this blueprint that is left out, is left out too; providers no imported application
        uses are named."""
        for plan in self.applications.values():
            skipped_flows = [
                slug
                for slug in plan.provider.flow_slugs
                if slug in self.flows and self.flows[slug].skip is not None
            ]
            if plan.closed_gates:
                gates = "; ".join(what for _, what in plan.closed_gates)
                plan.skip = (
                    f"{gates} cannot be imported, and without that gate the application would "
                    "be open to whom authentik refuses"
                )
            elif skipped_flows:
                plan.skip = f"its provider's flow {', '.join(skipped_flows)} is skipped"
            if plan.skip is not None:
                plan.entry.skip = plan.skip
                for entry in plan.contributors:
                    if entry.skip is None:
                        entry.skip = f"its application {plan.slug} is skipped"
        for index, provider in self.providers.items():
            if provider.entry.skip is None and not any(
                user in self.applications and self.applications[user].skip is None
                for user in self.users_of[index]
            ):
                provider.entry.skip = "no application that Gatehouse imports uses it"

    def _application_policy_names(self) -> set[str]:
        return {
            binding["policy"]
            for plan in self.applications.values()
            if plan.skip is None
            for binding in plan.policies
            if "policy" in binding
        }

    def _application_document(self) -> list[FlowDocument]:
        plans = [plan for plan in self.applications.values() if plan.skip is None]
        scope_mappings = self._scope_mapping_definitions()
        if not plans and not scope_mappings:
            return []
        names = self._application_policy_names()
        policies = [
            {"name": item.name, "type": item.type, "options": item.options}
            for item in self.components.values()
            if item.is_written
            and item.entry.skip is None
            and item.entry.model in _types_of("policy")
            and item.name in names
        ]
        document = {
            "version": 1,
            "applications": [
                {**plan.fields, "policies": sorted(plan.policies, key=lambda b: b["order"])}
                for plan in plans
            ],
            "policies": policies,
        }
        if scope_mappings:
            document["scope_mappings"] = scope_mappings
        try:
            return [replace(read_document(document), places=self._application_places(plans))]
        except FlowFileError as error:
            self.problems.extend(
                f"{self.prefix}{APPLICATION}, as flow file: {problem}" for problem in error.problems
            )
            return []

    def _application_places(self, plans: list) -> dict:
        """The entry each object of the applications' document comes from (its
        FlowDocument.places)."""
        places = {("application", plan.slug): entry_place(plan.entry) for plan in plans}
        for plan in plans:
            client_id = plan.fields["provider"].get("client_id")
            if client_id and plan.provider is not None:
                places[("client_id", client_id)] = entry_place(plan.provider.entry)
        for item in self.components.values():
            places[("policy", item.name)] = entry_place(item.entry)
        for item in self.scope_mappings.values():
            places[("scope_mapping", item.name)] = entry_place(item.entry)
        return places
