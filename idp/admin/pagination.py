"""One way to cut a list into pages: `?page=` in the query, a fixed page size."""

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import abort, request, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from idp.core.extensions import db

PAGE_SIZE = 50
# Far beyond any real list; a larger number is a typo or a probe, not a page.
MAX_PAGE = 100_000


@dataclass(frozen=True)
class Page:
    items: list
    number: int
    size: int
    total: int
    # Counted only so far (paginate's count_limit): there are more than `total - 1` rows.
    capped: bool = False

    @property
    def count(self) -> int:
        """How many pages there are (at least one, even for an empty list)."""
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.count


def page_number() -> int:
    """The page asked for in `?page=`; anything but a whole number from 1 up is a 400."""
    text = request.args.get("page", "1").strip()
    if not re.fullmatch(r"[0-9]{1,7}", text) or not 1 <= int(text) <= MAX_PAGE:
        abort(
            400,
            description=_(
                "The page number must be a whole number from 1 to %(max_page)s.", max_page=MAX_PAGE
            ),
        )
    return int(text)


def paginate(statement: Select, size: int = PAGE_SIZE, count_limit: int | None = None) -> Page:
    """One page of the statement's rows (two queries: the count and the page).
    A statement of one column gives its values, of several columns gives rows.

    With `count_limit`, the count stops past that many rows (or past this page, if further):
    a log of a million rows is not counted whole on each view (0.2 s on PostgreSQL)."""
    number = page_number()
    counted = statement.order_by(None)
    horizon = None
    if count_limit is not None:
        horizon = max(count_limit, number * size) + 1
        counted = counted.limit(horizon)
    total = db.session.scalar(select(func.count()).select_from(counted.subquery()))
    result = db.session.execute(statement.limit(size).offset((number - 1) * size))
    is_single = len(statement.column_descriptions) == 1
    items = result.scalars().all() if is_single else result.all()
    capped = horizon is not None and total >= horizon
    return Page(items=list(items), number=number, size=size, total=total, capped=capped)


def page_url(number: int) -> str:
    """This page's address with the same query, showing page `number`."""
    query = [(key, value) for key, value in request.args.items(multi=True) if key != "page"]
    path = url_for(request.endpoint, **(request.view_args or {}))
    return f"{path}?{urlencode([*query, ('page', number)])}"
