from flask_wtf import FlaskForm


class ConsentForm(FlaskForm):
    """Agreeing is pressing the button; the form carries only its CSRF token."""


# The admin's settings form for this type.
