import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Group, User
from tests.factories import SHIPPED_FLOWS, make_group, make_user


def test_users_create_with_password_from_stdin_can_sign_in(app, runner, flows):
    result = runner.invoke(
        args=["users", "create", "carl", "--email", "carl@example.test", "--password-stdin"],
        input="a password on stdin\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created user carl" in result.output
    flows.sign_in("carl", "a password on stdin")
    assert flows.client.get("/me").status_code == 200


def test_users_create_superuser_with_groups(app, runner):
    with app.app_context():
        make_group("ops")
        make_group("dev")
    result = runner.invoke(
        args=["users", "create", "dana", "--superuser", "--group", "ops", "--group", "dev"]
    )
    assert result.exit_code == 0, result.output
    listing = runner.invoke(args=["users", "list"]).output
    assert "dana" in listing and "superuser" in listing and "dev,ops" in listing
    # No superuser has a password: the initial setup stays open, and the command says so.
    assert "/flow/initial-setup/ stays open" in result.stderr


def test_a_superuser_with_a_password_leaves_no_setup_open_and_no_warning(app, runner):
    result = runner.invoke(
        args=["users", "create", "erin", "--superuser", "--password-stdin"],
        input="a password on stdin\n",
    )
    assert result.exit_code == 0 and "initial-setup" not in result.stderr
    again = runner.invoke(args=["users", "create", "fred", "--superuser"])
    assert again.exit_code == 0 and "initial-setup" not in again.stderr


A_PROXY_APP = ["--name", "Wiki", "--proxy", "--external-host", "https://wiki.example.test"]
AN_OIDC_APP = ["apps", "create", "rp", "--name", "RP", "--oidc", "--redirect-uri", "https://rp/cb"]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["users", "create", "has space"], None, "not a valid username"),
        (["users", "create", "eve", "--email", "nope"], None, "not a valid email"),
        (["users", "create", "taken"], None, "exists already"),
        (["users", "create", "TAKEN"], None, "exists already"),
        (["users", "create", "eve", "--group", "missing"], None, "no group named 'missing'"),
        (["users", "create", "eve", "--password-stdin"], "\n", "no password on standard input"),
        (["users", "create", "eve", "--password-stdin"], "short\n", "at least 8 characters"),
        (["users", "create", "eve", "--password-stdin"], "password1\n", "too common"),
        (["users", "create", "eve", "--password-stdin"], "eve-is-here-2026\n", "username"),
        (["users", "create", "eve", "--password-stdin"], "gatehouse rules 1\n", "name of"),
        (["users", "create", "eve", "--email", "taken@example.test"], None, "used by another"),
        (["groups", "create", "existing"], None, "exists already"),
        (["flows", "export", "no-such-flow"], None, "no flow with the slug"),
        (["users", "create", "eve\n"], None, "not a valid username"),
        (["users", "create", "eve", "--name", "n" * 201], None, "at most 200 characters"),
        (["users", "create", "eve", "--name", "Eve\r\nAdmin"], None, "one line"),
        (["users", "create", "eve", "--email", "eve,bob@example.test"], None, "not a valid email"),
        (["groups", "create", "a\tb"], None, "one line"),
        (["groups", "create", " existing"], None, "spaces at its ends"),
        (
            ["invitations", "create", "--data", "email=a,bob@example.test"],
            None,
            "not a valid email",
        ),
        (["invitations", "create", "--data", "username=has space"], None, "not a valid username"),
        (["invitations", "create", "--data", "name=Eve\nAdmin"], None, "one line"),
        (["maintenance", "purge", "--older-than", "99999999999d"], None, "longer than 100 years"),
        (["apps", "create", "wiki\n", *A_PROXY_APP], None, "a slug is 1 to 100"),
        (["apps", "create", "wiki", "--oidc", *A_PROXY_APP], None, "--oidc or --proxy"),
        (["apps", "create", "wiki", *A_PROXY_APP, "--oidc"], None, "--oidc or --proxy"),
        (["apps", "create", "wiki", "--name", "Wiki"], None, "--oidc or --proxy"),
        (
            ["apps", "create", "wiki", "--name", "Wiki", "--proxy", "--external-host", "wiki"],
            None,
            "external_host: must be an address such as https://app.example.org",
        ),
        (
            ["apps", "create", "wiki", *A_PROXY_APP, "--launch-url", "javascript:alert(1)"],
            None,
            "the launch URL must start with https://, http:// or /",
        ),
        (["apps", "create", "wiki", *A_PROXY_APP, "--path-prefix", "docs"], None, "start with /"),
        (
            ["apps", "create", "wiki", *A_PROXY_APP, "--backchannel-logout-uri", "https://x/"],
            None,
            "belong to --oidc",
        ),
        (
            [*AN_OIDC_APP, "--post-logout-redirect-uri", "javascript:alert(1)"],
            None,
            "post_logout_redirect_uris[0]",
        ),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(app, runner, args, stdin, message):
    with app.app_context():
        make_user("taken", email="taken@example.test")
        make_group("existing")
    result = runner.invoke(args=args, input=stdin)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "eve")) is None


