"""A user's groups as the user's page changes them (the routes are in routes.py): the Add to
group form and the groups it offers."""

from flask_babel import gettext as _
from sqlalchemy import func, select
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from idp.core.extensions import db
from idp.core.forms import Form
from idp.core.i18n import lazy_text as _l
from idp.core.numbers import whole_number
from idp.models import Group, User, group_members


class JoinGroupForm(Form):
    # Not a checked choice: an unknown group id is a 404, a taken one a message.
    group = SelectField(_l("Add to group"), validate_choice=False)

    def validate_group(self, field):
        if whole_number(field.data) is None:
            raise ValidationError(_("Choose a group."))


def groups_to_join(user: User) -> list[SelectChoice]:
    """The groups `user` is not in, by name, for the Add to group select."""
    theirs = select(group_members.c.group_id).where(group_members.c.user_id == user.id)
    rows = db.session.execute(
        select(Group.id, Group.name).where(Group.id.not_in(theirs)).order_by(func.lower(Group.name))
    )
    return [SelectChoice("", _("Choose a group…"))] + [
        SelectChoice(str(key), name) for key, name in rows
    ]
