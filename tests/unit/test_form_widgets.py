"""Inputs render the very text wtforms' own html_params gives, with the faster one."""

import pytest
from markupsafe import Markup
from wtforms import Form, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import core as wtforms_widgets

from idp.core import form_widgets

ATTRIBUTE_SETS = [
    {},
    {"name": "uid_field", "id": "uid_field", "type": "text", "value": ""},
    {"autofocus": True, "required": True, "disabled": False, "autocomplete": "username"},
    {"class_": "wide", "for_": "x", "data_webauthn_response": "", "aria_describedby": "a-b"},
    {"value": 'say "hi" & <bye>', "title": "l'apostrophe"},
    {"value": Markup('already "safe" <b>')},
    {"maxlength": 254, "min": 0, "step": 1.5, "value": None},
    {'we"ird': "key", "<tag>": True},
]


@pytest.mark.parametrize("attributes", ATTRIBUTE_SETS, ids=range(len(ATTRIBUTE_SETS)))
def test_attributes_are_written_as_wtforms_writes_them(attributes):
    ours = form_widgets.html_params(**attributes)
    assert isinstance(ours, Markup)
    assert ours == wtforms_widgets.html_params(**attributes)


class SignInForm(Form):
    uid_field = StringField(validators=[DataRequired(), Length(max=254)])
    password = PasswordField()
    token = HiddenField(default='a "token"')


def test_a_form_renders_the_same_with_either(monkeypatch):
    def rendered():
        form = SignInForm()
        return [
            str(form.uid_field(autocomplete="username", autofocus=True, spellcheck="false")),
            str(form.password(autocomplete="current-password", required=True)),
            str(form.token()),
        ]

    monkeypatch.setattr(
        wtforms_widgets.Input, "html_params", staticmethod(form_widgets.html_params)
    )
    ours = rendered()
    monkeypatch.setattr(
        wtforms_widgets.Input, "html_params", staticmethod(wtforms_widgets.html_params)
    )
    assert ours == rendered()
    assert 'maxlength="254"' in ours[0] and "required" in ours[0]
