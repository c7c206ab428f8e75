"""Settings: what an administrator changes while Gatehouse runs (sign-up open or closed).
The keys, their values and their validation live in idp.identity.site_settings; the CLI's
`idp settings` changes the same rows."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from idp.admin.helpers import INVALID, current_admin
from idp.core.extensions import db
from idp.core.forms import Form
from idp.core.i18n import lazy_text as _l
from idp.core.network import client_ip
from idp.identity.site_settings import (
    SETTINGS,
    SettingError,
    change_setting,
    current_settings,
    parse,
)


def _parsed_by_settings(key: str):
    def check(form, field):
        try:
            field.data = parse(key, field.data or "")
        except SettingError as error:
            raise ValidationError(str(error)) from error

    return check


class SiteSettingsForm(Form):
    """One select per known setting, made from idp.identity.site_settings.SETTINGS."""


for _key, _setting in SETTINGS.items():
    setattr(
        SiteSettingsForm,
        _key,
        SelectField(
            _l(_setting.label),
            choices=[SelectChoice(choice, choice) for choice in _setting.choices],
            description=_l(_setting.description),
            validate_choice=False,  # parse() is the one validator, with its own message
            validators=[_parsed_by_settings(_key)],
        ),
    )


def render_settings(form: SiteSettingsForm, status: int = 200):
    page = render_template("admin/settings/edit.html", form=form, settings=SETTINGS)
    return page, status


def site_settings():
    return render_settings(SiteSettingsForm(formdata=None, data=current_settings()))


def save_site_settings():
    form = SiteSettingsForm()
    if not form.validate():
        return render_settings(form, INVALID)
    changed = [
        key
        for key in SETTINGS
        if change_setting(key, form[key].data, user=current_admin(), ip=client_ip())
    ]
    db.session.commit()
    flash(_("Settings saved.") if changed else _("Nothing changed."), "info")
    return redirect(url_for("admin.settings.site_settings"), code=303)
