from idp.core.forms import Form


class CodesSavedForm(Form):
    """Only a button: "I have saved them" (or, before there are codes, "Create codes")."""


# The admin's settings form for this type.
