from idp.options import NoOptions
from idp.options_forms import options_form_for

OptionsForm = options_form_for(NoOptions)
