from flask_wtf import FlaskForm


class CodesSavedForm(FlaskForm):
    """Only a button: "I have saved them" (or, before there are codes, "Create codes")."""


# The admin's settings form for this type.
