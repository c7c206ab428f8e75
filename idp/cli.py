"""The `idp` command (the same commands as `flask --app wsgi …`)."""

import copy
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import (
    FlaskGroup,
    ScriptInfo,
    routes_command,
    shell_command,
    with_appcontext,
)
from flask.cli import run_command as flask_run_command
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from idp.core.cli_support import Command, CommandGroup, database_error, fail, write_or_echo
from idp.core.config import ConfigError
from idp.core.extensions import db
from idp.core.numbers import whole_number
from idp.core.shipped_files import shipped_flow_files

DEFAULT_ADDRESS = "http://127.0.0.1:5000"


def prepare_instance(echo=click.echo, served_at: str = "") -> None:
    """Bring the schema up to date, load the shipped flows into an empty database, and
    point the first visitor at initial setup (at `served_at`, the address `idp run` is about
    to listen on, unless IDP_BASE_URL names the public one)."""
    from flask_migrate import upgrade

    from idp.models import Flow
    from idp.policies.initial_setup import setup_is_pending

    upgrade()
    if not db.session.scalar(select(func.count()).select_from(Flow)):
        files = [str(path) for path in shipped_flow_files()]
        changes = _import_files(files)
        db.session.commit()
        echo(f"Loaded {len(files)} shipped flows ({len(changes)} objects).")
    _make_providers_ready(echo)
    db.session.commit()
    if setup_is_pending():
        base = (current_app.config["BASE_URL"] or served_at or DEFAULT_ADDRESS).rstrip("/")
        echo(f"No administrator yet. Finish setting up at {base}/flow/initial-setup/")


def _make_providers_ready(echo) -> None:
    """What each provider needs to serve (signing keys), made here for a database whose
    providers were saved before Gatehouse made it at save time."""
    from idp.core.options import OptionsError
    from idp.models import Application, Provider
    from idp.providers.registry import PROVIDER_TYPES

    rows = db.session.execute(select(Provider, Application.slug).join(Provider.application))
    for provider, slug in rows:
        provider_type = PROVIDER_TYPES.get(provider.type)
        if provider_type is None:
            continue
        try:
            options = provider_type.parse_options(provider.options)
        except OptionsError as error:
            echo(f"The application {slug} has provider settings Gatehouse cannot read: {error}")
            continue
        provider_type.ready_to_serve(options)


def _import_files(paths, dry_run=False):
    from idp.transfer.document import load_file, read_document
    from idp.transfer.importer import import_documents

    documents = [(read_document(load_file(path), path), path) for path in paths]
    return import_documents(documents)


def _read_flow_files(paths, applied=None):
    """Flow files and authentik blueprints as flow documents, plus the lines naming what a
    blueprint has that Gatehouse cannot import. Every problem of every file is raised at once.
    `applied`: what each file's metaapplyblueprint entries found (authentik.plan_imports)."""
    from idp.transfer import authentik
    from idp.transfer.document import FlowFileError, parse_text, read_document

    documents, skipped, resolved, replaced, problems = [], [], [], [], []
    for path in paths:
        try:
            raw = Path(path).read_bytes()
        except OSError as error:
            problems.append(f"{path}: cannot be read ({error.strerror})")
            continue
        try:
            if authentik.looks_like_blueprint(raw):
                document = authentik.load_blueprint(raw, path)
            else:
                document = parse_text(raw, path)
            if authentik.is_blueprint(document):
                found = None if applied is None else applied.get(Path(path), {})
                translation = authentik.read_blueprint(document, str(path), applied=found)
                documents.extend((item, path) for item in translation.documents)
                skipped.extend(translation.skipped)
                resolved.extend(translation.resolved)
                replaced.extend(translation.replaced)
            else:
                documents.append((read_document(document, path), path))
        except FlowFileError as error:
            problems.extend(error.problems)
    if problems:
        raise FlowFileError(problems)
    return documents, skipped, resolved, replaced


