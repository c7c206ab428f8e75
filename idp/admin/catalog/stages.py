"""Stages: listed by type with the flows that use each; created in two steps (the type, then
that type's settings form); edited; deleted once no flow uses them."""

from collections import defaultdict

from flask import render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from idp.admin.catalog import rows
from idp.admin.catalog.forms import StageForm
from idp.admin.pagination import paginate
from idp.core.extensions import db
from idp.models import Flow, Stage, StageBinding
from idp.stages.registry import STAGE_TYPES


def flows_using(stage_ids: list[int]) -> dict[int, list[str]]:
    """The slugs of the flows that bind each stage."""
    rows = db.session.execute(
        select(StageBinding.stage_id, Flow.slug)
        .join(Flow, Flow.id == StageBinding.flow_id)
        .where(StageBinding.stage_id.in_(stage_ids))
        .distinct()
        .order_by(Flow.slug)
    )
    used = defaultdict(list)
    for stage_id, slug in rows:
        used[stage_id].append(slug)
    return used


def where_used(stage: Stage) -> list[str]:
    return [_("the flow %(slug)s", slug=slug) for slug in flows_using([stage.id]).get(stage.id, [])]


def flow_url(slug: str) -> str:
    return url_for("admin.flows.flow", slug=slug)


STAGES = rows.Catalog(
    kind="stage",
    plural="stages",
    model=Stage,
    registry=STAGE_TYPES,
    form_class=StageForm,
    where_used=where_used,
    list_endpoint="admin.stages.stages",
    row_endpoint="admin.stages.stage",
)


def stages():
    page = paginate(select(Stage).order_by(Stage.type, Stage.name))
    return render_template(
        "admin/stages/list.html",
        catalog=STAGES,
        page=page,
        used=flows_using([stage.id for stage in page.items]),
        flow_url=flow_url,
    )


def new_stage():
    return rows.choose_type(STAGES, "admin.stages.new_stage_of_type")


def new_stage_of_type(type_name: str):
    return rows.create(STAGES, type_name)


def stage(stage_id: int):
    return rows.edit(STAGES, stage_id)


def stage_deletion(stage_id: int):
    return rows.confirm_deletion(STAGES, stage_id)


def delete_stage(stage_id: int):
    return rows.remove(STAGES, stage_id)
