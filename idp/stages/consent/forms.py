from flask_wtf import FlaskForm
from wtforms import HiddenField

DECLINE = "decline"


class ConsentForm(FlaskForm):
    """Agreeing is pressing the button; the form carries only its CSRF token. In an
    authorization flow a second form sends decision=decline."""

    decision = HiddenField()


# The admin's settings form for this type.
