"""How this Gatehouse is run, and what an administrator should fix: mail that only goes to the
log, administrators without a second factor, open sign-up, the development server, the
database and its migrations, the version. Read from the config, the request's server and the
facts the dashboard's one counting query brings (`counts`); the migrations cost one query."""

import re
from dataclasses import dataclass, replace
from functools import cache
from importlib import metadata
from pathlib import Path

from flask import current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import exists, func, literal, or_, select, text
from sqlalchemy.exc import SQLAlchemyError

from idp.brand.settings import current_brand
from idp.core.extensions import db
from idp.identity.site_settings import SETTINGS, SettingError, parse
from idp.models import SiteSetting, TotpDevice, User, WebAuthnDevice

PACKAGE = "gatehouse"
REVISION_LINE = re.compile(r"^revision\b[^=]*=\s*[\"']([0-9A-Za-z_]+)[\"']", re.M)
DOWN_REVISION_LINE = re.compile(r"^down_revision\b[^=]*=(.*)$", re.M)
QUOTED = re.compile(r"[\"']([0-9A-Za-z_]+)[\"']")


@dataclass(frozen=True)
class Concern:
    """A warning on the dashboard: what is wrong, and a link to where it is fixed."""

    key: str  # mail, mfa, signup, server, database: also the anchor on the health page
    text: str
    fix_url: str
    fix_words: str


@dataclass(frozen=True)
class Schema:
    """Where the database's migrations stand against the code's."""

    database: tuple[str, ...]  # revisions stamped in the database; () when it has none
    code: tuple[str, ...]  # the head revisions of migrations/versions
    is_tracked: bool  # the database has an alembic_version table

    @property
    def is_current(self) -> bool:
        return self.is_tracked and set(self.database) == set(self.code)


@dataclass(frozen=True)
class Health:
    version: str
    server: str
    is_development_server: bool
    is_debug: bool
    database_kind: str
    database_version: str
    schema: Schema
    mail: str
    is_mail_logged: bool
    concerns: tuple[Concern, ...]


def _has_second_factor(user_id):
    return or_(
        exists().where(TotpDevice.user_id == user_id),
        exists().where(WebAuthnDevice.user_id == user_id),
    )


def _viewer_without_mfa():
    # Outside a request (the CLI, a test's app context) nobody is looking.
    viewer = getattr(current_user, "id", None)
    return literal(False) if viewer is None else ~_has_second_factor(viewer)


def health_columns() -> list:
    """Columns for the dashboard's counting query: the administrators (active ones) without an
    authenticator app or a passkey, the first of them, whether the one looking is among them,
    and the stored sign-up setting."""
    unprotected = select(User.id).where(
        User.is_superuser.is_(True), User.is_active.is_(True), ~_has_second_factor(User.id)
    )
    return [
        select(func.count())
        .select_from(unprotected.subquery())
        .scalar_subquery()
        .label("admins_without_mfa"),
        select(func.min(unprotected.subquery().c.id))
        .scalar_subquery()
        .label("first_admin_without_mfa"),
        _viewer_without_mfa().label("me_without_mfa"),
        select(SiteSetting.value)
        .where(SiteSetting.key == "enrollment")
        .scalar_subquery()
        .label("enrollment"),
    ]


def check(counts: dict) -> Health:
    """Everything the dashboard and the health page show, from `counts` (health_columns)."""
    config = current_app.config
    software = request.environ.get("SERVER_SOFTWARE", "")
    is_development = current_app.debug or software.startswith("Werkzeug")
    kind, version = database_kind()
    health = Health(
        version=gatehouse_version(),
        server=software or _("not reported by the server"),
        is_development_server=is_development,
        is_debug=current_app.debug,
        database_kind=kind,
        database_version=version,
        schema=schema_state(),
        mail=mail_in_words(config),
        is_mail_logged=not config["SMTP_HOST"],
        concerns=(),
    )
    return replace(health, concerns=tuple(concerns_of(health, counts)))


def concerns_of(health: Health, counts: dict):
    if health.is_mail_logged:
        yield Concern(
            "mail",
            _(
                "Mail goes to the log, not to anyone's inbox: no SMTP server is set. Sign-up "
                "confirmations, recovery links and sign-in links reach nobody."
            ),
            url_for("admin.dashboard.health") + "#mail",
            _("How to set up mail"),
        )
    if counts["admins_without_mfa"]:
        yield _mfa_concern(counts)
    if _enrollment(counts["enrollment"]) == "on":
        yield Concern(
            "signup",
            _("Sign-up is open: anyone who finds the sign-in page can create an account."),
            url_for("admin.settings.site_settings") + "#enrollment",
            _("Close it in Settings if you did not mean it"),
        )
    if health.is_development_server:
        if health.is_debug:
            words = _(
                "Gatehouse runs in debug mode, which is not made for real use: run it with "
                "gunicorn behind a proxy."
            )
        else:
            words = _(
                "Gatehouse runs on the development server, which is not made for real use: run "
                "it with gunicorn behind a proxy."
            )
        yield Concern(
            "server",
            words,
            url_for("admin.dashboard.health") + "#server",
            _("How to run it in production"),
        )
    if not health.schema.is_current:
        yield Concern(
            "database",
            _(
                "The database's migrations are not those of this version: %(words)s",
                words=schema_in_words(health.schema),
            ),
            url_for("admin.dashboard.health") + "#database",
            _("How to bring the database up to date"),
        )


