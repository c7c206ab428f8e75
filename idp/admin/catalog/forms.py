"""The forms around a stage's or policy's settings: its name, and the policy Test page. The
settings themselves come from the type's own OptionsForm."""

import ipaddress
import json
from types import MappingProxyType

from sqlalchemy import select
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from idp.admin.fields import Free, strip
from idp.core.extensions import db
from idp.core.forms import Form
from idp.core.i18n import lazy_text as _l
from idp.identity.accounts import find_user, groups_of
from idp.models import Policy, Stage
from idp.policies.types import ANONYMOUS, PolicyUser

MAX_NAME_LENGTH = 200
MAX_CONTEXT_LENGTH = 20_000


def _name_field(model, kind: str) -> StringField:
    def find(name):
        return db.session.scalar(select(model).where(model.name == name))

    return StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter a name.")),
            Length(
                max=MAX_NAME_LENGTH,
                message=_l(
                    "Names are at most %(max_name_length)s characters.",
                    max_name_length=MAX_NAME_LENGTH,
                ),
            ),
            Free(
                find,
                _l("A stage with this name exists already.")
                if kind == "stage"
                else _l("A policy with this name exists already."),
            ),
        ],
    )


class StageForm(Form):
    name = _name_field(Stage, "stage")


class PolicyForm(Form):
    name = _name_field(Policy, "policy")


def chosen_user(username: str):
    """The user an admin typed for a test or a simulation; None for an anonymous visitor."""
    return find_user(username, ("username",)) if username else None


def known_username(form, field):
    if field.data and chosen_user(field.data) is None:
        raise ValidationError(_l("There is no user with this username."))


def ip_address(form, field):
    try:
        ipaddress.ip_address(field.data)
    except ValueError:
        raise ValidationError(_l("Enter an IPv4 or IPv6 address.")) from None


def username_field() -> StringField:
    return StringField(
        _l("User (empty: an anonymous visitor)"),
        filters=[strip],
        validators=[Length(max=150), known_username],
    )


def ip_field() -> StringField:
    return StringField(
        _l("IP address (optional)"), filters=[strip], validators=[Optional(), ip_address]
    )


class PolicyTestForm(Form):
    """Who the policy is asked about, from where, and what the flow would know."""

    username = username_field()
    ip = ip_field()
    context = TextAreaField(
        _l("Context (YAML or JSON, optional)"),
        validators=[Length(max=MAX_CONTEXT_LENGTH)],
        render_kw={"rows": 6},
        description='What the flow would know, e.g. prompt_data: {password: "s3cret"}',
    )

    def validate_context(self, field):
        self.context_mapping()

    @property
    def policy_user(self) -> PolicyUser:
        user = chosen_user(self.username.data)
        return ANONYMOUS if user is None else PolicyUser.from_user(user, groups_of(user))

    def context_mapping(self) -> MappingProxyType:
        import yaml  # only this admin page reads YAML: not imported by every worker

        text = self.context.data or ""
        try:
            value = yaml.safe_load(text) if text.strip() else {}
        except yaml.YAMLError:
            raise ValidationError(_l("This is neither valid YAML nor JSON.")) from None
        if not isinstance(value, dict):
            raise ValidationError(_l("Write a mapping of names to values, e.g. {uid: alice}."))
        # Only what JSON can hold: what a flow's context holds.
        return MappingProxyType(json.loads(json.dumps(value, default=str)))
