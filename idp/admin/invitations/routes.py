"""Invitations: list, create (the link is shown once, on the answer to the POST), revoke."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from idp.admin.audit import describe, record_change
from idp.admin.helpers import INVALID, current_admin, find_or_404
from idp.admin.invitations.forms import InvitationForm
from idp.admin.pagination import paginate
from idp.core.extensions import db
from idp.core.forms import Form
from idp.identity import invitations as service
from idp.models import Flow, Invitation, Stage, StageBinding


def invitation_target(invitation: Invitation) -> dict:
    return describe("invitation", invitation, invitation.name or f"#{invitation.id}")


def invitations():
    statement = select(Invitation).order_by(Invitation.created_at.desc(), Invitation.id.desc())
    return render_template(
        "admin/invitations/list.html",
        page=paginate(statement),
        state_of=service.state_of,
        form=Form(),
    )


def flow_choices() -> list[tuple[str, str]]:
    """Every flow, enrollment flows first: an invitation usually opens one of those."""
    flows = db.session.execute(
        select(Flow.slug, Flow.name, Flow.designation).order_by(
            Flow.designation != "enrollment", Flow.slug
        )
    )
    return [(slug, f"{name} ({slug}, {designation})") for slug, name, designation in flows]


def checks_invitations(flow_slug: str) -> bool:
    """Whether the flow has an invitation stage, without which the link is an open door."""
    found = db.session.scalar(
        select(StageBinding.id)
        .join(Flow, StageBinding.flow_id == Flow.id)
        .join(Stage, StageBinding.stage_id == Stage.id)
        .where(Flow.slug == flow_slug, Stage.type == "invitation")
        .limit(1)
    )
    return found is not None


def new_invitation():
    form = InvitationForm()
    form.flow.choices = flow_choices()
    if not form.validate_on_submit():
        status = INVALID if form.is_submitted() else 200
        return render_template("admin/invitations/new.html", form=form), status
    invitation, token = service.create_invitation(
        name=form.name.data or "",
        flow_slug=form.flow.data,
        fixed_data=form.fixed_mapping(),
        expires_in=form.expires.lifetime,
        single_use=not form.multi_use.data,
        created_by=current_admin(),
    )
    record_change("admin_invitation_created", invitation_target(invitation), after=_values(form))
    db.session.commit()
    return render_template(
        "admin/invitations/created.html",
        invitation=invitation,
        link=service.invitation_link(invitation.flow_slug, token),
        is_checked=checks_invitations(invitation.flow_slug),
    )


def _values(form: InvitationForm) -> dict:
    return {
        "name": form.name.data,
        "flow": form.flow.data,
        "expires": form.expires.data.strip(),
        "single_use": not form.multi_use.data,
        "fixed_data": form.fixed_mapping(),
    }


def revoke_invitation(invitation_id: int):
    invitation = find_or_404(Invitation, invitation_id, "invitation")
    state = service.state_of(invitation)
    if not service.revoke_invitation(invitation.id):
        flash(_("This invitation was revoked before."), "info")
        return redirect(url_for("admin.invitations.invitations"), code=303)
    record_change(
        "admin_invitation_revoked",
        invitation_target(invitation),
        before={"state": state},
        after={"state": "revoked"},
    )
    db.session.commit()
    flash(_("The invitation was revoked: its link no longer works."), "info")
    return redirect(url_for("admin.invitations.invitations"), code=303)
