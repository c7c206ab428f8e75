"""The admin's "test a request": what the proxy would be told for a user and an address,
and why. A GET form: nothing is written."""

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from idp.applications.access import RequestFacts
from idp.applications.loading import load_application
from idp.core.extensions import db
from idp.core.forms import Form
from idp.core.http import to_sign_in
from idp.core.i18n import lazy_text as _l
from idp.models import User
from idp.providers.proxy.decision import decide
from idp.providers.proxy.targets import METHODS, parse_target


class TestRequestForm(Form):
    class Meta:
        csrf = False  # a GET form that only reads

    username = StringField(_l("User (empty: a visitor who is not signed in)"), [Length(max=150)])
    url = StringField(
        _l("Address asked for"),
        [DataRequired(), Length(max=2000)],
        render_kw={"placeholder": "https://app.example.org/some/page"},
    )
    method = SelectField(_l("Method"), choices=sorted(METHODS), default="GET")


def test_request(slug: str):
    if not current_user.is_authenticated:
        return to_sign_in()
    if not current_user.is_superuser:
        abort(403, description=_l("Only administrators may open the admin pages."))
    application = load_application(slug)
    if application is None or application.provider is None:
        abort(404, description=_l("There is no such application."))
    form = TestRequestForm(request.args)
    verdict, problem = None, None
    if "url" in request.args and form.validate():
        verdict, problem = _try(form)
    response = render_template(
        "providers/proxy/test_request.html",
        application=application,
        form=form,
        verdict=verdict,
        problem=problem,
    )
    return response, 400 if problem or form.errors else 200, {"Cache-Control": "no-store"}


def _try(form: TestRequestForm):
    target = parse_target(form.url.data.strip(), form.method.data)
    if target is None:
        return None, _("That is not an http:// or https:// address.")
    user = None
    username = (form.username.data or "").strip()
    if username:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            return None, _("There is no user %(name)s.", name=repr(username))
    facts = RequestFacts(path=target.path, args={})
    return decide(target, user, facts), None
