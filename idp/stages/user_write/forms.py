from idp.options_forms import options_form_for
from idp.stages.user_write.options import UserWriteOptions

OptionsForm = options_form_for(UserWriteOptions)