def test_groups_create(app, runner):
    assert runner.invoke(args=["groups", "create", "staff"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(Group.name)) == "staff"


def test_flows_list_shows_the_shipped_flows(runner):
    output = runner.invoke(args=["flows", "list"]).output
    assert "default-authentication-flow" in output and "3 stages" in output
    assert "initial-setup" in output
    assert " 1 stages" not in output  # a flow of one stage says so in the singular


def test_flows_list_keeps_its_columns_beside_a_long_slug(app, runner):
    from tests.factories import make_flow

    with app.app_context():
        make_flow(
            [], slug="a-flow-whose-slug-is-longer-than-the-column-was", designation="enrollment"
        )
    lines = runner.invoke(args=["flows", "list"]).output.splitlines()
    starts = {line.index(" authentication ") for line in lines if " authentication " in line}
    starts |= {line.index(" enrollment ") for line in lines if " enrollment " in line}
    assert len(starts) == 1  # every designation in one column


def test_setup_migrates_an_empty_database_loads_flows_once_and_points_to_setup(tmp_path):
    from tests.conftest import make_test_app

    app = make_test_app(tmp_path / "fresh")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["setup"])
    assert first.exit_code == 0, first.output
    shipped = len(list(SHIPPED_FLOWS.glob("*.yaml")))
    assert f"Loaded {shipped} shipped flows" in first.output
    assert "Finish setting up at http://127.0.0.1:5000/flow/initial-setup/" in first.output
    second = runner.invoke(args=["setup"]).output
    assert "Loaded" not in second and "initial-setup" in second
    with app.app_context():
        make_user("root", superuser=True)
    assert "initial-setup" not in runner.invoke(args=["setup"]).output


CHECKOUT = Path(__file__).resolve().parents[2]
IDP = str(Path(sys.executable).parent / "idp")
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
BAD_ROUNDS = "Error: IDP_BCRYPT_ROUNDS must be a whole number, not 'x'"


