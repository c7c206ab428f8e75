"""What every stage type has. A type overrides only what it needs.

The executor calls, in this order: is_satisfied (pass over it?), on_reach (once, on arrival),
build_form and render (to show it), then submit with the validated form. A stage reads the
StageContext and answers with an Outcome; it never writes the plan or commits itself.
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from flask import Blueprint

from idp.core.forms import Form
from idp.core.options import NoOptions, options_of, parse_options
from idp.core.options_forms import OptionsForm, options_form_for
from idp.flows.context import StageContext
from idp.flows.outcomes import Outcome


class StageType(ABC):
    name: str
    label: str
    description: str = ""
    Options: type = NoOptions
    # None: the stage asks nothing and runs as soon as it is reached.
    form_class: type[Form] | None = None
    # Its own routes (an email link, a QR code), registered by the factory.
    blueprint: Blueprint | None = None
    # The label of the button shown when a stage that asks nothing needs a confirmation
    # (a cross-site request reached it).
    confirm_label = "Continue"
    # Its authentik counterpart, for the blueprint reader (idp/transfer/authentik_models.py).
    authentik = None

    @property
    def template(self) -> str:
        return f"stages/{self.name}/stage.html"

    @property
    def is_interactive(self) -> bool:
        return self.form_class is not None

    def package_blueprint(self) -> Blueprint:
        """The type's own Blueprint, or one that only serves its templates."""
        if self.blueprint is not None:
            return self.blueprint
        return Blueprint(f"stage_{self.name}", type(self).__module__, template_folder="templates")

    @property
    def options_form(self) -> type[OptionsForm]:
        """The admin's settings form, derived from `Options` (the same class every time). A
        type that needs more than the derived form overrides this."""
        return options_form_for(self.Options)

    def referenced_policies(self, options) -> tuple[str, ...]:
        """Names of policies the options use, so flow files can carry and check them."""
        return ()

    def parse_options(self, mapping: Mapping[str, Any]):
        """The type's Options from stored or imported values; raises OptionsError."""
        return parse_options(self.Options, mapping)

    def options_of(self, stage):
        """The stage's parsed options (kept with a cached flow's stage); raises OptionsError."""
        return options_of(stage, self.Options)

    def build_form(self, ctx: StageContext) -> Form:
        return self.form_class()

    def render(self, ctx: StageContext) -> dict:
        """Extra variables for the stage's template."""
        return {}

    def is_satisfied(self, ctx: StageContext) -> bool:
        """True when there is nothing to ask (consent already given): the stage is passed
        over. It must only read."""
        return False

    def on_reach(self, ctx: StageContext) -> dict | None:
        """Called when the stage becomes current and acting is allowed (a POST, or a GET whose
        Fetch Metadata says this site or the user sent it; a GET without it never acts, see
        idp.core.fetch_metadata). Returns plan-context updates, or None. Use it for what must happen
        once on arrival (sending an email); the stage keeps track of "once" in the context."""
        return None

    @abstractmethod
    def submit(self, ctx: StageContext, form: Form | None) -> Outcome:
        """Decide from the validated form (None for a stage that asks nothing)."""
