"""The flow page's binding tabs: the stages in order, and the policy, group and user bindings
that decide who may use the flow and whether each step runs."""

from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from idp.admin.audit import record_change, record_deletion
from idp.admin.confirm import Confirmation, ask
from idp.admin.flows.forms import (
    FAILURE_RESULTS,
    BindingSettingsForm,
    PolicyBindingForm,
    StageBindingForm,
)
from idp.admin.flows.guidance import (
    ENDINGS,
    EVERYONE_WORDS,
    applies_to_everyone,
    placement_warnings,
    suggested_order,
    suggestion_in_words,
)
from idp.admin.flows.routes import flow_or_404, flow_target
from idp.admin.group_picker import chosen_group, offer_groups
from idp.admin.group_picker import starting_value as group_starting_value
from idp.admin.helpers import INVALID, still_there
from idp.core.extensions import db
from idp.core.forms import Form
from idp.core.http import VARY_ON_HTMX, is_htmx, redirect_to
from idp.core.numbers import whole_number
from idp.identity.accounts import find_user
from idp.identity.deletion import delete_where
from idp.models import Flow, Group, Policy, PolicyBinding, Stage, StageBinding, User

STAGE_BINDING_FIELDS = (
    "order",
    "evaluate_on_plan",
    "re_evaluate_policies",
    "policy_engine_mode",
    "invalid_response_action",
)
POLICY_BINDING_FIELDS = ("order", "negate", "enabled", "timeout", "failure_result")
TABS = ("policy", "group", "user")
# Subjects whose deletion refuses while they are bound: a binding holds the one it names.
HELD = {"policy": Policy, "group": Group, "user": User}


def when_checked(binding: StageBinding) -> str:
    """When the binding's policies decide whether its stage runs, in words."""
    if not any(item.enabled for item in binding.policy_bindings):
        return _("Always runs: applies to everyone")
    if binding.evaluate_on_plan and binding.re_evaluate_policies:
        return _(
            "Checked when the flow starts, and again just before this step, "
            "with the user known by then"
        )
    if binding.evaluate_on_plan:
        return _("Checked when the flow starts")
    if binding.re_evaluate_policies:
        return _("Checked just before this step, with the user known by then")
    return _("Always runs: its policies are never checked")


def subject_in_words(binding: PolicyBinding) -> str:
    """The bound policy, group or user, in the page's language (subject_label stays English
    for the audit trail)."""
    return words_for_subject(binding.subject_label)


def words_for_subject(label: str) -> str:
    """A subject_label ("group staff") in the page's language."""
    kind, _space, name = label.partition(" ")
    if kind == "policy":
        return _("policy %(name)s", name=name)
    if kind == "group":
        return _("group %(name)s", name=name)
    if kind == "user":
        return _("user %(name)s", name=name)
    return label


def bound_in_words(binding: PolicyBinding) -> str:
    words = subject_in_words(binding)
    if binding.negate:
        words = _("not %(subject)s", subject=words)
    return words if binding.enabled else _("%(subject)s (disabled)", subject=words)


def stage_binding_values(binding: StageBinding) -> dict:
    values = {name: getattr(binding, name) for name in STAGE_BINDING_FIELDS}
    return {"stage": binding.stage.name, **values}


def policy_binding_values(binding: PolicyBinding) -> dict:
    values = {name: getattr(binding, name) for name in POLICY_BINDING_FIELDS}
    return {"subject": binding.subject_label, **values}


def stage_binding_of(flow: Flow, binding_id: int) -> StageBinding:
    for binding in flow.bindings:
        if binding.id == binding_id:
            return binding
    abort(404, description=_("This flow has no such stage binding."))


def policy_binding_of(flow: Flow, binding_id: int) -> tuple[PolicyBinding, StageBinding | None]:
    """The binding and the stage binding it gates (None when it gates the flow itself)."""
    every = [(b, None) for b in flow.policy_bindings] + [
        (b, stage_binding) for stage_binding in flow.bindings for b in stage_binding.policy_bindings
    ]
    for binding, stage_binding in every:
        if binding.id == binding_id:
            return binding, stage_binding
    abort(404, description=_("This flow has no such policy binding."))


