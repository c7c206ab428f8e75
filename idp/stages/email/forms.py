from flask_wtf import FlaskForm

from idp.options_forms import options_form_for
from idp.stages.email.options import EmailOptions


class ResendForm(FlaskForm):
    """The stage's only button, "Send again": the CSRF token is all it carries."""


# The admin's settings form for this type.
OptionsForm = options_form_for(EmailOptions)
