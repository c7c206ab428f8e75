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
# How deep a list that can be narrowed (the users' search, the event log's filters) is paged:
# OFFSET reads every row it skips, so the 2,000th page of 100,000 users took 75 ms and the
# 20,000th of a million events 0.4 s (bench/many_rows.py). Past it, narrow the list.
DEEPEST_ROW = 10_000


@dataclass(frozen=True)
class Page:
    items: list
    number: int
    size: int
    total: int
    # Counted only so far (paginate's count_limit): there are more than `total - 1` rows.
    capped: bool = False
    # The last page that may be asked for (paginate's deepest_row); None: no such limit.
    deepest: int | None = None

    @property
    def count(self) -> int:
        """How many pages there are (at least one, even for an empty list)."""
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.count and not self.stops_here

    @property
    def stops_here(self) -> bool:
        """There are rows after this page, but no further page: the list must be narrowed."""
        if self.deepest is None:
            return False
        return self.number >= self.deepest and self.count > self.deepest


def page_number(max_page: int = MAX_PAGE) -> int:
    """The page asked for in `?page=`; anything but a whole number from 1 to max_page is a 400."""
    text = request.args.get("page", "1").strip()
    if not re.fullmatch(r"[0-9]{1,7}", text) or not 1 <= int(text) <= max_page:
        abort(
            400,
            description=_(
                "The page number must be a whole number from 1 to %(max_page)s.", max_page=max_page
            ),
        )
    return int(text)


def paginate(
    statement: Select,
    size: int = PAGE_SIZE,
    count_limit: int | None = None,
    deepest_row: int | None = None,
    counted_when_needed: bool = False,
) -> Page:
    """One page of the statement's rows (two queries: the count and the page).
    A statement of one column gives its values, of several columns gives rows.

    With `count_limit`, the count stops past that many rows (or past this page, if further):
    a log of a million rows is not counted whole on each view (0.2 s on PostgreSQL).
    With `deepest_row`, no page starts past that row: a larger page number is a 400.
    With `counted_when_needed` (one-column statements), the page is read first and counted only
    when it cannot tell the count: a search that must read every row to filter reads them once
    when it matches less than a page (or nothing), and twice, as without, when it matches more."""
    deepest = None if deepest_row is None else max(1, deepest_row // size)
    number = page_number(MAX_PAGE if deepest is None else deepest)
    if counted_when_needed:
        items, total = _page_counted_when_needed(statement, number, size)
        return Page(items=items, number=number, size=size, total=total, deepest=deepest)
    counted = statement.order_by(None)
    horizon = None
    if count_limit is not None:
        horizon = max(count_limit, number * size) + 1
        counted = counted.limit(horizon)
    total = _count(counted)
    result = db.session.execute(statement.limit(size).offset((number - 1) * size))
    is_single = len(statement.column_descriptions) == 1
    items = result.scalars().all() if is_single else result.all()
    capped = horizon is not None and total >= horizon
    return Page(
        items=list(items), number=number, size=size, total=total, capped=capped, deepest=deepest
    )


def _count(statement: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(statement.subquery()))


def _page_counted_when_needed(statement: Select, number: int, size: int) -> tuple[list, int]:
    """The page's values, and how many rows there are in all. A page that is not full is the
    last: the rows before it and its own. An empty first page: none. A full page, or an empty
    one past the end, is counted apart. (A count beside each row, with a window, held every
    matching row before the LIMIT: a search matching most users took 3 times as long.)"""
    values = list(db.session.scalars(statement.limit(size).offset((number - 1) * size)))
    if 0 < len(values) < size or (not values and number == 1):
        return values, (number - 1) * size + len(values)
    return values, _count(statement.order_by(None))


def page_url(number: int) -> str:
    """This page's address with the same query, showing page `number`."""
    query = [(key, value) for key, value in request.args.items(multi=True) if key != "page"]
    path = url_for(request.endpoint, **(request.view_args or {}))
    return f"{path}?{urlencode([*query, ('page', number)])}"
