from idp.options_forms import options_form_for
from idp.stages.user_delete.options import UserDeleteOptions

OptionsForm = options_form_for(UserDeleteOptions)
