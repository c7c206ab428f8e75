"""Where policies or groups are bound, in words, for the admin's "cannot delete" answers: a
flow's gate, a stage's, or who may use an application. Deleting a subject deletes its
bindings with it (ON DELETE CASCADE), which would open what they guarded."""

from collections import defaultdict

from flask_babel import gettext as _
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.models import Application, Flow, PolicyBinding, Stage, StageBinding


def places_bound(subject_column, subject_ids: list[int]) -> dict[int, list[str]]:
    """For each id in `subject_ids` of `subject_column` (PolicyBinding.policy_id or
    .group_id), the places it is bound."""
    places = defaultdict(list)
    for subject_id, slug, stage in _in_flows(subject_column, subject_ids):
        places[subject_id].append(
            _("who may use the flow %(slug)s", slug=slug)
            if stage is None
            else _("the stage %(stage)s in %(slug)s", stage=stage, slug=slug)
        )
    for subject_id, name in _in_applications(subject_column, subject_ids):
        places[subject_id].append(_("who may use the application %(name)s", name=name))
    return places


def _in_flows(subject_column, subject_ids: list[int]):
    stage_binding = StageBinding.__table__.alias("stage_binding")
    return db.session.execute(
        select(subject_column, Flow.slug, Stage.name)
        .select_from(PolicyBinding)
        .outerjoin(stage_binding, PolicyBinding.stage_binding_id == stage_binding.c.id)
        .outerjoin(Stage, Stage.id == stage_binding.c.stage_id)
        .join(Flow, Flow.id == func.coalesce(PolicyBinding.flow_id, stage_binding.c.flow_id))
        .where(subject_column.in_(subject_ids))
        .order_by(Flow.slug, Stage.name)
    )


def _in_applications(subject_column, subject_ids: list[int]):
    return db.session.execute(
        select(subject_column, Application.name)
        .select_from(PolicyBinding)
        .join(Application, Application.id == PolicyBinding.application_id)
        .where(subject_column.in_(subject_ids))
        .order_by(Application.name)
    )
