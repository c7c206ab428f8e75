from wtforms import HiddenField

from idp.core.forms import Form

DECLINE = "decline"


class ConsentForm(Form):
    """Agreeing is pressing the button; the form carries only its CSRF token. In an
    authorization flow a second form sends decision=decline."""

    decision = HiddenField()


# The admin's settings form for this type.
