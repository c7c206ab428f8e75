"""Applications: the `idp apps` commands, who may use an application, the shipped
authorization flows."""

import json

import pytest
from sqlalchemy import select

from idp.applications.access import may_use
from idp.applications.loading import load_application
from idp.applications.manage import bind
from idp.core.extensions import db
from idp.models import Application, Flow, Policy, Provider
from idp.providers.oauth2 import credentials
from tests.factories import make_group, make_user


def create(runner, *args):
    return runner.invoke(args=["apps", "create", *args])


def test_shipped_authorization_flows_are_loaded(app_context):
    flows = db.session.scalars(select(Flow).where(Flow.designation == "authorization")).all()
    assert sorted(flow.slug for flow in flows) == [
        "default-provider-authorization-explicit-consent",
        "default-provider-authorization-implicit-consent",
    ]


def test_create_oidc_confidential_prints_the_secret_once_and_stores_its_hash(app, runner):
    result = create(
        runner, "grafana", "--name", "Grafana", "--oidc",
        "--redirect-uri", "https://grafana.example.test/login/generic_oauth", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert set(printed) == {"slug", "client_id", "client_secret", "issuer"}
    assert printed["issuer"].endswith("/application/o/grafana/")
    with app.app_context():
        provider = db.session.scalar(
            select(Provider).where(Provider.client_id == printed["client_id"])
        )
        assert provider.type == "oauth2"
        assert printed["client_secret"] not in provider.client_secret_hash
        assert credentials.check_secret(provider.client_secret_hash, printed["client_secret"])
        assert provider.options["redirect_uris"] == [
            "https://grafana.example.test/login/generic_oauth"
        ]
        assert provider.options["client_type"] == "confidential"


def test_public_client_gets_no_secret(runner):
    result = create(
        runner, "cli-app", "--name", "CLI", "--oidc", "--public",
        "--redirect-uri", "http://127.0.0.1/callback", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "client_secret" not in json.loads(result.output)


@pytest.mark.parametrize(
    "args",
    [
        ["bad slug", "--name", "X", "--oidc", "--redirect-uri", "https://a.test/cb"],
        ["ok", "--name", "X", "--oidc"],
        ["ok", "--name", "X", "--oidc", "--redirect-uri", "not a uri"],
        ["ok", "--name", "X", "--oidc", "--redirect-uri", "javascript:alert(1)"],
        ["ok", "--name", "X"],
        ["ok", "--name", "X", "--proxy"],
        ["ok", "--name", "X", "--proxy", "--external-host", "app.example.test"],
        ["ok", "--name", "X", "--proxy", "--external-host", "https://app.example.test/path"],
    ],
)
def test_bad_create_arguments_exit_2_with_one_line(runner, args):
    result = create(runner, *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.output.strip().startswith("Error:")


def test_a_taken_slug_is_refused(runner):
    args = ["dup", "--name", "A", "--oidc", "--redirect-uri", "https://a.test/cb"]
    assert create(runner, *args).exit_code == 0
    result = create(runner, *args)
    assert result.exit_code == 2
    assert "exists already" in result.output


def test_bind_list_and_delete(app, runner):
    with app.app_context():
        make_group("staff")
        make_user("bob")
    assert (
        create(
            runner, "wiki", "--name", "Wiki", "--oidc", "--redirect-uri", "https://w.test/cb"
        ).exit_code
        == 0
    )
    listed = runner.invoke(args=["apps", "list"])
    assert "Every signed-in user" in listed.output
    assert runner.invoke(args=["apps", "bind", "wiki", "--group", "staff"]).exit_code == 0
    assert runner.invoke(args=["apps", "bind", "wiki", "--user", "bob"]).exit_code == 0
    listed = runner.invoke(args=["apps", "list"])
    assert "Only group staff or user bob" in listed.output
    refused = runner.invoke(args=["apps", "bind", "wiki", "--group", "nobody"])
    assert refused.exit_code == 2
    assert runner.invoke(args=["apps", "delete", "wiki"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(Application)) is None
    assert runner.invoke(args=["apps", "delete", "wiki"]).exit_code == 2


def test_no_bindings_lets_every_active_user_in(app, runner):
    create(runner, "open", "--name", "Open", "--oidc", "--redirect-uri", "https://o.test/cb")
    with app.app_context():
        alice, disabled = make_user(), make_user(active=False)
        application = load_application("open")
        assert may_use(application, alice).allowed
        assert not may_use(application, disabled).allowed
        assert not may_use(application, None).allowed


def test_group_user_and_policy_bindings_decide(app, runner):
    create(runner, "closed", "--name", "Closed", "--oidc", "--redirect-uri", "https://c.test/cb")
    with app.app_context():
        staff = make_group("staff")
        member, outsider, named = make_user(groups=[staff]), make_user(), make_user("carol")
        db.session.add(
            Policy(
                name="only-dave",
                type="expression",
                options={"expression": "user.username == 'dave'"},
            )
        )
        db.session.commit()
        dave = make_user("dave")
    for args in (["--group", "staff"], ["--user", "carol"], ["--policy", "only-dave"]):
        assert runner.invoke(args=["apps", "bind", "closed", *args]).exit_code == 0
    with app.app_context():
        application = load_application("closed")
        for user, allowed in ((member, True), (named, True), (dave, True), (outsider, False)):
            user = db.session.merge(user)
            decision = may_use(application, user)
            assert decision.allowed is allowed, decision.reasons
        application.policy_engine_mode = "all"
        assert not may_use(application, db.session.merge(member)).allowed
        db.session.rollback()


def test_a_policy_that_raises_refuses_access(app, runner):
    create(runner, "strict", "--name", "Strict", "--oidc", "--redirect-uri", "https://s.test/cb")
    with app.app_context():
        db.session.add(Policy(name="broken", type="expression", options={"expression": "1/0"}))
        db.session.commit()
    assert runner.invoke(args=["apps", "bind", "strict", "--policy", "broken"]).exit_code == 0
    with app.app_context():
        user = make_user()
        decision = may_use(load_application("strict"), user)
        assert not decision.allowed
        assert "could not be checked" in decision.reasons[-1]


def test_access_is_decided_in_a_fixed_number_of_queries(app, runner, query_counter):
    create(runner, "counted", "--name", "C", "--oidc", "--redirect-uri", "https://q.test/cb")
    counts = []
    for _round in range(2):
        with app.app_context():
            group = make_group()
            user, other = make_user(groups=[group]), make_user()
            application = load_application("counted")
            bind(application, group=group)
            bind(application, user=other)
            db.session.commit()
            user_id = user.id
        with app.app_context():
            user = db.session.get(type(user), user_id)

            def decide(user=user):
                assert may_use(load_application("counted"), user).allowed

            counts.append(query_counter.count(decide))
    assert counts[0] == counts[1]