def _import_batch(paths, plan, strict, import_documents, earlier: list) -> list:
    """Read and write one batch of files (flushed, not committed), naming what is left out.
    Its documents are held against those of the earlier batches, then join them."""
    from idp.transfer.document import FlowFileError

    documents, skipped, resolved, replaced = _read_flow_files(list(map(str, paths)), plan.applied)
    for line in resolved:
        click.echo(f"resolved: {line}", err=True)
    for line in replaced:
        click.echo(f"unbound: {line}", err=True)
    for line in skipped:
        click.echo(f"skipped: {line}", err=True)
    if strict and skipped:
        raise FlowFileError([f"--strict: {len(skipped)} skipped above; nothing was written"])
    changes = import_documents(documents, earlier, plan.applied_by)
    earlier.extend(documents)
    return changes


def register_commands(app) -> None:
    from idp.applications.cli import apps_group, keys_group
    from idp.brand.cli import brand_group

    app.cli.add_command(apps_group)
    app.cli.add_command(brand_group)
    app.cli.add_command(keys_group)
    app.cli.add_command(flows_group)
    app.cli.add_command(users_group)
    app.cli.add_command(groups_group)
    app.cli.add_command(invitations_group)
    app.cli.add_command(maintenance_group)
    app.cli.add_command(settings_group)
    app.cli.add_command(setup_command)


@click.command("setup", cls=Command)
@with_appcontext
def setup_command():
    """Upgrade the database, load shipped flows into an empty one, say how to set up."""
    prepare_instance()


def served_address(options) -> str:
    """Where the development server will answer, from `idp run`'s --host, --port and --cert
    (or FLASK_RUN_HOST / FLASK_RUN_PORT): a browser on this machine can open it."""
    host = options.get("host") or "127.0.0.1"
    if host in ("0.0.0.0", "::", "[::]"):  # noqa: S104 (every interface: this machine is one)
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    scheme = "https" if options.get("cert") else "http"
    return f"{scheme}://{host}:{options.get('port') or 5000}"


@click.pass_context
def _run_with_setup(context, **options):
    app = context.ensure_object(ScriptInfo).load_app()
    with app.app_context():
        prepare_instance(served_at=served_address(options))
    context.invoke(flask_run_command, **options)


def _port_checked(param: click.Parameter) -> click.Parameter:
    # Flask takes any integer and the socket wraps it: --port 99999 served on 34463.
    if param.name != "port":
        return param
    checked = copy.copy(param)
    checked.type = click.IntRange(1, 65535)
    return checked


run_command = click.Command(
    "run",
    callback=_run_with_setup,
    params=[_port_checked(param) for param in flask_run_command.params],
    help="Prepare the database, then run the development server.",
)


# -- flows ---------------------------------------------------------------------------------------


flows_group = CommandGroup("flows", help="Import, export and list flows.")


@flows_group.command("list")
def flows_list():
    from idp.models import Flow, StageBinding

    rows = db.session.execute(
        select(Flow.slug, Flow.designation, Flow.name, func.count(StageBinding.id))
        .outerjoin(StageBinding, StageBinding.flow_id == Flow.id)
        .group_by(Flow.id)
        .order_by(Flow.slug)
    ).all()
    width = max([36, *(len(slug) for slug, *_ in rows)])  # a long slug shifts no column
    for slug, designation, name, stage_count in rows:
        stages = f"{stage_count} stage" if stage_count == 1 else f"{stage_count} stages"
        click.echo(f"{slug:<{width}} {designation:<20} {stages:>10}  {name}")


@flows_group.command("import")
@click.argument("files", nargs=-1, required=True)
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse authentik blueprints with anything Gatehouse cannot import.",
)
@click.option(
    "--blueprints-dir",
    "blueprint_dirs",
    multiple=True,
    type=click.Path(file_okay=False, exists=True),
    help="Where to look for the blueprints an authentik blueprint applies (repeatable); "
    "the importing file's folder is always searched.",
)
def flows_import(files, dry_run, strict, blueprint_dirs):
    """Import flow files (YAML or JSON) and authentik blueprints. Nothing is written unless
    every file is valid; what a blueprint has that Gatehouse cannot import is named on stderr.
    A blueprint another one applies (metaapplyblueprint) is imported first."""
    from idp.transfer.authentik import plan_imports
    from idp.transfer.document import FlowFileError
    from idp.transfer.importer import import_documents

    changes, earlier = [], []
    try:
        plan = plan_imports(list(files), list(blueprint_dirs))
        for batch in plan.batches:
            changes.extend(_import_batch(batch, plan, strict, import_documents, earlier))
    except FlowFileError as error:
        db.session.rollback()
        for problem in error.problems:
            click.echo(f"Error: {problem}", err=True)
        sys.exit(2)
    for change in changes:
        click.echo(str(change))
    if dry_run:
        db.session.rollback()
        click.echo("Dry run: nothing was written.")
        return
    db.session.commit()
    # A new confidential client's secret, shown once as `idp apps create` does.
    for change in changes:
        for label, value in change.secrets.items():
            click.echo(f"  {change.name} {label}: {value}")
    if any(change.secrets for change in changes):
        click.echo("The secret is shown only now: keep it.")


