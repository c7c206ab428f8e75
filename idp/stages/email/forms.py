from idp.core.forms import Form


class ResendForm(Form):
    """The stage's only button, "Send again": the CSRF token is all it carries."""


# The admin's settings form for this type.
