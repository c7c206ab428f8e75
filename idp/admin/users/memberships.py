"""A user's groups as the user's page changes them (the routes are in routes.py): the Add to
group form. The groups it offers are idp.admin.group_picker's: a select of the groups the user
is not in while there are few, a text field for a group's name when there are many."""

from flask_babel import gettext as _
from wtforms.validators import Length, ValidationError

from idp.admin.group_picker import GroupField
from idp.core.forms import Form
from idp.core.i18n import lazy_text as _l


class JoinGroupForm(Form):
    # Not a checked choice: an unknown group is a 404 (chosen) or a message (typed), a taken
    # one a message.
    group = GroupField(
        _l("Add to group"),
        validators=[Length(max=150, message=_l("Group names are at most 150 characters long."))],
    )

    def validate_group(self, field):
        if not (field.data or "").strip():
            raise ValidationError(_("Choose a group."))
