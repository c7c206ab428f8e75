"""What the admin's forms share: a filter and a uniqueness check."""

from wtforms.validators import ValidationError


def strip(value):
    return value.strip() if isinstance(value, str) else value


class Free:
    """The value names no other row than the one being edited (`form.editing`)."""

    def __init__(self, find, message: str):
        self.find = find
        self.message = message

    def __call__(self, form, field):
        found = self.find(field.data) if field.data else None
        editing = getattr(form, "editing", None)
        if found is not None and (editing is None or found.id != editing.id):
            raise ValidationError(self.message)
