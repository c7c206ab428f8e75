"""authentik's OAuth2 scope mappings (`authentik_providers_oauth2.scopemapping`): a scope name
and Python that returns its claims.

Gatehouse has openid, profile, email and offline_access built in: authentik's mappings of those
scopes (its managed defaults, or any with such a scope_name) are taken as the built-in scope.
Another scope becomes a Gatehouse scope mapping only when its Python can be written as a
Gatehouse expression (`translated_expression`); otherwise it is named, not imported, and a
provider that offers it is imported without it (a scope it cannot give is simply not granted:
nothing is opened wider).
"""

from dataclasses import dataclass

from idp.core.options import OptionsError
from idp.policies.expression import compile_expression
from idp.providers.oauth2.options import SCOPES, scope_name_problem
from idp.transfer.authentik.model import SCOPE_MAPPING, Entry, ShippedPart
from idp.transfer.authentik.source import EntrySource

# authentik's own scope mappings (`managed`) of the scopes Gatehouse has built in.
MANAGED_PREFIX = "goauthentik.io/providers/oauth2/scope-"
BUILT_IN_ORIGIN = "Gatehouse's built-in scope"


def translated_expression(python: str) -> str | None:
    """authentik's Python as a Gatehouse expression, or None when it cannot be written as one.
    Nothing is translated here yet: this is where the Python-to-expression translator plugs
    in (it must give an expression whose result is the same mapping of claims)."""
    return None


def built_in_scope(conditions: dict) -> ShippedPart | None:
    """For a `!Find` of one of authentik's own scope mappings (by scope_name or managed):
    the built-in scope that does the same, or None."""
    scope = conditions.get("scope_name")
    managed = conditions.get("managed")
    if isinstance(managed, str) and managed.startswith(MANAGED_PREFIX):
        scope = managed[len(MANAGED_PREFIX) :]
    if scope in SCOPES:
        return ShippedPart(scope, scope, BUILT_IN_ORIGIN)
    return None


@dataclass
class _ScopeMappingPlan:
    entry: Entry
    name: str  # the scope
    description: str = ""
    expression: str = ""
    is_built_in: bool = False


class ScopeMappingReading:
    """The reader's (`entries._Translator`) methods for scope mappings."""

    def _map_scope_mapping(self, entry: Entry) -> None:
        if entry.state == "absent":
            entry.used.update(entry.fields)
            entry.skip = (
                "state absent: Gatehouse does not delete scope mappings on import; "
                "delete it in the admin"
            )
            return
        source = EntrySource(self, entry)
        source.text("name")  # authentik's label for it; the scope names it in Gatehouse
        scope = source.text("scope_name", required=True)
        description = source.text("description", "")
        python = source.text("expression", "")
        if not scope:
            return
        if scope in SCOPES:
            self.scope_mappings[entry.index] = _ScopeMappingPlan(entry, scope, is_built_in=True)
            entry.skip = f"Gatehouse gives the scope {scope} itself (built in)"
            return
        problem = scope_name_problem(scope)
        if problem:
            entry.skip = f"its scope_name cannot be a Gatehouse scope: {problem}"
            return
        expression = translated_expression(python)
        if expression is None:
            entry.skip = (
                f"its expression is Python, which is not translated; write a Gatehouse scope "
                f"mapping {scope} that gives the same claims"
            )
            return
        try:
            compile_expression(expression)
        except OptionsError as error:
            entry.skip = f"its translated expression {error.message}"
            return
        self.scope_mappings[entry.index] = _ScopeMappingPlan(entry, scope, description, expression)

    def scope_mapping_of(self, value, user: Entry) -> tuple[str | None, str | None, str]:
        """What a provider's property mapping becomes: (a scope mapping to offer, a built-in
        scope, why neither)."""
        if isinstance(value, ShippedPart) and value.origin == BUILT_IN_ORIGIN:
            self.resolved.append(
                f"{self.prefix}{user.place} {user.model}: property mapping {value.name} is "
                f"{BUILT_IN_ORIGIN} {value.name}"
            )
            return None, value.name, ""
        target = self._entry_of(value)
        if target is not None and target.model == SCOPE_MAPPING:
            self.users_of[target.index].add(user.index)
            plan = self.scope_mappings.get(target.index)
            if plan is None:
                return None, None, f"its scope mapping is not imported, see {target.place}"
            if plan.is_built_in:
                return None, plan.name, ""
            return plan.name, None, ""
        if value is None:
            return None, None, "a !Find that found no scope mapping here or in Gatehouse"
        return None, None, "it is not a scope mapping of this blueprint"

    def _scope_mapping_definitions(self) -> list[dict]:
        return [
            {"name": plan.name, "description": plan.description, "expression": plan.expression}
            for plan in self.scope_mappings.values()
            if not plan.is_built_in
        ]
