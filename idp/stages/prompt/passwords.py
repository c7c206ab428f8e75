"""Password fields of a prompt: what is checked with the rest of the form, and when a typed
password is shown back.

A password typed into a form that comes back for another field's sake (a username taken, an
address mistyped) is kept in its field, so the visitor does not type it twice. It is put back
only into the answer to that same POST, which is never cached (the executor sends no-store)
and never redirected to; a password that is itself refused, or that does not match its
repeat, is never shown back, and no GET page ever holds one.
"""

from flask import request
from wtforms.widgets import PasswordInput


class KeptPasswordInput(PasswordInput):
    """A password input that shows the value typed only when the form answers a POST and the
    form's problems lie elsewhere (`kept_password_fields`)."""

    def __init__(self):
        super().__init__(hide_value=True)

    def __call__(self, field, **kwargs):
        form = getattr(field, "owner_form", None)
        self.hide_value = not (form is not None and field.short_name in kept_password_fields(form))
        try:
            return super().__call__(field, **kwargs)
        finally:
            self.hide_value = True


def password_keys(form) -> list[str]:
    return [field.short_name for field in form if isinstance(field.widget, KeptPasswordInput)]


def kept_password_fields(form) -> set[str]:
    """The password fields whose value goes back into the page: in a POST's own answer,
    when no password field has a problem and some other field does."""
    if request.method != "POST":
        return set()
    keys = password_keys(form)
    if any(form[key].errors for key in keys):
        return set()
    others = [field for field in form if field.short_name not in keys]
    if not (form.form_errors or any(field.errors for field in others)):
        return set()
    return {key for key in keys if form[key].data}
