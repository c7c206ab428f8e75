"""The admin's application forms: the application itself and the flows its provider uses. The
provider's own settings come from its type's OptionsForm."""

from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from idp.admin.fields import strip
from idp.admin.helpers import still_there
from idp.applications.addresses import is_web_address
from idp.core.extensions import db
from idp.core.forms import Form, one_line
from idp.core.i18n import lazy_text as _l
from idp.core.slugs import SLUG_PATTERN
from idp.models import Application, Flow

FLOW_DELETED = _l("This flow was deleted meanwhile. Choose another.")
FLOW_FIELDS = ("authorization_flow", "authentication_flow", "invalidation_flow")
ENGINE_WORDS = {
    "any": _l("Any one binding passing is enough"),
    "all": _l("Every binding must pass"),
}


def _web_address(form, field):
    if field.data and not is_web_address(field.data):
        raise ValidationError(_l("Give an address starting with https://, http:// or /."))


class ApplicationForm(Form):
    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=200), one_line], filters=[strip]
    )
    slug = StringField(
        _l("Slug"),
        description=_l("Part of the app's addresses (its OpenID Connect issuer)."),
        validators=[
            DataRequired(),
            Regexp(SLUG_PATTERN, message=_l("Lowercase letters, digits, - and _ only.")),
        ],
        filters=[strip],
    )
    launch_url = StringField(
        _l("Launch URL"),
        description=_l("Where users open the app from their page."),
        validators=[Optional(), Length(max=2000), _web_address],
        filters=[strip],
    )
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)])
    icon = StringField(
        _l("Icon URL"), validators=[Optional(), Length(max=2000), _web_address], filters=[strip]
    )
    policy_engine_mode = SelectField(
        _l("Its policy bindings"),
        choices=[SelectChoice(key, words) for key, words in ENGINE_WORDS.items()],
        validate_choice=True,
    )
    authorization_flow = SelectField(_l("Authorization flow"), validate_choice=True)
    authentication_flow = SelectField(
        _l("Authentication flow"),
        description=_l("Used to sign in visitors who are not yet; default: the usual sign-in."),
        validate_choice=True,
    )
    invalidation_flow = SelectField(
        _l("Invalidation flow"),
        description=_l("Used when the app signs the user out; default: the usual sign-out."),
        validate_choice=True,
    )

    def __init__(self, *args, editing: Application | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        flows = db.session.execute(
            select(Flow.id, Flow.slug, Flow.designation).order_by(Flow.slug)
        ).all()

        def choices(designation, optional):
            found = [
                SelectChoice(str(key), slug) for key, slug, kind in flows if kind == designation
            ]
            return ([SelectChoice("", _l("Default"))] if optional else []) + found

        self.authorization_flow.choices = choices("authorization", False)
        self.authentication_flow.choices = choices("authentication", True)
        self.invalidation_flow.choices = choices("invalidation", True)

    def validate_slug(self, field):
        found = db.session.scalar(select(Application.id).where(Application.slug == field.data))
        if found is not None and (self.editing is None or found != self.editing.id):
            raise ValidationError(_l("An application with this slug exists already."))

    def chosen_flows_still_there(self) -> bool:
        """Hold the chosen flows until the save commits; False, with a message beside each
        choice whose flow another administrator deleted since this form was read."""
        chosen = {name: int(self[name].data) for name in FLOW_FIELDS if self[name].data}
        kept = still_there(Flow, chosen.values())
        for name, flow_id in chosen.items():
            if flow_id not in kept:
                field = self[name]
                field.choices = [choice for choice in field.choices if choice.value != str(flow_id)]
                field.errors = [*field.errors, str(FLOW_DELETED)]
        return kept == set(chosen.values())

    def flow_ids(self) -> dict:
        return {
            f"{name}_id": int(self[name].data) if self[name].data else None for name in FLOW_FIELDS
        }
