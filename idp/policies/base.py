from collections.abc import Callable

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

    def rules(self, options) -> tuple[str, ...]:
        """What a person should know before answering, as (the prompt field it is about,
        rule, rule, ...); () for a type with nothing to say up front. Prompt stages show
        these beside the field, before the first try."""
        return ()

    def prepare(self, options) -> Callable:
        """How to answer with these options: a function of the policy request, made once for a
        binding the engine keeps (a cached flow's). A type with work to do once for its options
        (an expression's compilation) does it here; evaluate(request, options) is the same
        answer."""
        evaluate = self.evaluate
        return lambda request: evaluate(request, options)

    def parse_options(self, mapping):
        return parse_options(self.Options, mapping)
