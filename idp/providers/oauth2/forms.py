from idp.core.options_forms import options_form_for
from idp.providers.oauth2.options import OAuth2Options

# The admin's settings form for this type.
OptionsForm = options_form_for(OAuth2Options)
