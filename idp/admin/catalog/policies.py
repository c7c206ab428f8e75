"""Policies: listed with where each is bound; created in two steps (the type, then its settings
form); edited; tried out on the Test page; deleted once nothing uses them."""

from collections import defaultdict

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select

from idp.admin.bound_places import places_bound
from idp.admin.catalog import rows
from idp.admin.catalog.forms import PolicyForm, PolicyTestForm
from idp.admin.helpers import INVALID, find_or_404
from idp.admin.pagination import paginate
from idp.core.extensions import db
from idp.core.options import OptionsError
from idp.models import Policy, PolicyBinding, Stage
from idp.policies.engine import evaluate_policy
from idp.policies.registry import POLICY_TYPES
from idp.policies.types import PolicyError, PolicyRequest
from idp.stages.registry import STAGE_TYPES

# The Test page waits as long as a binding does by default.


TEST_TIMEOUT = 30


def bindings_of(policy_ids: list[int]) -> dict[int, list[str]]:
    """Where each policy is bound: a flow's gate, a stage's, or an application's."""
    return places_bound(PolicyBinding.policy_id, policy_ids)


def stages_naming(policy_names: set[str]) -> dict[str, list[str]]:
    """Stages whose settings name a policy (a prompt's validation policies)."""
    named = defaultdict(list)
    for stage in db.session.scalars(select(Stage).order_by(Stage.name)):
        for name in _referenced(stage) & policy_names:
            named[name].append(_("the settings of the stage %(name)s", name=stage.name))
    return named


def _referenced(stage: Stage) -> set[str]:
    stage_type = STAGE_TYPES.get(stage.type)
    if stage_type is None:
        return set()
    try:
        return set(stage_type.referenced_policies(stage_type.parse_options(stage.options)))
    except OptionsError:
        return set()


def where_used(policy: Policy) -> list[str]:
    return [
        *bindings_of([policy.id]).get(policy.id, []),
        *stages_naming({policy.name}).get(policy.name, []),
    ]


POLICIES = rows.Catalog(
    kind="policy",
    plural="policies",
    model=Policy,
    registry=POLICY_TYPES,
    form_class=PolicyForm,
    where_used=where_used,
    list_endpoint="admin.policies.policies",
    row_endpoint="admin.policies.policy",
)


def policies():
    page = paginate(select(Policy).order_by(Policy.name))
    bound = bindings_of([policy.id for policy in page.items])
    named = stages_naming({policy.name for policy in page.items})
    used = {
        policy.id: bound.get(policy.id, []) + named.get(policy.name, []) for policy in page.items
    }
    return render_template("admin/policies/list.html", catalog=POLICIES, page=page, used=used)


def new_policy():
    return rows.choose_type(POLICIES, "admin.policies.new_policy_of_type")


def new_policy_of_type(type_name: str):
    return rows.create(POLICIES, type_name)


def policy(policy_id: int):
    return rows.edit(POLICIES, policy_id)


def policy_deletion(policy_id: int):
    return rows.confirm_deletion(POLICIES, policy_id)


def delete_policy(policy_id: int):
    return rows.remove(POLICIES, policy_id)


def policy_test(policy_id: int):
    """Run the policy as a flow would, for a chosen user, address and context; nothing is
    written."""
    policy = find_or_404(Policy, policy_id, "policy")
    form = PolicyTestForm()
    result = error = None
    if form.validate_on_submit():
        result, error = run_test(policy, form)
    status = INVALID if form.errors else 200
    page = render_template(
        "admin/policies/test.html",
        catalog=POLICIES,
        row=policy,
        form=form,
        result=result,
        error=error,
    )
    return page, status


def run_test(policy: Policy, form: PolicyTestForm):
    request = PolicyRequest(
        user=form.policy_user, ip=form.ip.data or "", context=form.context_mapping()
    )
    try:
        return evaluate_policy(policy, request, TEST_TIMEOUT), None
    except PolicyError as error:
        return None, error.sentence
    finally:
        # A test only reads: whatever a policy may have touched is dropped.
        db.session.rollback()
