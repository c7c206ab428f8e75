from sqlalchemy import select
from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from idp.core.extensions import db
from idp.core.i18n import N_
from idp.core.i18n import lazy_text as _l
from idp.core.options import OptionsError
from idp.core.options_forms import options_form_for
from idp.models import ScopeMapping
from idp.providers.oauth2.options import OAuth2Options

SCOPE_MAPPINGS_HELP = _l(
    "Scopes defined under Scope mappings that the application may ask for too."
)


def _chosen(field) -> list[str]:
    return list(field.data or [])


class OptionsForm(options_form_for(OAuth2Options)):
    """The derived settings form, with the scope mappings to offer as checkboxes of those that
    exist rather than names typed one per line."""

    scope_mappings = SelectMultipleField(
        _l("Scope mappings"),
        description=SCOPE_MAPPINGS_HELP,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,  # parsed() names an unknown one, with the other problems
    )
    readers = {**options_form_for(OAuth2Options).readers, "scope_mappings": _chosen}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope_mappings.choices = [
            (name, f"{name}: {description}" if description else name)
            for name, description in db.session.execute(
                select(ScopeMapping.name, ScopeMapping.description).order_by(ScopeMapping.name)
            )
        ]

    @classmethod
    def prefilled(cls, stored):
        form = super().prefilled(stored)
        form.scope_mappings.data = list((stored or {}).get("scope_mappings") or ())
        return form

    def parsed(self) -> dict | None:
        options = super().parsed()
        if options is None:
            return None
        known = {value for value, _label in self.scope_mappings.choices}
        unknown = [name for name in options["scope_mappings"] if name not in known]
        if unknown:
            self.place_error(
                OptionsError(
                    "scope_mappings",
                    N_("there is no scope mapping %(unknown)s"),
                    unknown=repr(unknown[0]),
                )
            )
            return None
        return options
