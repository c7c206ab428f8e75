"""Writing a flow as a self-contained version-1 document that refers to everything by name."""

from dataclasses import asdict

import yaml
from sqlalchemy import select

from idp.applications.loading import load_application
from idp.core.extensions import db
from idp.core.options import secret_options
from idp.flows.loading import load_flow
from idp.models import Flow, Policy
from idp.policies.registry import POLICY_TYPES
from idp.stages.registry import STAGE_TYPES
from idp.transfer.importer import policy_binding_spec, stage_binding_spec


def _policy_binding(binding) -> dict:
    spec = asdict(policy_binding_spec(binding))
    document = {key: spec[key] for key in ("policy", "group", "user") if spec[key] is not None}
    document.update({key: spec[key] for key in ("order", "negate", "enabled", "timeout")})
    if spec["failure_result"] is not None:  # unset means: an error stops the flow
        document["failure_result"] = spec["failure_result"]
    return document


def _stage_binding(binding) -> dict:
    spec = asdict(stage_binding_spec(binding))
    spec["policies"] = [_policy_binding(item) for item in binding.policy_bindings]
    if not spec["policies"]:
        del spec["policies"]
    return spec


def export_flow(slug: str) -> dict | None:
    flow = load_flow(slug)
    if flow is None:
        return None
    stages = {binding.stage.name: binding.stage for binding in flow.bindings}
    policy_bindings = list(flow.policy_bindings) + [
        item for binding in flow.bindings for item in binding.policy_bindings
    ]
    policies = {item.policy.name: item.policy for item in policy_bindings if item.policy}
    for name in _policies_named_by_stages(stages.values()):
        policies.setdefault(name, None)
    policies = _load_missing(policies)
    return {
        "version": 1,
        "flow": {
            "slug": flow.slug,
            "name": flow.name,
            "title": flow.title,
            "designation": flow.designation,
            "authentication": flow.authentication,
            "denied_action": flow.denied_action,
            "policy_engine_mode": flow.policy_engine_mode,
            "policies": [_policy_binding(item) for item in flow.policy_bindings],
            "stages": [_stage_binding(binding) for binding in flow.bindings],
        },
        "stages": [_component(stage, STAGE_TYPES) for stage in stages.values()],
        "policies": [_component(policy, POLICY_TYPES) for policy in policies.values()],
    }


def _component(row, registry) -> dict:
    """A stage or policy without its credentials: a flow file is shared and kept in places a
    secret must not be. Importing it keeps the secrets already saved under that name."""
    component_type = registry.get(row.type)
    hidden = secret_options(component_type.Options) if component_type else ()
    options = {key: value for key, value in row.options.items() if key not in hidden}
    return {"name": row.name, "type": row.type, "options": options}


def _policies_named_by_stages(stages) -> list[str]:
    names = []
    for stage in stages:
        stage_type = STAGE_TYPES.get(stage.type)
        if stage_type is not None:
            names.extend(stage_type.referenced_policies(stage_type.parse_options(stage.options)))
    return names


def _load_missing(policies: dict) -> dict:
    missing = [name for name, policy in policies.items() if policy is None]
    if missing:
        found = db.session.scalars(select(Policy).where(Policy.name.in_(missing)))
        policies.update({policy.name: policy for policy in found})
    return {name: policy for name, policy in policies.items() if policy is not None}


def export_application(slug: str) -> dict | None:
    """An application with its provider and bindings as a version-1 document, with the
    policies its bindings name. Flows are named by slug (export them with `idp flows export`);
    a client secret is never written: only its hash is kept, and an import keeps the secret
    an existing client has."""
    application = load_application(slug)
    if application is None:
        return None
    provider = application.provider
    flow_ids = [
        provider.authorization_flow_id,
        provider.authentication_flow_id,
        provider.invalidation_flow_id,
    ]
    slugs = dict(
        db.session.execute(
            select(Flow.id, Flow.slug).where(Flow.id.in_([item for item in flow_ids if item]))
        ).all()
    )
    exported_provider = {"type": provider.type, "options": provider.options}
    if provider.client_id:
        exported_provider["client_id"] = provider.client_id
    for key, flow_id in zip(
        ("authorization_flow", "authentication_flow", "invalidation_flow"), flow_ids, strict=True
    ):
        if flow_id:
            exported_provider[key] = slugs[flow_id]
    policies = {
        item.policy.name: item.policy for item in application.policy_bindings if item.policy
    }
    return {
        "version": 1,
        "applications": [
            {
                "slug": application.slug,
                "name": application.name,
                "launch_url": application.launch_url,
                "description": application.description,
                "policy_engine_mode": application.policy_engine_mode,
                "provider": exported_provider,
                "policies": [_policy_binding(item) for item in application.policy_bindings],
            }
        ],
        "policies": [_component(policy, POLICY_TYPES) for policy in policies.values()],
    }


def dump_yaml(document: dict) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False)
