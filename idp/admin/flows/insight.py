"""The flow page's Diagram and Simulate tabs: what the flow will do, drawn, and foretold for a
chosen user. Both only read."""

from flask import render_template, request
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from idp.admin.catalog.forms import chosen_user, ip_field, username_field
from idp.admin.flows import diagram
from idp.admin.flows.bindings import bound_in_words, when_checked
from idp.admin.flows.routes import flow_or_404
from idp.admin.helpers import INVALID
from idp.core.extensions import db
from idp.core.forms import Form
from idp.core.i18n import lazy_text as _l
from idp.flows import simulation as outcomes
from idp.flows.simulation import ARRIVALS, simulate_plan, usual_arrival


class SimulationForm(Form):
    """Sent by GET: it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False

    user = username_field()
    arrival = SelectField(
        _l("How they come to the flow"),
        choices=[SelectChoice(value, label) for value, label in ARRIVALS.items()],
    )
    ip = ip_field()


def flow_diagram(slug: str):
    flow = flow_or_404(slug)
    return render_template("admin/flows/diagram.html", flow=flow, diagram=diagram.build(flow))


def flow_simulation(slug: str):
    flow = flow_or_404(slug)
    is_sent = "user" in request.args
    form = SimulationForm(formdata=request.args if is_sent else None, arrival=usual_arrival(flow))
    result, status = None, 200
    if is_sent:
        if form.validate():
            user = chosen_user(form.user.data)
            result = simulate_plan(flow, user, form.ip.data or "", form.arrival.data)
        else:
            status = INVALID
    page = render_template(
        "admin/flows/simulate.html",
        flow=flow,
        form=form,
        simulation=result,
        outcomes=outcomes,
        bound_in_words=bound_in_words,
        when_checked=when_checked,
    )
    # A simulation only reads: whatever a policy may have touched is dropped.
    db.session.rollback()
    return page, status
