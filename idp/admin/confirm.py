"""Asking before a removal: a page of its own without JavaScript, or (htmx) the same question
opened in place next to what it removes. The answer is a POST with its CSRF token."""

from dataclasses import dataclass

from flask import render_template

from idp.core.forms import Form
from idp.core.http import VARY_ON_HTMX, is_htmx


@dataclass(frozen=True)
class Confirmation:
    title: str
    # What removing it does, one sentence each.
    consequences: tuple[str, ...]
    action: str  # where the POST goes
    button: str
    cancel: str  # where Cancel goes


def ask(page_template: str, confirmation: Confirmation, **context):
    """The question as a page (extending `page_template`'s layout) or, for htmx, alone."""
    template = "admin/_confirm_dialog.html" if is_htmx() else page_template
    page = render_template(template, confirmation=confirmation, form=Form(), **context)
    return page, 200, VARY_ON_HTMX