def back_to(flow: Flow, stage_binding: StageBinding | None = None) -> str:
    if stage_binding is None:
        return url_for("admin.flow_bindings.flow_policies", slug=flow.slug)
    return (
        url_for("admin.flow_bindings.flow_stages", slug=flow.slug) + f"#binding-{stage_binding.id}"
    )


def _record(action: str, flow: Flow, before=None, after=None, **detail) -> None:
    record_change(action, flow_target(flow), before, after, **detail)


# -- Stage bindings --------------------------------------------------------------------------


def flow_stages(slug: str):
    flow = flow_or_404(slug)
    return render_template(
        "admin/flows/stages.html",
        flow=flow,
        form=Form(),
        when_checked=when_checked,
        bound_in_words=bound_in_words,
        warnings=placement_warnings(flow),
    )


def stage_choices() -> list[SelectChoice]:
    rows = db.session.execute(select(Stage.id, Stage.name, Stage.type).order_by(Stage.name))
    return [SelectChoice("", _("Choose a stage…"))] + [
        SelectChoice(str(key), f"{name} ({kind})") for key, name, kind in rows
    ]


def render_stage_binding(flow, form, binding=None, status=200):
    form.stage.choices = stage_choices()
    page = render_template(
        "admin/flows/stage_binding.html",
        flow=flow,
        form=form,
        binding=binding,
        **binding_guidance(flow, binding),
    )
    return page, status


def binding_guidance(flow: Flow, binding: StageBinding | None = None) -> dict:
    """What the binding form says beside its fields: the suggested order of a new binding,
    and that a step with nothing bound to it applies to everyone."""
    return {
        "suggestion": "" if binding else suggestion_in_words(flow),
        "everyone_words": EVERYONE_WORDS if applies_to_everyone(binding) else "",
    }


def add_stage_binding(flow: Flow, stage: Stage, form: BindingSettingsForm) -> StageBinding:
    """Bind `stage` to the end of `flow` as `form` says (flushed, not committed) and record it."""
    binding = StageBinding(stage=stage)
    _copy(form, binding, STAGE_BINDING_FIELDS)
    flow.bindings.append(binding)
    db.session.flush()
    _record("admin_stage_bound", flow, after=stage_binding_values(binding))
    return binding


def chosen_stage(form: StageBindingForm) -> Stage | None:
    """The chosen stage, held until the binding commits: its deletion waits, then sees it
    bound. None, with a message, when another request deleted it since it was chosen."""
    stage = db.session.get(Stage, int(form.stage.data))
    if stage is None:
        abort(404, description=_("There is no such stage."))
    if not still_there(Stage, [stage.id]):
        form.stage.errors = [
            *form.stage.errors,
            _("This stage was deleted meanwhile. Choose another."),
        ]
        return None
    return stage


def bind_stage(slug: str):
    flow = flow_or_404(slug)
    form = StageBindingForm(data=starting_values({"order": suggested_order(flow)}))
    if not form.validate_on_submit():
        return render_stage_binding(flow, form, status=INVALID if form.is_submitted() else 200)
    stage = chosen_stage(form)
    if stage is None:
        return render_stage_binding(flow, form, status=INVALID)
    binding = add_stage_binding(flow, stage, form)
    db.session.commit()
    flash(_("The stage %(name)s was bound.", name=stage.name), "info")
    return redirect(back_to(flow, binding), code=303)


def edit_stage_binding(slug: str, binding_id: int):
    flow = flow_or_404(slug)
    binding = stage_binding_of(flow, binding_id)
    values = {name: getattr(binding, name) for name in STAGE_BINDING_FIELDS}
    form = StageBindingForm(data=starting_values({**values, "stage": str(binding.stage_id)}))
    if not form.validate_on_submit():
        status = INVALID if form.is_submitted() else 200
        return render_stage_binding(flow, form, binding, status)
    stage = chosen_stage(form)
    if stage is None:
        return render_stage_binding(flow, form, binding, INVALID)
    before = stage_binding_values(binding)
    binding.stage = stage
    _copy(form, binding, STAGE_BINDING_FIELDS)
    _record("admin_stage_binding_changed", flow, before, stage_binding_values(binding))
    db.session.commit()
    flash(_("The stage binding was saved."), "info")
    return redirect(back_to(flow, binding), code=303)


