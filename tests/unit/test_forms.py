"""The base of Gatehouse's forms (idp/core/forms.py)."""

from idp.core.forms import wtforms_messages


def test_wtforms_messages_fall_back_to_english_for_a_language_without_a_catalog():
    assert wtforms_messages("de").gettext("This field is required.") == "Dieses Feld wird benötigt."
    for language in ("eo", "None"):
        messages = wtforms_messages(language)
        assert messages.gettext("This field is required.") == "This field is required."
