from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from idp.core.forms import Form
from idp.stages.captcha.providers import PROVIDERS

# Provider tokens are around 2 KB; anything far longer is not one.
MAX_TOKEN_LENGTH = 8192


class CharactersForm(Form):
    answer = StringField(
        validators=[
            InputRequired(message=_l("Please type the characters in the picture.")),
            Length(max=32, message=_l("That is far longer than the characters in the picture.")),
        ]
    )


def _provider_form(response_field: str) -> type[Form]:
    """The provider's widget posts its token under its own field name."""
    response = StringField(
        name=response_field,
        validators=[
            InputRequired(message=_l("Please complete the check above.")),
            Length(max=MAX_TOKEN_LENGTH, message=_l("That check could not be read.")),
        ],
    )
    return type("ProviderForm", (Form,), {"response": response})


PROVIDER_FORMS = {name: _provider_form(p.response_field) for name, p in PROVIDERS.items()}


def form_class_for(options) -> type[Form]:
    if options.mode == "provider":
        return PROVIDER_FORMS[options.provider]
    return CharactersForm


# The admin's settings form for this type.