def confirm_stage_binding_removal(slug: str, binding_id: int):
    flow = flow_or_404(slug)
    binding = stage_binding_of(flow, binding_id)
    name = binding.stage.name
    consequences = [
        _(
            "The flow %(name)s will no longer run the step %(name2)s (order %(order)s). The stage "
            "itself stays, in Stages, with its settings.",
            name=flow.name,
            name2=name,
            order=binding.order,
        ),
    ]
    if binding.policy_bindings:
        consequences.append(
            ngettext(
                "Its %(num)d policy binding goes with it.",
                "Its %(num)d policy bindings go with it.",
                len(binding.policy_bindings),
            )
        )
    if binding.stage.type in ENDINGS:
        ending, _consequence = ENDINGS[binding.stage.type]
        consequences.append(
            _(
                "This is the flow's %(ending)s step: without it, there is no %(ending)s.",
                ending=ending,
            )
        )
    confirmation = Confirmation(
        title=_("Remove the stage %(name)s from this flow?", name=name),
        consequences=tuple(consequences),
        action=url_for(
            "admin.flow_bindings.remove_stage_binding", slug=slug, binding_id=binding_id
        ),
        button=_("Remove the binding"),
        cancel=back_to(flow, binding),
    )
    return ask("admin/flows/confirm_removal.html", confirmation, flow=flow)


def remove_stage_binding(slug: str, binding_id: int):
    flow = flow_or_404(slug)
    binding = stage_binding_of(flow, binding_id)
    values = stage_binding_values(binding)
    deleted = delete_where(StageBinding.__table__, StageBinding.id == binding.id)
    record_deletion("admin_stage_unbound", flow_target(flow), values, deleted)
    db.session.commit()
    flash(_("The stage %(stage)s was removed from the flow.", stage=values["stage"]), "info")
    return redirect(url_for("admin.flow_bindings.flow_stages", slug=slug), code=303)


def move_stage_binding(slug: str, binding_id: int, direction: str):
    """Swap places with the neighbour; equal orders are spread out first so a swap moves."""
    flow = flow_or_404(slug)
    binding = stage_binding_of(flow, binding_id)
    bindings = list(flow.bindings)
    before = [item.stage.name for item in bindings]
    index = bindings.index(binding)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(bindings):
        if len({item.order for item in bindings}) < len(bindings):
            for position, item in enumerate(bindings):
                item.order = (position + 1) * 10
        bindings[index].order, bindings[other].order = bindings[other].order, binding.order
        bindings[index], bindings[other] = bindings[other], bindings[index]
        after = [item.stage.name for item in bindings]
        _record("admin_stage_binding_moved", flow, {"stages": before}, {"stages": after})
        db.session.commit()
    return redirect(back_to(flow, binding), code=303)


def starting_values(values: dict) -> dict | None:
    """A form's values on the page that opens it; a sent form stands on what was sent alone
    (a select left out of the request would otherwise keep its starting value)."""
    return None if request.method == "POST" else values


def _copy(form, row, names) -> None:
    for name in names:
        setattr(row, name, form[name].data)


# -- Policy bindings -------------------------------------------------------------------------


def flow_policies(slug: str):
    flow = flow_or_404(slug)
    return render_template(
        "admin/flows/policies.html", flow=flow, form=Form(), bound_in_words=bound_in_words
    )


def current_tab() -> str:
    tab = request.args.get("tab", "policy")
    return tab if tab in TABS else "policy"


