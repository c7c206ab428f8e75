"""The forms of the flow pages: a flow's settings, a stage binding, a policy binding and an
uploaded flow file."""

from flask_wtf import FlaskForm
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

from idp.admin.users.forms import Free
from idp.core.extensions import db
from idp.models import Flow
from idp.models.flows import (
    AUTHENTICATION_REQUIREMENTS,
    DENIED_ACTIONS,
    DESIGNATIONS,
    ENGINE_MODES,
    INVALID_RESPONSE_ACTIONS,
    STAGE_BINDING_DEFAULTS,
)
from idp.transfer.document import RESERVED_SLUG_MESSAGE, RESERVED_SLUGS, SLUG_PATTERN

ORDER_LIMIT = 2_147_483_647
NUMBER_MESSAGE = "Enter a whole number."

DESIGNATION_LABELS = {
    "authentication": "Authentication: signing in",
    "invalidation": "Invalidation: signing out",
    "enrollment": "Enrollment: signing up",
    "unenrollment": "Unenrollment: deleting the account",
    "recovery": "Recovery: a forgotten password",
    "stage_configuration": "Stage configuration: setting up an authenticator",
    "authorization": "Authorization: letting an application sign the user in",
}
AUTHENTICATION_LABELS = {
    "none": "Anyone",
    "require_authenticated": "Only signed-in users",
    "require_unauthenticated": "Only visitors who are not signed in",
    "require_superuser": "Only administrators",
}
DENIED_LABELS = {
    "message_continue": "Show a message, then go on to where the user was going",
    "message": "Show a message and stop",
    "continue": "Go on to where the user was going, without a message",
}
ENGINE_LABELS = {
    "any": "Any one binding passing is enough",
    "all": "Every binding must pass",
}
INVALID_RESPONSE_LABELS = {
    "retry": "Ask again",
    "restart": "Start the flow again",
    "restart_with_context": "Start the flow again, keeping what was entered",
}
FAILURE_RESULTS = {"": None, "true": True, "false": False}
FAILURE_LABELS = {
    "": "Stop the flow with an error",
    "true": "Count the binding as passed",
    "false": "Count the binding as failed",
}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


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


def _order_field(label="Order"):
    return WholeNumberField(
        label,
        default=0,
        validators=[
            InputRequired(NUMBER_MESSAGE),
            NumberRange(-ORDER_LIMIT, ORDER_LIMIT, "Enter a smaller number."),
        ],
        description="Lower numbers come first.",
    )


class FlowForm(FlaskForm):
    slug = StringField(
        "Slug",
        filters=[_strip],
        validators=[
            DataRequired("Enter a slug."),
            Length(max=100, message="Slugs are at most 100 characters long."),
            Regexp(SLUG_PATTERN, message="Use lower-case letters, digits, - and _ only."),
            NoneOf(RESERVED_SLUGS, message=f"This slug {RESERVED_SLUG_MESSAGE}."),
            Free(_find_flow, "Another flow has this slug."),
        ],
        description="The flow's address: /flow/<slug>/.",
    )
    name = StringField(
        "Name",
        filters=[_strip],
        validators=[DataRequired("Enter a name."), Length(max=200, message="At most 200.")],
    )
    title = StringField(
        "Title",
        filters=[_strip],
        validators=[Length(max=200, message="Titles are at most 200 characters long.")],
        description="The heading users see.",
    )
    designation = SelectField(
        "Designation", choices=_choices(DESIGNATIONS, DESIGNATION_LABELS), validate_choice=True
    )
    authentication = SelectField(
        "Who may start it",
        choices=_choices(AUTHENTICATION_REQUIREMENTS, AUTHENTICATION_LABELS),
        validate_choice=True,
    )
    denied_action = SelectField(
        "When the flow's policies deny",
        choices=_choices(DENIED_ACTIONS, DENIED_LABELS),
        validate_choice=True,
    )
    policy_engine_mode = SelectField(
        "The flow's policy bindings",
        choices=_choices(ENGINE_MODES, ENGINE_LABELS),
        validate_choice=True,
    )

    def __init__(self, *args, editing=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing


class BindingSettingsForm(FlaskForm):
    """How a stage is bound: where it comes, when its policies are checked, and what an
    invalid answer does. The stage itself is chosen (StageBindingForm) or made beside it."""

    order = _order_field()
    evaluate_on_plan = BooleanField(
        "Check its policies when the flow starts",
        default=STAGE_BINDING_DEFAULTS["evaluate_on_plan"],
    )
    re_evaluate_policies = BooleanField(
        "Check its policies again just before this step",
        default=STAGE_BINDING_DEFAULTS["re_evaluate_policies"],
    )
    policy_engine_mode = SelectField(
        "Its policy bindings", choices=_choices(ENGINE_MODES, ENGINE_LABELS), validate_choice=True
    )
    invalid_response_action = SelectField(
        "When an answer is invalid",
        choices=_choices(INVALID_RESPONSE_ACTIONS, INVALID_RESPONSE_LABELS),
        validate_choice=True,
    )


class StageBindingForm(BindingSettingsForm):
    # Not a checked choice: the view answers an unknown stage id with a 404.
    stage = SelectField("Stage", validate_choice=False)

    def validate_stage(self, field):
        if not (field.data or "").isdigit():
            raise ValidationError("Choose a stage.")


class PolicyBindingForm(FlaskForm):
    """Exactly one of policy, group or user; the page shows one of them at a time."""

    policy = SelectField("Policy", validate_choice=False)
    group = SelectField("Group", validate_choice=False)
    user = StringField(
        "Username", filters=[_strip], validators=[Length(max=150, message="At most 150.")]
    )
    order = _order_field()
    negate = BooleanField("Negate: pass when the subject does not match")
    enabled = BooleanField("Enabled", default=True)
    timeout = WholeNumberField(
        "Timeout in seconds",
        default=30,
        validators=[
            InputRequired(NUMBER_MESSAGE),
            NumberRange(1, 300, "Choose from 1 to 300 seconds."),
        ],
    )
    failure_result = SelectField(
        "When the policy fails with an error",
        choices=_choices(FAILURE_RESULTS, FAILURE_LABELS),
        default="",
        validate_choice=True,
    )

    def chosen_subjects(self) -> list[str]:
        return [name for name in ("policy", "group", "user") if self[name].data]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if len(self.chosen_subjects()) != 1:
            self.form_errors.append("Choose exactly one policy, group or user.")
            return False
        return valid


class ImportForm(FlaskForm):
    file = FileField("Flow file (YAML or JSON)")
    # On confirmation the content comes back from the preview page, never from the cookie.
    content = TextAreaField(validators=[Optional()])
