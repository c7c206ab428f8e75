"""The users' search, shared by the user list and a group's members: the users whose
username, email or name contains the text, by username."""

from sqlalchemy import Select, func, or_, select

from idp.models import User

SEARCHED_COLUMNS = (User.username, User.email, User.name)


def search_users(text: str, statement: Select | None = None) -> Select:
    """`statement` (every user unless given) by username, narrowed to those matching `text`."""
    statement = (select(User) if statement is None else statement).order_by(
        func.lower(User.username), User.id
    )
    if not text:
        return statement
    term = text.lower()
    return statement.where(
        or_(*(func.lower(column).contains(term, autoescape=True) for column in SEARCHED_COLUMNS))
    )
