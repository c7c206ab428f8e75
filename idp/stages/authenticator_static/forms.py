from flask_wtf import FlaskForm

from idp.options_forms import options_form_for
from idp.stages.authenticator_static.options import AuthenticatorStaticOptions


class CodesSavedForm(FlaskForm):
    """Only a button: "I have saved them" (or, before there are codes, "Create codes")."""


# The admin's settings form for this type.
OptionsForm = options_form_for(AuthenticatorStaticOptions)
