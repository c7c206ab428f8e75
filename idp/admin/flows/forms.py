"""The forms of the flow pages: a flow's settings, a stage binding, a policy binding and an
uploaded flow file."""

from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NoneOf,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from idp.admin.fields import Free, strip
from idp.admin.group_picker import GroupField
from idp.core.extensions import db
from idp.core.forms import Form, one_line
from idp.core.i18n import lazy_text as _l
from idp.core.numbers import whole_number
from idp.core.slugs import RESERVED_SLUG_MESSAGE, RESERVED_SLUGS, SLUG_PATTERN
from idp.models import Flow
from idp.models.flows import (
    AUTHENTICATION_REQUIREMENTS,
    DENIED_ACTIONS,
    DESIGNATIONS,
    ENGINE_MODES,
    INVALID_RESPONSE_ACTIONS,
    STAGE_BINDING_DEFAULTS,
)

ORDER_LIMIT = 2_147_483_647
NUMBER_MESSAGE = _l("Enter a whole number.")

DESIGNATION_LABELS = {
    "authentication": _l("Authentication: signing in"),
    "invalidation": _l("Invalidation: signing out"),
    "enrollment": _l("Enrollment: signing up"),
    "unenrollment": _l("Unenrollment: deleting the account"),
    "recovery": _l("Recovery: a forgotten password"),
    "stage_configuration": _l("Stage configuration: setting up an authenticator"),
    "authorization": _l("Authorization: letting an application sign the user in"),
}
AUTHENTICATION_LABELS = {
    "none": _l("Anyone"),
    "require_authenticated": _l("Only signed-in users"),
    "require_unauthenticated": _l("Only visitors who are not signed in"),
    "require_superuser": _l("Only administrators"),
}
DENIED_LABELS = {
    "message_continue": _l("Show a message, then go on to where the user was going"),
    "message": _l("Show a message and stop"),
    "continue": _l("Go on to where the user was going, without a message"),
}
ENGINE_LABELS = {
    "any": _l("Any one binding passing is enough"),
    "all": _l("Every binding must pass"),
}
INVALID_RESPONSE_LABELS = {
    "retry": _l("Ask again"),
    "restart": _l("Start the flow again"),
    "restart_with_context": _l("Start the flow again, keeping what was entered"),
}
FAILURE_RESULTS = {"": None, "true": True, "false": False}
FAILURE_LABELS = {
    "": _l("Stop the flow with an error"),
    "true": _l("Count the binding as passed"),
    "false": _l("Count the binding as failed"),
}


def _choices(values, labels) -> list[SelectChoice]:
    return [SelectChoice(value, labels.get(value, value)) for value in values]


def _find_flow(slug: str):
    return db.session.scalar(db.select(Flow).where(Flow.slug == slug))


class WholeNumberField(IntegerField):
    """An IntegerField whose message for text that is not a number reads like the others."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(NUMBER_MESSAGE) from None


def _order_field():
    return WholeNumberField(
        _l("Order"),
        default=0,
        validators=[
            InputRequired(NUMBER_MESSAGE),
            NumberRange(-ORDER_LIMIT, ORDER_LIMIT, _l("Enter a smaller number.")),
        ],
        description=_l("Lower numbers come first."),
    )


class FlowForm(Form):
    slug = StringField(
        _l("Slug"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter a slug.")),
            Length(max=100, message=_l("Slugs are at most 100 characters long.")),
            Regexp(SLUG_PATTERN, message=_l("Use lower-case letters, digits, - and _ only.")),
            NoneOf(
                RESERVED_SLUGS,
                message=_l(
                    "This slug %(reserved_slug_message)s.",
                    reserved_slug_message=_l(RESERVED_SLUG_MESSAGE),
                ),
            ),
            Free(_find_flow, _l("Another flow has this slug.")),
        ],
        description=_l("The flow's address: /flow/<slug>/."),
    )
    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter a name.")),
            Length(max=200, message=_l("At most 200.")),
            one_line,
        ],
    )
    title = StringField(
        _l("Title"),
        filters=[strip],
        validators=[
            Length(max=200, message=_l("Titles are at most 200 characters long.")),
            one_line,
        ],
        description=_l("The heading users see."),
    )
    designation = SelectField(
        _l("Designation"), choices=_choices(DESIGNATIONS, DESIGNATION_LABELS), validate_choice=True
    )
    authentication = SelectField(
        _l("Who may start it"),
        choices=_choices(AUTHENTICATION_REQUIREMENTS, AUTHENTICATION_LABELS),
        validate_choice=True,
    )
    denied_action = SelectField(
        _l("When the flow's policies deny"),
        choices=_choices(DENIED_ACTIONS, DENIED_LABELS),
        validate_choice=True,
    )
    policy_engine_mode = SelectField(
        _l("The flow's policy bindings"),
        choices=_choices(ENGINE_MODES, ENGINE_LABELS),
        validate_choice=True,
    )

    def __init__(self, *args, editing=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing


class BindingSettingsForm(Form):
    """How a stage is bound: where it comes, when its policies are checked, and what an
    invalid answer does. The stage itself is chosen (StageBindingForm) or made beside it."""

    order = _order_field()
    evaluate_on_plan = BooleanField(
        _l("Check its policies when the flow starts"),
        default=STAGE_BINDING_DEFAULTS["evaluate_on_plan"],
    )
    re_evaluate_policies = BooleanField(
        _l("Check its policies again just before this step"),
        default=STAGE_BINDING_DEFAULTS["re_evaluate_policies"],
    )
    policy_engine_mode = SelectField(
        _l("Its policy bindings"),
        choices=_choices(ENGINE_MODES, ENGINE_LABELS),
        validate_choice=True,
    )
    invalid_response_action = SelectField(
        _l("When an answer is invalid"),
        choices=_choices(INVALID_RESPONSE_ACTIONS, INVALID_RESPONSE_LABELS),
        validate_choice=True,
    )


class StageBindingForm(BindingSettingsForm):
    # Not a checked choice: the view answers an unknown stage id with a 404.
    stage = SelectField(_l("Stage"), validate_choice=False)

    def validate_stage(self, field):
        if whole_number(field.data) is None:
            raise ValidationError(_l("Choose a stage."))


class PolicyBindingForm(Form):
    """Exactly one of policy, group or user; the page shows one of them at a time."""

    policy = SelectField(_l("Policy"), validate_choice=False)
    group = GroupField(_l("Group"))
    user = StringField(
        _l("Username"), filters=[strip], validators=[Length(max=150, message=_l("At most 150."))]
    )
    order = _order_field()
    negate = BooleanField(_l("Negate: pass when the subject does not match"))
    enabled = BooleanField(_l("Enabled"), default=True)
    timeout = WholeNumberField(
        _l("Timeout in seconds"),
        default=30,
        validators=[
            InputRequired(NUMBER_MESSAGE),
            NumberRange(1, 300, _l("Choose from 1 to 300 seconds.")),
        ],
    )
    failure_result = SelectField(
        _l("When the policy fails with an error"),
        choices=_choices(FAILURE_RESULTS, FAILURE_LABELS),
        default="",
        validate_choice=True,
    )

    def chosen_subjects(self) -> list[str]:
        return [name for name in ("policy", "group", "user") if self[name].data]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if len(self.chosen_subjects()) != 1:
            self.form_errors.append(_l("Choose exactly one policy, group or user."))
            return False
        return valid


class ImportForm(Form):
    file = FileField(_l("Flow file (YAML or JSON)"))
    # On confirmation the content comes back from the preview page, never from the cookie.
    content = TextAreaField(validators=[Optional()])
