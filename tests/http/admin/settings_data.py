"""What a browser sends back from a settings form left at its defaults."""

from idp.core.options_forms import PREFIX


def default_form_data(app, row_type) -> dict:
    with app.test_request_context():
        form = row_type.options_form.prefilled({})
        return {f"{PREFIX}{field.short_name}": _sent(field) for field in form.option_fields}


def _sent(field):
    if field.type == "BooleanField":
        return "y" if field.data else ""
    if field.type == "SelectMultipleField":
        return [str(value) for value in field.data]
    return "" if field.data is None else str(field.data)
