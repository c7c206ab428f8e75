"""Choosing a group in an admin form (a user's Add to group, a policy binding's group): a
select of every group while there are few, a text field for the group's name once there are
more than a select can sensibly hold. The page reads at most PICKER_LIMIT + 1 groups either
way, however many the site has (500 groups were 500 options in each such select).

The count can cross the limit between showing a form and sending it: the field sends, in a
hidden input beside it (`<name>_given_as`: `id` or `name`), how it was shown, and is read that
way whatever the count is now."""

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import Select, func, select
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import TextInput

from idp.core.extensions import db
from idp.core.numbers import whole_number
from idp.models import Group, User, group_members

PICKER_LIMIT = 100
GIVEN_AS = ("id", "name")  # how the field was shown: a select of ids, or a box for a name


class GroupField(SelectField):
    """A select of groups, or a text field for a group's name: offer_groups decides. Not a
    checked choice: the route finds the group (chosen_group)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)
        self.sent_as: str | None = None  # how the form that was sent showed the field

    @property
    def given_as_name(self) -> str:
        return f"{self.name}_given_as"

    @property
    def shown_as(self) -> str:
        return "name" if isinstance(self.widget, TextInput) else "id"

    def process(self, formdata, *args, **kwargs):
        super().process(formdata, *args, **kwargs)
        sent = formdata.getlist(self.given_as_name) if formdata else []
        self.sent_as = sent[0] if len(sent) == 1 and sent[0] in GIVEN_AS else None

    def __call__(self, **kwargs):
        hint = Markup('<input type="hidden" name="{}" value="{}">').format(
            self.given_as_name, self.shown_as
        )
        return super().__call__(**kwargs) + hint

    def _value(self) -> str:
        """What the text field shows."""
        return "" if self.data is None else str(self.data)


def _candidates(not_joined_by: User | None) -> Select:
    statement = select(Group.id, Group.name)
    if not_joined_by is not None:
        theirs = select(group_members.c.group_id).where(group_members.c.user_id == not_joined_by.id)
        statement = statement.where(Group.id.not_in(theirs))
    return statement


def names_are_typed(not_joined_by: User | None = None) -> bool:
    """More groups to offer than a select holds: the field takes a group's name."""
    first = _candidates(not_joined_by).limit(PICKER_LIMIT + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(first)) > PICKER_LIMIT


def offer_groups(field, not_joined_by: User | None = None) -> None:
    """Fill the field's choices, or turn it into a text field for the name: one statement."""
    rows = db.session.execute(
        _candidates(not_joined_by).order_by(func.lower(Group.name)).limit(PICKER_LIMIT + 1)
    ).all()
    if len(rows) > PICKER_LIMIT:
        field.widget = TextInput()
        field.choices = []
        field.description = _("Type the group's name.")
    else:
        field.choices = [SelectChoice("", _("Choose a group…"))] + [
            SelectChoice(str(key), name) for key, name in rows
        ]
    if field.sent_as not in (None, field.shown_as):
        field.data = None  # shown again the other way: an id is no name, and a name no id


def name_was_given(field: GroupField, not_joined_by: User | None = None) -> bool:
    """Whether the field sent a group's name rather than its id: as the form that was sent
    showed the field, else (a script that sends the value alone) as it would be shown now."""
    if field.sent_as is not None:
        return field.sent_as == "name"
    return names_are_typed(not_joined_by)


def chosen_group(field: GroupField, not_joined_by: User | None = None) -> Group | None:
    """The group the field names: by its id from a select, by its name when typed."""
    if name_was_given(field, not_joined_by):
        return db.session.scalar(select(Group).where(Group.name == (field.data or "").strip()))
    number = whole_number(field.data)
    return db.session.get(Group, number) if number is not None else None


def starting_value(group_id: int | None) -> str:
    """The field's value for a group already chosen (editing a binding)."""
    if group_id is None:
        return ""
    if names_are_typed():
        group = db.session.get(Group, group_id)
        return group.name if group is not None else ""
    return str(group_id)