def subject_choices(form: PolicyBindingForm) -> None:
    policies = db.session.execute(select(Policy.id, Policy.name).order_by(Policy.name))
    form.policy.choices = [SelectChoice("", _("Choose a policy…"))] + [
        SelectChoice(str(key), name) for key, name in policies
    ]
    offer_groups(form.group)


def render_policy_binding(flow, form, target, binding=None, status=200):
    """The binding dialog: a page of its own, or (htmx) the dialog alone, opened in place.
    htmx swaps only 2xx answers, so a refused form comes back as a 200 there."""
    subject_choices(form)
    in_place = is_htmx()
    template = "_policy_binding_dialog.html" if in_place else "policy_binding.html"
    page = render_template(
        f"admin/flows/{template}",
        flow=flow,
        form=form,
        target=target,
        binding=binding,
        tab=current_tab(),
        tabs=TABS,
    )
    return page, 200 if in_place else status, VARY_ON_HTMX


def dialog_done(url: str):
    """After the dialog: back to the tab it belongs to. htmx follows HX-Redirect only on a
    200, and a browser already on that tab would only scroll to the #binding, so there the
    page is reloaded instead (to show the change and its notice)."""
    try:
        current = urlsplit(request.headers.get("HX-Current-URL", "")).path
    except ValueError:  # an unreadable address (an unclosed "[" in its host)
        current = None
    if is_htmx() and current == urlsplit(url).path:
        return "", 200, {"HX-Refresh": "true"}
    return redirect_to(url)


def find_subject(form: PolicyBindingForm) -> dict | None:
    """The chosen subject ({"group": group}); None, with a message, when it is unknown."""
    name = form.chosen_subjects()[0]
    value = form[name].data
    if name == "user":
        found = find_user(value, ("username",))
    elif name == "group":
        found = chosen_group(form.group)
    else:
        number = whole_number(value)
        found = db.session.get(Policy, number) if number is not None else None
    if not found:
        form[name].errors = [*form[name].errors, _("There is no such %(name)s.", name=name)]
        return None
    if name in HELD and not still_there(HELD[name], [found.id]):
        # Held until the binding commits: a deletion of it waits, then sees it bound.
        form[name].errors = [*form[name].errors, deleted_meanwhile_words(name)]
        return None
    return {name: found}


def deleted_meanwhile_words(name: str) -> str:
    if name == "policy":
        return _("This policy was deleted meanwhile. Choose another.")
    if name == "user":
        return _("This user was deleted meanwhile. Choose another.")
    return _("This group was deleted meanwhile. Choose another.")


def set_subject(binding: PolicyBinding, subject: dict) -> None:
    """Both the relationship and its column, so the label is right before the flush."""
    for name in TABS:
        row = subject.get(name)
        setattr(binding, name, row)
        setattr(binding, f"{name}_id", row.id if row else None)


def copy_policy_binding(form: PolicyBindingForm, binding: PolicyBinding) -> None:
    _copy(form, binding, ("order", "negate", "enabled", "timeout"))
    binding.failure_result = FAILURE_RESULTS[form.failure_result.data]


def create_policy_binding(flow: Flow, stage_binding: StageBinding | None):
    target = stage_binding or flow
    form = PolicyBindingForm()
    if not form.validate_on_submit():
        status = INVALID if form.is_submitted() else 200
        return render_policy_binding(flow, form, target, status=status)
    subject = find_subject(form)
    if subject is None:
        return render_policy_binding(flow, form, target, status=INVALID)
    binding = PolicyBinding()
    set_subject(binding, subject)
    copy_policy_binding(form, binding)
    target.policy_bindings.append(binding)
    db.session.flush()
    values = {"bound_to": where_of_target(target), **policy_binding_values(binding)}
    _record("admin_policy_bound", flow, after=values)
    db.session.commit()
    flash(_("The %(subject)s was bound.", subject=words_for_subject(values["subject"])), "info")
    return dialog_done(back_to(flow, stage_binding))


def where_of_target(target) -> str:
    return "who may use the flow" if isinstance(target, Flow) else f"the stage {target.stage.name}"


