"""Brand: the product name, logo, favicon, accent colour, footer links and the mails' sender
and subjects, like authentik's brands. Values are validated by idp.brand.settings and the
uploads by idp.brand.files; every page and mail reads them from there."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.fields import ColorField
from wtforms.validators import ValidationError

from idp.admin.helpers import INVALID, current_admin
from idp.brand.colors import LIGHT_GROUNDS, contrast_ratio, theme_for
from idp.brand.files import KINDS, TYPE_NAMES, checked_upload, remove_unused_files, store
from idp.brand.settings import (
    PLACEHOLDER,
    TEXT_FIELDS,
    BrandError,
    current_brand,
    forget_cached_brand,
    parse_value,
    save_brand,
)
from idp.core.extensions import db
from idp.core.forms import Form
from idp.core.i18n import lazy_text as _l
from idp.core.network import client_ip


def _parsed(form, field):
    try:
        parse_value(field.name, field.data or "")
    except BrandError as error:
        raise ValidationError(str(error)) from error


def _checked_file(form, field):
    storage = field.data
    if not storage or not getattr(storage, "filename", ""):
        return
    largest = KINDS[field.name][1]
    try:
        form.uploads[field.name] = checked_upload(field.name, storage.read(largest + 1))
    except BrandError as error:
        raise ValidationError(str(error)) from error


def _kinds_help(kind: str):
    types, largest = KINDS[kind]
    return _l(
        "%(types)s, at most %(size)s KiB.",
        types=", ".join(TYPE_NAMES[name] for name in types),
        size=largest // 1024,
    )


SUBJECT_HELP = _l("%(placeholder)s is replaced by the product name.", placeholder=PLACEHOLDER)


class BrandForm(Form):
    product_name = StringField(
        _l("Product name"),
        validators=[_parsed],
        description=_l("Shown in the header, page titles and mails instead of Gatehouse."),
    )
    accent_color = ColorField(
        _l("Accent colour"),
        validators=[_parsed],
        description=(
            _l(
                "Buttons and links, as #rrggbb. The text on it is white or black, whichever "
                "keeps it readable, and links are darkened or lightened where needed."
            )
        ),
    )
    logo = FileField(
        _l("Upload a new logo"), validators=[_checked_file], description=_kinds_help("logo")
    )
    remove_logo = BooleanField(_l("Remove the logo"))
    favicon = FileField(
        _l("Upload a new favicon"), validators=[_checked_file], description=_kinds_help("favicon")
    )
    remove_favicon = BooleanField(_l("Remove the favicon"))
    footer_links = TextAreaField(
        _l("Footer links"),
        validators=[_parsed],
        render_kw={"rows": 4},
        description=_l("One link a line: Label | https://address (for example a privacy notice)."),
    )
    mail_sender_name = StringField(
        _l("Mail sender name"),
        validators=[_parsed],
        description=(
            _l("The name mails come from; empty: the name in IDP_SMTP_FROM, else the product name.")
        ),
    )
    sign_in_link_subject = StringField(
        _l("Subject of the sign-in link mail"), validators=[_parsed], description=SUBJECT_HELP
    )
    authenticator_added_subject = StringField(
        _l('Subject of the "a way to sign in was added" mail'),
        validators=[_parsed],
        description=SUBJECT_HELP,
    )
    account_exists_subject = StringField(
        _l('Subject of the "someone tried to sign up with your address" mail'),
        validators=[_parsed],
        description=SUBJECT_HELP,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.uploads = {}


def render_brand(form: BrandForm, status: int = 200):
    brand = current_brand()
    theme = theme_for(brand.accent_color)
    page = render_template(
        "admin/brand/edit.html",
        form=form,
        text_fields=TEXT_FIELDS,
        theme=theme,
        ink_contrast=contrast_ratio(theme.accent, theme.accent_ink),
        link_contrast=min(contrast_ratio(theme.light_text, ground) for ground in LIGHT_GROUNDS),
    )
    return page, status


def _form_values() -> dict:
    brand = current_brand()
    values = {name: getattr(brand, name) for name in TEXT_FIELDS}
    values["footer_links"] = brand.footer_links_text
    return values


def brand():
    return render_brand(BrandForm(formdata=None, data=_form_values()))


def save_brand_settings():
    form = BrandForm()
    if not form.validate():
        return render_brand(form, INVALID)
    changes = {name: form[name].data for name in TEXT_FIELDS}
    for kind in ("logo", "favicon"):
        if kind in form.uploads:
            changes[kind] = store(form.uploads[kind])
        elif form[f"remove_{kind}"].data:
            changes[kind] = ""
    changed = save_brand(changes, user=current_admin(), ip=client_ip())
    remove_unused_files()
    db.session.commit()
    forget_cached_brand()
    flash(_("Brand saved.") if changed else _("Nothing changed."), "info")
    return redirect(url_for("admin.brand.brand"), code=303)
