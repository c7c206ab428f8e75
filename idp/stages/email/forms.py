from flask_wtf import FlaskForm


class ResendForm(FlaskForm):
    """The stage's only button, "Send again": the CSRF token is all it carries."""


# The admin's settings form for this type.