def where_in_words(target) -> str:
    """where_of_target in the page's language (that one stays English in the audit trail)."""
    if isinstance(target, Flow):
        return _("who may use the flow")
    return _("the stage %(name)s", name=target.stage.name)


def new_flow_policy_binding(slug: str):
    return create_policy_binding(flow_or_404(slug), None)


def new_stage_policy_binding(slug: str, binding_id: int):
    flow = flow_or_404(slug)
    return create_policy_binding(flow, stage_binding_of(flow, binding_id))


def edit_policy_binding(slug: str, binding_id: int):
    flow = flow_or_404(slug)
    binding, stage_binding = policy_binding_of(flow, binding_id)
    target = stage_binding or flow
    form = PolicyBindingForm(data=starting_values(subject_data(binding)))
    if not form.validate_on_submit():
        status = INVALID if form.is_submitted() else 200
        return render_policy_binding(flow, form, target, binding, status)
    subject = find_subject(form)
    if subject is None:
        return render_policy_binding(flow, form, target, binding, INVALID)
    before = policy_binding_values(binding)
    set_subject(binding, subject)
    copy_policy_binding(form, binding)
    _record("admin_policy_binding_changed", flow, before, policy_binding_values(binding))
    db.session.commit()
    flash(_("The binding was saved."), "info")
    return dialog_done(back_to(flow, stage_binding))


def subject_data(binding: PolicyBinding) -> dict:
    """The form's starting values: the binding's settings and its subject."""
    result = "" if binding.failure_result is None else str(binding.failure_result).lower()
    return {
        **{name: getattr(binding, name) for name in POLICY_BINDING_FIELDS},
        "policy": str(binding.policy_id or ""),
        "group": group_starting_value(binding.group_id),
        "user": binding.user.username if binding.user_id else "",
        "failure_result": result,
    }


def confirm_policy_binding_deletion(slug: str, binding_id: int):
    flow = flow_or_404(slug)
    binding, stage_binding = policy_binding_of(flow, binding_id)
    target = stage_binding or flow
    confirmation = Confirmation(
        title=_("Remove the binding of %(subject)s?", subject=subject_in_words(binding)),
        consequences=policy_binding_consequences(
            binding, target.policy_bindings, where_in_words(target), left_open_words(target)
        ),
        action=url_for(
            "admin.flow_bindings.delete_policy_binding", slug=slug, binding_id=binding_id
        ),
        button=_("Remove the binding"),
        cancel=back_to(flow, stage_binding),
    )
    return ask("admin/flows/confirm_removal.html", confirmation, flow=flow)


def policy_binding_consequences(
    binding: PolicyBinding, beside: list, where: str, left_open: str
) -> tuple[str, ...]:
    """What unbinding does, in words: the subject stops deciding `where`, and with nothing
    else enabled among the bindings `beside` it, what is then open (`left_open`)."""
    consequences = [
        _(
            "The %(subject)s stops deciding %(where)s.",
            subject=subject_in_words(binding),
            where=where,
        )
    ]
    if not any(item.enabled for item in beside if item is not binding):
        consequences.append(
            _(
                "Nothing else is bound there: once it is removed, %(left_open)s.",
                left_open=left_open,
            )
        )
    return tuple(consequences)


def left_open_words(target) -> str:
    if isinstance(target, Flow):
        return _("anyone the flow's settings allow may use the flow")
    return _("the step applies to everyone who goes through the flow")


def delete_policy_binding(slug: str, binding_id: int):
    flow = flow_or_404(slug)
    binding, stage_binding = policy_binding_of(flow, binding_id)
    target = stage_binding or flow
    values = {"bound_to": where_of_target(target), **policy_binding_values(binding)}
    subject = subject_in_words(binding)
    deleted = delete_where(PolicyBinding.__table__, PolicyBinding.id == binding.id)
    record_deletion("admin_policy_unbound", flow_target(flow), values, deleted)
    db.session.commit()
    flash(_("The %(subject)s binding was removed.", subject=subject), "info")
    return redirect(back_to(flow, stage_binding), code=303)
