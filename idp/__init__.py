"""Gatehouse: a self-hosted identity provider."""

import logging
import os

from flask import Flask

from idp.core.config import LONGEST_SESSION, load_settings
from idp.core.extensions import (
    POSTGRESQL_OPTIONS,
    begin_postgresql_transactions_at_the_first_write,
    csrf,
    db,
    init_migrations,
    login_manager,
)
from idp.core.shipped_files import migrations_folder


def create_app(config: dict | None = None) -> Flask:
    """Build the app. `config` overrides settings (tests pass a mapping here)."""
    instance_path = os.environ.get("IDP_INSTANCE_PATH") or None
    if config and config.get("INSTANCE_PATH"):
        instance_path = config["INSTANCE_PATH"]
    app = Flask(__name__, instance_path=instance_path and os.path.abspath(instance_path))
    environ = {**os.environ, **(config or {}).get("ENVIRON", {})}
    app.config.update(load_settings(environ, app.instance_path))
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # tokens live as long as the session cookie
        # Flask refuses a cookie signed longer ago than this (31 days by default), and a
        # GET does not sign it again: a session still in use was signed out after a month.
        # The database decides when a session ends; the cookie must outlive the longest.
        PERMANENT_SESSION_LIFETIME=LONGEST_SESSION,
        MAX_CONTENT_LENGTH=1024 * 1024,
        MAX_FORM_MEMORY_SIZE=256 * 1024,
    )
    app.config.update({key: value for key, value in (config or {}).items() if key != "ENVIRON"})
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(app.config))

    _configure_logging(app)
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            begin_postgresql_transactions_at_the_first_write(db.engine)
    init_migrations(app, str(migrations_folder()))
    csrf.init_app(app)
    login_manager.init_app(app)

    from idp.core import form_widgets, i18n, logs, metrics, static_files
    from idp.core.network import ForwardedScheme
    from idp.identity import devices, security

    app.wsgi_app = logs.LastResort(app, ForwardedScheme(app))
    logs.init_app(app)  # first: every later hook and log line has the request id
    metrics.init_app(app)
    security.init_app(app)
    devices.init_app(app)
    form_widgets.init_app(app)
    i18n.init_app(app)
    static_files.init_app(app)

    from idp.account.routes import bp as account_bp
    from idp.admin import bp as admin_bp
    from idp.applications.routes import bp as applications_bp
    from idp.brand.routes import bp as brand_bp
    from idp.flows.executor import bp as flow_bp
    from idp.mailed_links.sign_in_links import bp as sign_in_links_bp
    from idp.ops.routes import bp as ops_bp
    from idp.providers.registry import PROVIDER_TYPES
    from idp.stages.registry import STAGE_TYPES

    app.register_blueprint(flow_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(sign_in_links_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(applications_bp)
    app.register_blueprint(brand_bp)
    for stage_type in STAGE_TYPES.values():
        app.register_blueprint(stage_type.package_blueprint())
    for provider_type in PROVIDER_TYPES.values():
        if provider_type.blueprint is not None:
            app.register_blueprint(provider_type.blueprint)

    from idp.cli import register_commands
    from idp.core import errors
    from idp.identity import user_agents

    # Session lists (/me, the admin) name devices in words.
    app.jinja_env.globals["describe_device"] = user_agents.describe
    errors.init_app(app)
    register_commands(app)
    return app


def _engine_options(config) -> dict:
    # No pool_pre_ping: a closed connection is found without a round trip (idp/core/extensions.py).
    options = {}
    if not config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A sign-in briefly needs a second connection: the failed-attempt counters commit on
        # their own, before the password hash runs.
        options.update(
            pool_size=config["DATABASE_POOL_SIZE"],
            max_overflow=config["DATABASE_POOL_SIZE"],
            **POSTGRESQL_OPTIONS,
        )
    return options


def _configure_logging(app: Flask) -> None:
    from idp.core.logs import configure

    configure(app.config["LOG_FORMAT"])
    logging.getLogger("idp").setLevel(logging.INFO)
