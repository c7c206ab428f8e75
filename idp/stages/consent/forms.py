from flask_wtf import FlaskForm

from idp.options_forms import options_form_for
from idp.stages.consent.options import ConsentOptions


class ConsentForm(FlaskForm):
    """Agreeing is pressing the button; the form carries only its CSRF token."""


# The admin's settings form for this type.
OptionsForm = options_form_for(ConsentOptions)