def _mfa_concern(counts: dict) -> Concern:
    number = counts["admins_without_mfa"]
    product = current_brand().product_name
    if counts["me_without_mfa"]:
        others = number - 1
        if others:
            words = ngettext(
                "Your account and %(num)d other administrator have no second factor (an "
                "authenticator app or a passkey): a stolen password is enough to take over "
                "%(product)s.",
                "Your account and %(num)d other administrators have no second factor (an "
                "authenticator app or a passkey): a stolen password is enough to take over "
                "%(product)s.",
                others,
                product=product,
            )
        else:
            words = _(
                "Your account has no second factor (an authenticator app or a passkey): a "
                "stolen password is enough to take over %(product)s.",
                product=product,
            )
        return Concern(
            "mfa",
            words,
            url_for("account.second_factor", next=url_for("admin.dashboard.dashboard")),
            _("Set up a second factor now"),
        )
    if number == 1:
        fix_url = url_for("admin.users.user", user_id=counts["first_admin_without_mfa"])
        words = _("The administrator's page")
        text = _(
            "An administrator has no second factor (an authenticator app or a passkey): a "
            "stolen password is enough to take over %(product)s.",
            product=product,
        )
    else:
        fix_url = url_for("admin.users.users")
        words = _("The users")
        text = _(
            "%(number)s administrators have no second factor (an authenticator app or a "
            "passkey): a stolen password is enough to take over %(product)s.",
            number=number,
            product=product,
        )
    return Concern("mfa", text, fix_url, words)


def _enrollment(stored: str | None) -> str:
    try:
        return parse("enrollment", stored if stored is not None else SETTINGS["enrollment"].default)
    except SettingError:
        return SETTINGS["enrollment"].default


def gatehouse_version() -> str:
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return _("unknown (not installed as a package)")


def database_kind() -> tuple[str, str]:
    """The database's kind and version, from what the driver learnt when it connected."""
    dialect = db.engine.dialect
    if dialect.name == "sqlite":
        return "SQLite", dialect.dbapi.sqlite_version
    info = dialect.server_version_info or ()
    name = "PostgreSQL" if dialect.name == "postgresql" else dialect.name
    return name, ".".join(str(part) for part in info)


def schema_state() -> Schema:
    code = code_heads(migrations_folder())
    try:
        # A connection of its own: a missing table must not spoil the request's transaction.
        with db.engine.connect() as connection:
            stamped = connection.scalars(text("SELECT version_num FROM alembic_version"))
            return Schema(tuple(sorted(stamped)), code, True)
    except SQLAlchemyError:
        return Schema((), code, False)


def migrations_folder() -> str:
    return current_app.extensions["migrate"].directory


@cache
def code_heads(folder: str) -> tuple[str, ...]:
    """The revisions no other migration revises: what `idp db upgrade` brings a database to.
    Read from the files' text, so serving a page never imports Alembic."""
    revisions, revised = set(), set()
    for path in Path(folder, "versions").glob("*.py"):
        source = path.read_text()
        found = REVISION_LINE.search(source)
        if found is None:
            continue
        revisions.add(found.group(1))
        down = DOWN_REVISION_LINE.search(source)
        if down is not None:
            revised |= set(QUOTED.findall(down.group(1)))
    return tuple(sorted(revisions - revised))


def schema_in_words(schema: Schema) -> str:
    code = ", ".join(schema.code)
    if not schema.is_tracked:
        return _(
            "it has no record of its migrations (no alembic_version table), so it was not "
            "made by `idp db upgrade`; this version's schema is at %(code)s.",
            code=code,
        )
    if schema.is_current:
        return _("up to date (%(code)s).", code=code)
    stamped = ", ".join(schema.database) or _("none")
    return _(
        "the database is at %(stamped)s, this version at %(code)s.", stamped=stamped, code=code
    )


def mail_in_words(config) -> str:
    if not config["SMTP_HOST"]:
        return _("Written to the log (no SMTP server set)")
    return _(
        "Sent through %(host)s:%(port)s (%(tls)s), from %(sender)s",
        host=config["SMTP_HOST"],
        port=config["SMTP_PORT"],
        tls=config["SMTP_TLS"],
        sender=config["SMTP_FROM"],
    )