@flows_group.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True))
def flows_export(slug, output):
    """Write a flow as a version-1 YAML document."""
    from idp.transfer.exporter import dump_yaml, export_flow

    document = export_flow(slug)
    if document is None:
        fail(f"no flow with the slug {slug!r}")
    write_or_echo(dump_yaml(document), output)


# -- users and groups ---------------------------------------------------------------------------


users_group = CommandGroup("users", help="Create and list users.")


@users_group.command("create")
@click.argument("username")
@click.option("--email", default=None)
@click.option("--name", default="")
@click.option("--superuser", is_flag=True)
@click.option("--group", "groups", multiple=True, help="Add to this existing group (repeatable).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(username, email, name, superuser, groups, password_stdin):
    from idp.credentials.passwords import MAX_PASSWORD_LENGTH
    from idp.identity.accounts import find_group, set_password
    from idp.identity.signups import release
    from idp.identity.usernames import (
        NAME_MAX_LENGTH,
        is_one_line,
        is_valid_email,
        is_valid_username,
        new_username_problem,
    )
    from idp.models import User
    from idp.policies.initial_setup import setup_is_pending
    from idp.policies.password import default_rules_refuse

    if not is_valid_username(username):
        fail(f"{username!r} is not a valid username (letters, digits and . @ + - _)")
    if problem := new_username_problem(username):
        fail(f"{username!r} is not a valid username: {problem}")
    if email is not None and not is_valid_email(email):
        fail(f"{email!r} is not a valid email address")
    if name is not None and len(name) > NAME_MAX_LENGTH:
        fail(f"a name is at most {NAME_MAX_LENGTH} characters")
    if name and not is_one_line(name):
        fail("a name is one line, without control characters")
    # A lapsed sign-up holds nothing: it is replaced, as by a new sign-up.
    if problem := _taken(username, email):
        fail(problem)
    release(username, email)
    found = [find_group(group) for group in groups]
    missing = [group for group, row in zip(groups, found, strict=True) if row is None]
    if missing:
        fail(f"no group named {missing[0]!r} (create it with: idp groups create NAME)")
    user = User(
        username=username,
        email=email,
        name=name,
        is_superuser=superuser,
        attributes={},
        groups=found,
    )
    user.mark_email_verified()  # an address an administrator sets counts as verified
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("no password on standard input")
        if len(password) > MAX_PASSWORD_LENGTH:
            fail(f"passwords are at most {MAX_PASSWORD_LENGTH} characters long")
        refusals = default_rules_refuse(password, username, email or "", name or "")
        if refusals:
            fail("the password is refused: " + " ".join(refusals))
        set_password(user, password)
    db.session.add(user)
    _committed_unless_taken(username, email)
    click.echo(f"Created user {username}" + (" (superuser)" if superuser else ""))
    if superuser and not password_stdin and setup_is_pending():
        click.echo(
            "Warning: no superuser has a password yet, so /flow/initial-setup/ stays open to "
            "anyone who reaches it. Give one a password (--password-stdin) or finish the setup.",
            err=True,
        )


def _taken(username: str, email: str | None) -> str | None:
    """Why the name (or one that reads like it) or the address cannot be had, or None."""
    from idp.identity.signups import email_holder, username_is_free

    if not username_is_free(username):
        return f"a user named {username!r} exists already"
    if email and email_holder(email) is not None:
        return f"the email address {email!r} is used by another user"
    return None


def _committed_unless_taken(username: str, email: str | None) -> None:
    """Commit the new user. A unique index refuses it when another process took the name (or
    one that reads like it) or the address after the checks: said as the checks say it."""
    from idp.core.database import refused_as_taken

    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        problem = _taken(username, email) if refused_as_taken(error) else None
        if problem is None:
            raise
        fail(problem)


@users_group.command("list")
def users_list():
    """Streamed: one statement, read a thousand rows at a time, so a site of 100,000 users is
    listed without holding them (and their groups) in memory."""
    from idp.models import Group, User, group_members

    separator = "\x1f"  # no group name holds a control character
    rows = db.session.execute(
        select(
            User.username,
            User.email,
            User.is_superuser,
            User.is_active,
            func.aggregate_strings(Group.name, separator),
        )
        .outerjoin(group_members, group_members.c.user_id == User.id)
        .outerjoin(Group, Group.id == group_members.c.group_id)
        .group_by(User.id)
        .order_by(User.username),
        execution_options={"yield_per": 1000},
    )
    for username, email, is_superuser, is_active, group_names in rows:
        flags = ",".join(
            flag
            for flag, is_set in (("superuser", is_superuser), ("inactive", not is_active))
            if is_set
        )
        groups = ",".join(sorted(group_names.split(separator))) if group_names else ""
        click.echo(f"{username:<24} {email or '-':<32} {flags or '-':<20} {groups or '-'}")


groups_group = CommandGroup("groups", help="Create groups.")


@groups_group.command("create")
@click.argument("name")
def groups_create(name):
    from idp.identity.accounts import find_group
    from idp.identity.usernames import is_one_line
    from idp.models import Group

    if not name.strip() or len(name) > 150:
        fail("a group name must be 1 to 150 characters")
    if name != name.strip() or not is_one_line(name):
        fail("a group name is one line, without control characters or spaces at its ends")
    if find_group(name) is not None:
        fail(f"a group named {name!r} exists already")
    db.session.add(Group(name=name))
    db.session.commit()
    click.echo(f"Created group {name}")


# -- invitations ---------------------------------------------------------------------------------


invitations_group = CommandGroup("invitations", help="Create, list and revoke invitation links.")


@invitations_group.command("create")
@click.option("--flow", "flow_slug", default=None, help="Only this flow (the link opens it).")
@click.option(
    "--expires",
    default="7d",
    show_default=True,
    help="How long the link works: 30m, 8h, 7d, 2w, or never.",
)
@click.option(
    "--data", "pairs", multiple=True, metavar="KEY=VALUE", help="Fixed prompt data (repeatable)."
)
@click.option("--multi-use", is_flag=True, help="The link may be used more than once.")
@click.option("--name", default="", help="A note for the list, such as who it is for.")
def invitations_create(flow_slug, expires, pairs, multi_use, name):
    """Make an invitation and print its link; the link is shown only this once."""
    from idp.identity.invitations import create_invitation, invitation_link

    target = _invitation_target(flow_slug)
    fixed_data = _fixed_data(pairs)
    expires_in = _invitation_expiry(expires)
    if len(name) > 200:
        fail("a name is at most 200 characters")
    invitation, token = create_invitation(
        name=name,
        flow_slug=flow_slug,
        fixed_data=fixed_data,
        expires_in=expires_in,
        single_use=not multi_use,
    )
    db.session.commit()
    until = f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC" if invitation.expires_at else "never"
    uses = "multi-use" if multi_use else "single use"
    click.echo(f"Created invitation {invitation.id} ({uses}, expires {until}). Its link:")
    click.echo(invitation_link(target, token))


@invitations_group.command("list")
def invitations_list():
    """Streamed, as `idp users list` is: one statement, a thousand rows at a time."""
    from idp.identity.invitations import all_invitations, state_of

    for invitation in all_invitations():
        until = f"{invitation.expires_at:%Y-%m-%d %H:%M}" if invitation.expires_at else "never"
        uses = "multi" if not invitation.single_use else "single"
        click.echo(
            f"{invitation.id:>5} {state_of(invitation):<10} {uses:<7} "
            f"{invitation.flow_slug or '(any flow)':<32} {until:<17} {invitation.name}"
        )


@invitations_group.command("revoke")
@click.argument("invitation_id", metavar="ID")
def invitations_revoke(invitation_id):
    """Revoke an invitation: its link stops working."""
    from idp.identity.invitations import revoke_invitation
    from idp.models import Invitation

    number = whole_number(invitation_id)
    if number is None or db.session.get(Invitation, number) is None:
        fail(f"no invitation with the id {invitation_id!r} (see: idp invitations list)")
    if not revoke_invitation(number):
        fail(f"invitation {invitation_id} was already revoked")
    db.session.commit()
    click.echo(f"Revoked invitation {invitation_id}")


def _invitation_target(flow_slug: str | None) -> str:
    """The flow the link opens: the one named, else the first enrollment flow."""
    from idp.models import Flow, Stage, StageBinding

    if flow_slug is None:
        flow_slug = db.session.scalar(
            select(Flow.slug).where(Flow.designation == "enrollment").order_by(Flow.slug)
        )
        if flow_slug is None:
            fail("there is no enrollment flow to link to; name one with --flow SLUG")
    elif db.session.scalar(select(Flow.id).where(Flow.slug == flow_slug)) is None:
        fail(f"no flow with the slug {flow_slug!r}")
    checks = db.session.scalar(
        select(StageBinding.id)
        .join(Flow, StageBinding.flow_id == Flow.id)
        .join(Stage, StageBinding.stage_id == Stage.id)
        .where(Flow.slug == flow_slug, Stage.type == "invitation")
        .limit(1)
    )
    if checks is None:
        click.echo(
            f"Warning: the flow {flow_slug} has no invitation stage to check the link", err=True
        )
    return flow_slug


def _fixed_data(pairs) -> dict:
    from idp.identity.invitations import FixedDataError, read_fixed_data

    try:
        return read_fixed_data(pairs)
    except FixedDataError as error:
        fail(f"--data {error}")


def _invitation_expiry(text: str):
    from idp.core.durations import parse_duration

    if text.strip().lower() == "never":
        return None
    try:
        duration = parse_duration(text)
    except ValueError as error:
        fail(f"--expires: {error}")
    if not duration:
        fail("--expires must be longer than nothing")
    return duration


# -- maintenance ---------------------------------------------------------------------------------

maintenance_group = CommandGroup(
    "maintenance", help="Housekeeping to run now and then (from cron)."
)


@maintenance_group.command("purge")
@click.option(
    "--older-than",
    metavar="DURATION",
    help="Sign-ups unconfirmed for this long (default: IDP_UNCONFIRMED_SIGNUP_LIFETIME).",
)
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
def maintenance_purge(older_than, dry_run):
    """Delete lapsed unconfirmed sign-ups, flow tokens (mailed links, captchas) that expired,
    sessions that ended over 30 days ago and no OpenID Connect token needs, OpenID Connect
    codes, requests and tokens that were used, revoked or expired, events older than
    IDP_EVENT_RETENTION_DAYS, and rate-limit counters that no longer count.
    Accounts disabled by an admin are never touched."""
    from idp.core import events
    from idp.identity import sessions, signups
    from idp.providers.oauth2.purge import needed_by_a_token, purge_everything

    lifetime = _signup_lifetime(older_than) if older_than is not None else None
    deleted_signups, deleted_tokens = signups.purge(lifetime)
    # Asked before the OpenID Connect purge: a token it deletes as dead may have died a moment
    # ago, and still keeps its session. The sessions' own dead tokens go with that purge, and
    # are counted there.
    ended_sessions = sessions.ended_long_ago(keep=needed_by_a_token())
    openid_connect = purge_everything()
    deleted_sessions = sessions.delete_sessions(ended_sessions)
    deleted_events = events.purge()
    deleted_counters = _purge_counters()
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    verb = "Would delete" if dry_run else "Deleted"
    click.echo(
        f"{verb} {deleted_signups} unconfirmed sign-up(s)"
        f" and {deleted_tokens} expired flow token(s)."
    )
    click.echo(
        f"{verb} {deleted_sessions} session(s) that ended"
        f" over {sessions.ENDED_KEPT_FOR.days} days ago."
    )
    counts = ", ".join(f"{count} {kind}" for kind, count in openid_connect.items())
    click.echo(f"OpenID Connect: {verb.lower()} {counts}.")
    if deleted_events is None:
        click.echo("Kept every event (IDP_EVENT_RETENTION_DAYS is 0).")
    else:
        days = current_app.config["EVENT_RETENTION_DAYS"]
        click.echo(f"{verb} {deleted_events} event(s) older than {days} days.")
    click.echo(
        f"{verb} {deleted_counters} counter(s) that no longer count"
        " (failed sign-ins, reputation, mails sent)."
    )


def _purge_counters() -> int:
    """The rate limits' rows that would count from nothing again: failed sign-ins and codes,
    wrong captcha answers, reputation scores, mails sent per hour and sign-in link slots. One
    is made per name or address tried, so an attack with many of them leaves many."""
    from idp.mailed_links.sign_in_links import purge_mail_slots
    from idp.protection import attempts, mail_limits, reputation
    from idp.stages.captcha import failures as captcha_failures

    purges = (attempts.purge, captcha_failures.purge, reputation.purge, mail_limits.purge)
    return sum(purge() for purge in (*purges, purge_mail_slots))


def _signup_lifetime(text: str):
    from datetime import timedelta

    from idp.core.durations import parse_duration

    try:
        duration = parse_duration(text)
    except ValueError as error:
        fail(f"--older-than: {error}")
    if duration < timedelta(hours=1):
        fail("--older-than must be at least 1h: a newer sign-up may still be confirmed")
    return duration


# -- settings ------------------------------------------------------------------------------------


settings_group = CommandGroup(
    "settings", help="Show and change the settings an administrator sets in the admin pages."
)


@settings_group.command("show")
def settings_show():
    """Print each setting as KEY VALUE."""
    from idp.identity.site_settings import current_settings

    for key, value in current_settings().items():
        click.echo(f"{key} {value}")


@settings_group.command("set")
@click.argument("key")
@click.argument("value")
def settings_set(key, value):
    """Set KEY to VALUE, for example `idp settings set enrollment on`."""
    from idp.identity.site_settings import SettingError, change_setting, current_value

    try:
        changed = change_setting(key, value)
    except SettingError as error:
        db.session.rollback()
        fail(str(error))
    db.session.commit()
    state = "set to" if changed else "was already"
    click.echo(f"{key} {state} {current_value(key)}")


# -- entry point ----------------------------------------------------------------------------------


def _create_app():
    from idp import create_app

    return create_app()


cli = FlaskGroup(
    name="idp",
    create_app=_create_app,
    add_default_commands=False,
    help="Gatehouse, a self-hosted identity provider.",
)
cli.add_command(run_command)
cli.add_command(shell_command)
cli.add_command(routes_command)


def main():
    # A terminal that is not UTF-8 hands bytes Python cannot decode as lone surrogates:
    # text that could be stored but never shown ("é" typed on a Latin-1 terminal).
    unreadable = [argument for argument in sys.argv[1:] if not _is_utf8(argument)]
    if unreadable:
        fail(f"an argument is not UTF-8 text: {unreadable[0]!r}")
    try:
        # Not standalone: click would print a usage error as four lines (usage, hint, blank,
        # error); here it is one, as every other bad argument.
        exit_code = cli.main(prog_name="idp", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as error:  # `idp users` alone: its help
        error.show()
        sys.exit(error.exit_code)
    except click.UsageError as error:
        fail(_usage_line(error))
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.Abort:
        click.echo("Aborted!", err=True)
        sys.exit(1)
    except ConfigError as error:
        fail(str(error))
    except SQLAlchemyError as error:
        fail(database_error(error))
    # What main gives back is a command's return value, or the code of an explicit exit.
    sys.exit(exit_code if isinstance(exit_code, int) else 0)


def _usage_line(error: click.UsageError) -> str:
    if error.ctx is None:
        return error.format_message()
    return f"{error.format_message()} (see '{error.ctx.command_path} --help')"


def _is_utf8(argument: str) -> bool:
    try:
        argument.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