def run_in_checkout(command: list, tmp_path, **settings) -> subprocess.CompletedProcess:
    """A command as an administrator runs it from the checkout, on an instance of its own
    with these settings."""
    environment = {**os.environ, "IDP_INSTANCE_PATH": str(tmp_path), **settings}
    return subprocess.run(
        command,
        cwd=CHECKOUT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_setup_logs_its_migrations_as_json_lines_when_asked(tmp_path):
    result = run_in_checkout(
        [IDP, "setup"],
        tmp_path,
        IDP_DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}",
        IDP_LOG_FORMAT="json",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines and all(json.loads(line)["message"] for line in lines)
    assert any(json.loads(line)["logger"].startswith("alembic") for line in lines)


def test_flask_reports_a_bad_setting_in_one_line_too(tmp_path):
    """DESIGN.md: `flask --app wsgi …` is the same thing as `idp`."""
    result = run_in_checkout([*FLASK, "users", "list"], tmp_path, IDP_BCRYPT_ROUNDS="x")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert BAD_ROUNDS in result.stderr.splitlines()


@pytest.mark.parametrize("command", [[IDP], FLASK], ids=["idp", "flask"])
@pytest.mark.parametrize("arguments", [["users", "list"], ["keys", "list"], ["setup"]])
def test_a_database_that_cannot_be_opened_ends_a_command_in_one_line(tmp_path, command, arguments):
    missing = tmp_path / "no-such-folder" / "gatehouse.db"
    result = run_in_checkout(
        [*command, *arguments], tmp_path, IDP_DATABASE_URL=f"sqlite:///{missing}"
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == ["Error: database error: unable to open database file"]


def test_console_script_reports_a_bad_setting_in_one_line(tmp_path):
    result = run_in_checkout([IDP, "users", "list"], tmp_path, IDP_BCRYPT_ROUNDS="x")
    assert result.returncode == 2
    assert result.stderr.strip() == BAD_ROUNDS


def test_an_instance_folder_that_cannot_be_made_ends_a_command_in_one_line(tmp_path):
    (tmp_path / "taken").write_text("a file where the folder would go")
    result = run_in_checkout(
        [IDP, "users", "list"], tmp_path, IDP_INSTANCE_PATH=str(tmp_path / "taken")
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: IDP_INSTANCE_PATH: cannot create the folder")


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "nosuchdb://gatehouse:hunter2@db/gatehouse",
        # SQLAlchemy knows the dialect; its Python package is not installed.
        "mysql+mysqldb://gatehouse:hunter2@db/gatehouse",
    ],
)
def test_console_script_names_a_database_url_it_cannot_use(tmp_path, url):
    result = run_in_checkout([IDP, "users", "list"], tmp_path, IDP_DATABASE_URL=url)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("Error: IDP_DATABASE_URL ")
    assert "hunter2" not in result.stderr  # the URL's password is not repeated


@pytest.mark.parametrize("preload", ["1", "0"])
def test_gunicorn_reports_a_bad_setting_in_one_line(tmp_path, preload):
    """The README's production command stops as the console script does: one line that
    names the variable, no traceback; without preload too, where a worker loads the app."""
    result = run_in_checkout(
        GUNICORN,
        tmp_path,
        IDP_BCRYPT_ROUNDS="x",
        GUNICORN_BIND=f"unix:{tmp_path / 'gatehouse.sock'}",
        GUNICORN_WORKERS="1",
        GUNICORN_PRELOAD=preload,
    )
    assert result.returncode == 4  # gunicorn's "the app failed to load": it does not retry
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines().count(BAD_ROUNDS) == 1


@pytest.mark.parametrize(
    ("args", "environment", "address"),
    [
        (["run"], {}, "http://127.0.0.1:5000"),
        (["run", "--port", "8123"], {}, "http://127.0.0.1:8123"),
        (["run", "--host", "0.0.0.0", "--port", "9000"], {}, "http://127.0.0.1:9000"),  # noqa: S104
        (["run", "--host", "localhost"], {"FLASK_RUN_PORT": "8765"}, "http://localhost:8765"),
    ],
)
def test_run_points_to_setup_at_the_address_it_serves(
    tmp_path, monkeypatch, args, environment, address
):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from idp import cli
    from tests.conftest import make_test_app

    served = {}
    # The development server itself is not started: only the options it would get are kept.
    monkeypatch.setattr(
        cli,
        "flask_run_command",
        click.Command("run", params=cli.flask_run_command.params, callback=served.update),
    )
    app = make_test_app(tmp_path / "fresh")
    result = CliRunner().invoke(
        cli.cli,
        args,
        obj=ScriptInfo(create_app=lambda: app),
        env=environment,
        auto_envvar_prefix="FLASK",
    )
    assert result.exit_code == 0, result.output
    assert f"Finish setting up at {address}/flow/initial-setup/" in result.output
    assert served["port"] == int(address.rsplit(":", 1)[1])  # the server gets that port


@pytest.mark.parametrize(
    ("args", "environment"),
    [
        (["run", "--port", "99999"], {}),
        (["run", "--port", "0"], {}),
        (["run"], {"FLASK_RUN_PORT": "70000"}),
    ],
)
def test_run_refuses_a_port_no_socket_has(tmp_path, args, environment):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from idp import cli
    from tests.conftest import make_test_app

    app = make_test_app(tmp_path / "fresh")
    result = CliRunner().invoke(
        cli.cli,
        args,
        obj=ScriptInfo(create_app=lambda: app),
        env=environment,
        auto_envvar_prefix="FLASK",
    )
    assert result.exit_code == 2, result.output
    assert "is not in the range 1<=x<=65535" in result.output


def test_setup_points_to_the_public_address_when_one_is_configured(tmp_path):
    from tests.conftest import make_test_app

    app = make_test_app(tmp_path / "fresh", BASE_URL="https://id.example.org/")
    output = app.test_cli_runner().invoke(args=["setup"]).output
    assert "Finish setting up at https://id.example.org/flow/initial-setup/" in output


def test_an_argument_that_is_no_utf8_is_refused_before_anything_is_stored(tmp_path):
    """A terminal that is not UTF-8 hands Python undecodable bytes: stored, they would stop
    every page that shows them (a footer link on the sign-in page)."""
    environment = {**os.environ, "IDP_INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run(
        [IDP.encode(), b"brand", b"set", b"footer_links", b"A | https://\xff.example/"],
        env=environment,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.decode().startswith("Error: an argument is not UTF-8 text")
    assert not (tmp_path / "gatehouse.db").exists()


def test_apps_create_sets_logout_addresses_and_a_path_prefix(app, runner):
    oidc = runner.invoke(
        args=[
            "apps", "create", "rp", "--name", "RP", "--oidc",
            "--redirect-uri", "https://rp.example.test/cb",
            "--post-logout-redirect-uri", "https://rp.example.test/bye",
            "--backchannel-logout-uri", "https://rp.example.test/logout",
        ]
    )  # fmt: skip
    assert oidc.exit_code == 0, oidc.output
    proxy = runner.invoke(
        args=[
            "apps",
            "create",
            "docs",
            *A_PROXY_APP[2:],
            "--name",
            "Docs",
            "--path-prefix",
            "/docs",
        ]
    )
    assert proxy.exit_code == 0, proxy.output
    with app.app_context():
        from idp.applications.loading import load_application

        rp, docs = (
            load_application("rp").provider.options,
            load_application("docs").provider.options,
        )
    assert rp["post_logout_redirect_uris"] == ["https://rp.example.test/bye"]
    assert rp["backchannel_logout_uri"] == "https://rp.example.test/logout"
    assert (docs["external_host"], docs["path_prefix"]) == ("https://wiki.example.test", "/docs")


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["users", "create"],
            "Error: Missing argument 'USERNAME'. (see 'idp users create --help')",
        ),
        (["users", "bogus"], "Error: No such command 'bogus'. (see 'idp users --help')"),
        (["nosuch"], "Error: No such command 'nosuch'. (see 'idp --help')"),
        (
            ["users", "list", "--bad"],
            "Error: No such option '--bad'. (see 'idp users list --help')",
        ),
    ],
)
def test_the_console_script_gives_a_usage_error_in_one_line(tmp_path, args, line):
    result = run_in_checkout([IDP, *args], tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [line]
    assert result.stdout == ""


def test_the_console_script_shows_a_groups_help_when_given_no_command(tmp_path):
    result = run_in_checkout([IDP, "users"], tmp_path)
    assert result.returncode == 2  # as click has it: the help, on stderr, for a usage error
    assert result.stderr.startswith("Usage: idp users [OPTIONS] COMMAND [ARGS]...")
    assert "Create and list users." in result.stderr
    help_page = run_in_checkout([IDP, "users", "--help"], tmp_path)
    assert help_page.returncode == 0 and help_page.stdout == result.stderr
