from idp.options_forms import options_form_for
from idp.stages.user_login.options import UserLoginOptions

OptionsForm = options_form_for(UserLoginOptions)
