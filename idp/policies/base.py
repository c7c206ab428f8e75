from idp.core.options import NoOptions, parse_options
from idp.core.options_forms import OptionsForm, options_form_for


class PolicyType:
    """What every policy type has; a type sets `name`, `label`, `Options` and `evaluate`."""

    name: str
    label: str
    description: str = ""
    Options: type = NoOptions
    # Its authentik counterpart, for the blueprint reader (idp/transfer/authentik_models.py).
    authentik = None

    @property
    def options_form(self) -> type[OptionsForm]:
        """The admin's settings form, derived from `Options` (the same class every time). A
        type that needs more than the derived form overrides this."""
        return options_form_for(self.Options)

    def parse_options(self, mapping):
        return parse_options(self.Options, mapping)
