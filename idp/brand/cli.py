"""`idp brand show` and `idp brand set KEY VALUE`: the admin's Brand page from the command
line (the logo and favicon are uploaded in the admin only)."""

import click

from idp.brand.settings import (
    TEXT_FIELDS,
    BrandError,
    forget_cached_brand,
    read_brand,
    save_brand,
)
from idp.core.cli_support import CommandGroup, fail
from idp.core.extensions import db

brand_group = CommandGroup("brand", help="Show and change the brand (name, colour, links, mails).")


def _shown(brand, key: str) -> str:
    return brand.footer_links_text if key == "footer_links" else str(getattr(brand, key))


@brand_group.command("show")
def brand_show():
    """Print each value as KEY VALUE (footer links one a line, `Label | URL`)."""
    brand = read_brand()
    for key in (*TEXT_FIELDS, "logo", "favicon"):
        value = _shown(brand, key)
        if "\n" in value:
            click.echo(key)
            click.echo("\n".join(f"  {line}" for line in value.splitlines()))
        else:
            click.echo(f"{key} {value}".rstrip())


@brand_group.command("set")
@click.argument("key")
@click.argument("value")
def brand_set(key, value):
    """Set KEY to VALUE, e.g. `idp brand set accent_color '#0b6e4f'`; footer_links takes
    `Label | https://address` lines."""
    if key not in TEXT_FIELDS:
        fail(f"unknown brand key {key!r}; known keys: {', '.join(TEXT_FIELDS)}")
    try:
        changed = save_brand({key: value})
    except BrandError as error:
        db.session.rollback()
        fail(f"{key}: {error}")
    db.session.commit()
    forget_cached_brand()
    state = "set to" if changed else "was already"
    click.echo(f"{key} {state} {_shown(read_brand(), key)}")
