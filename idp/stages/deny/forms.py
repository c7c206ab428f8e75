from idp.options_forms import options_form_for
from idp.stages.deny.options import DenyOptions

OptionsForm = options_form_for(DenyOptions)
