"""Parallel requests that write what must exist once, on PostgreSQL (they pass on SQLite too):
every name an admin page creates or renames (users, groups, memberships, flows and imported
flows, stages, policies, scope mappings, application slugs), one brand row and one copy of each
brand file, one row per site setting, one passkey per credential id, one set of recovery codes,
one proxy application per address, and at least one administrator left when two of them
demote, disable or delete themselves or each other at the same moment.

A barrier holds every request after its checks and just before it writes, so the database (or
a lock) alone decides. Exactly one wins; the others get the form back with a message, or a
clear refusal; never a 500, never a second row, never no administrator at all.
"""

import io
import threading

import pytest
import yaml
from sqlalchemy import func, select

from idp.admin.applications import routes as application_routes
from idp.admin.users import actions as user_actions
from idp.core.extensions import db
from idp.core.forms import Form
from idp.credentials import authenticators, passkeys
from idp.models import (
    Application,
    Brand,
    BrandFile,
    Event,
    Flow,
    Group,
    Policy,
    ScopeMapping,
    SiteSetting,
    Stage,
    StaticCode,
    User,
    WebAuthnChallenge,
    WebAuthnDevice,
    group_members,
)
from idp.stages.user_delete import stage as user_delete_stage
from tests.conftest import POSTGRES_URL, FlowDriver
from tests.factories import PASSWORD, make_group, make_user
from tests.http.admin.conftest import signed_in, text, token_of
from tests.http.admin.page_forms import sent
from tests.http.admin.test_applications import new_form
from tests.http.admin.test_flow_import import NEW_FLOW
from tests.http.admin.test_flows import FLOW
from tests.http.admin.test_scope_mappings import mapping_form
from tests.http.brand.images import SVG_LOGO
from tests.http.brand.test_brand_settings import VALUES
from tests.http.forward_auth.test_admin import proxy_form
from tests.http.stages.test_authenticators import STATIC_SETUP, recovery_codes_on
from tests.http.stages.test_passkeys import ORIGIN
from tests.http.stages.test_passkeys import SETUP as PASSKEY_SETUP
from tests.http.stages.test_user_delete import UNENROLL
from tests.postgres.test_replay_audit_postgres import held_together, run_together
from tests.soft_authenticator import SoftAuthenticator, options_on

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="IDP_TEST_DATABASE_URL is not set"),
    pytest.mark.usefixtures("many_postgres_connections"),
]

PARALLEL = 4
ADMINS = ("root", "boss")


@pytest.fixture
def app_settings():
    # Every request holds its connection while it waits at the barrier.
    return {
        "ENVIRON": {"IDP_DATABASE_POOL_SIZE": str(PARALLEL + 2)},
        "WEBAUTHN_RP_ID": "localhost",
        "WEBAUTHN_ORIGIN": ORIGIN,
    }


@pytest.fixture
def stored_settings():
    # No setting stored yet: the first save of one inserts its row.
    return {}


@pytest.fixture
def admins(app):
    """Two administrators with a password, each signed in on a browser of their own."""
    with app.app_context():
        ids = [make_user(username=name, superuser=True).id for name in ADMINS]
    return dict(zip(ADMINS, ids, strict=True)), {name: signed_in(app, name) for name in ADMINS}


def browsers(app, count: int = PARALLEL) -> list:
    """`count` browsers of root, each with its own cookie jar and CSRF token."""
    return [signed_in(app, ADMINS[0]) for _ in range(count)]


def rows(app, model, *conditions) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def post_together(posts: list[tuple]) -> list:
    """Each (client, url, form, content_type) posted at once, with its own CSRF token."""
    prepared = [
        (client, url, {**form, "csrf_token": token_of(client)}, content_type)
        for client, url, form, content_type in posts
    ]
    return run_together(
        [
            lambda c=client, u=url, f=form, t=content_type: c.post(u, data=f, content_type=t)
            for client, url, form, content_type in prepared
        ]
    )


def statuses(responses) -> list[int]:
    return [response.status_code for response in responses]


def held_after_validation(monkeypatch, parties: int = PARALLEL) -> None:
    """Hold each request just after its form passed every check (a name is free), until the
    others are there too: the one that writes second meets the unique index, not the check."""
    everyone = threading.Barrier(parties, timeout=10)
    validate = Form.validate

    def validate_then_wait(self, *args, **kwargs):
        good = validate(self, *args, **kwargs)
        if not getattr(waited, "done", False):
            waited.done = True
            everyone.wait()
        return good

    waited = threading.local()
    monkeypatch.setattr(Form, "validate", validate_then_wait)


def create_application(app, admin, slug: str) -> None:
    response = admin.post(
        "/admin/applications/new/oauth2",
        data={**new_form(app, slug=slug, name=slug), "csrf_token": token_of(admin)},
    )
    assert response.status_code == 200, response.status_code


# What each admin page creates: its URL, the answers, the rows that must exist once, the
# status of the one that wins, and what the others are told beside the field.
CREATED = {
    "user": (
        "/admin/users/new",
        {"username": "newbie"},
        (User, User.username == "newbie"),
        303,
        "This username or email was just taken.",
    ),
    "group": (
        "/admin/groups/new",
        {"name": "editors"},
        (Group, Group.name == "editors"),
        303,
        "A group with this name was just created.",
    ),
    "flow": (
        "/admin/flows/new",
        FLOW,
        (Flow, Flow.slug == FLOW["slug"]),
        303,
        "A flow with this slug was just created.",
    ),
    "stage": (
        "/admin/stages/new/deny",
        {"name": "racer"},
        (Stage, Stage.name == "racer"),
        303,
        "A stage with this name was just created.",
    ),
    "stage bound to a flow": (
        "/admin/flows/default-authentication-flow/stages/create/deny",
        {"name": "racer"},
        (Stage, Stage.name == "racer"),
        303,
        "A stage with this name was just created.",
    ),
    "policy": (
        "/admin/policies/new/dummy",
        {"name": "racer"},
        (Policy, Policy.name == "racer"),
        303,
        "A policy with this name was just created.",
    ),
    "scope mapping": (
        "/admin/scope-mappings/new",
        mapping_form(),
        (ScopeMapping, ScopeMapping.name == "nextcloud"),
        303,
        "nextcloud",
    ),
    "application": (
        "/admin/applications/new/oauth2",
        None,
        (Application, Application.slug == "grafana"),
        200,
        "An application with this slug was just created.",
    ),
    # The import's confirmation has no page of its own: the preview's form sends the file.
    "imported flow": (
        "/admin/flows/import/confirm",
        {"content": yaml.safe_dump(NEW_FLOW)},
        (Flow, Flow.slug == NEW_FLOW["flow"]["slug"]),
        303,
        "A flow with this slug was just created.",
    ),
}


@pytest.mark.parametrize("what", list(CREATED))
def test_parallel_creates_of_one_name_make_one_and_tell_the_others(app, admins, monkeypatch, what):
    url, answers, (model, condition), winner, message = CREATED[what]
    answers = new_form(app) if answers is None else answers
    clients = browsers(app)
    forms = [
        answers if url.endswith("/confirm") else sent(text(client.get(url)), url, answers)
        for client in clients
    ]
    held_after_validation(monkeypatch)

    responses = post_together(
        [(client, url, form, None) for client, form in zip(clients, forms, strict=True)]
    )

    assert sorted(statuses(responses)) == [winner] + [400] * (PARALLEL - 1), statuses(responses)
    assert rows(app, model, condition) == 1
    for response in responses:
        if response.status_code == 400:
            assert message in text(response)


def test_parallel_renames_of_applications_to_one_slug_keep_one(app, admins, monkeypatch):
    clients = browsers(app)
    for number in range(PARALLEL):
        create_application(app, clients[0], f"app-{number}")
    urls = [f"/admin/applications/app-{number}/edit" for number in range(PARALLEL)]
    held_after_validation(monkeypatch)

    responses = post_together(
        [
            (client, url, new_form(app, slug="grafana"), None)
            for client, url in zip(clients, urls, strict=True)
        ]
    )

    assert sorted(statuses(responses)) == [303] + [400] * (PARALLEL - 1), statuses(responses)
    assert rows(app, Application, Application.slug == "grafana") == 1
    assert rows(app, Application) == PARALLEL
    for response in responses:
        if response.status_code == 400:
            assert "An application with this slug was just created." in text(response)


@pytest.mark.parametrize(
    ("action", "event"),
    [("superuser/remove", "admin_superuser_removed"), ("disable", "admin_user_disabled")],
)
def test_two_administrators_demoting_each_other_at_once_leave_one(
    app, admins, monkeypatch, action, event
):
    ids, clients = admins
    other = {"root": ids["boss"], "boss": ids["root"]}
    held_together(monkeypatch, user_actions, "_change_flag", len(ADMINS), wait=10)

    responses = post_together(
        [(clients[name], f"/admin/users/{other[name]}/{action}", {}, None) for name in ADMINS]
    )

    assert statuses(responses) == [303, 303]
    left = rows(app, User, User.is_superuser, User.is_active, User.password_hash.is_not(None))
    assert left == 1
    assert rows(app, Event, Event.action == event) == 1


def test_parallel_first_saves_of_a_setting_store_one_row(app, admins, monkeypatch):
    clients = browsers(app)
    held_after_validation(monkeypatch)

    responses = post_together(
        [(client, "/admin/settings", {"enrollment": "on"}, None) for client in clients]
    )

    assert statuses(responses) == [303] * PARALLEL
    assert rows(app, SiteSetting) == 1
    with app.app_context():
        assert db.session.get(SiteSetting, "enrollment").value == "on"


@pytest.mark.parametrize("with_logo", [False, True], ids=["text", "logo"])
def test_parallel_first_saves_of_the_brand_store_one_row_and_one_file(
    app, admins, monkeypatch, with_logo
):
    clients = browsers(app)
    held_after_validation(monkeypatch)

    def form():
        changes = {**VALUES, "product_name": "Acme ID"}
        if with_logo:
            changes["logo"] = (io.BytesIO(SVG_LOGO), "logo.svg")
        return changes

    responses = post_together(
        [(client, "/admin/brand", form(), "multipart/form-data") for client in clients]
    )

    assert statuses(responses) == [303] * PARALLEL
    assert rows(app, Brand) == 1
    assert rows(app, BrandFile) == (1 if with_logo else 0)
    with app.app_context():
        brand = db.session.get(Brand, 1)
        assert brand.product_name == "Acme ID"
        if with_logo:
            assert db.session.get(BrandFile, brand.logo) is not None


def at_the_unenrollment_password(app, username: str, address: str) -> FlowDriver:
    """From an address of its own: two sign-ins from one address share its counter row,
    whose lock alone would run them one after the other."""
    driver = FlowDriver(app.test_client())
    driver.client.environ_base["REMOTE_ADDR"] = address
    driver.sign_in(username, PASSWORD)
    driver.open(UNENROLL)
    driver.submit(UNENROLL, {})
    assert driver.stage == "password"
    return driver


@pytest.mark.parametrize("boss_does", ["delete", "demote"])
def test_administrators_leaving_at_once_leave_one(app, admins, monkeypatch, boss_does):
    """root deletes their own account while boss deletes theirs, or gives up being an
    administrator: the two checks that an administrator stays wait for each other."""
    ids, clients = admins
    root = at_the_unenrollment_password(app, "root", "203.0.113.1")
    if boss_does == "delete":
        boss = at_the_unenrollment_password(app, "boss", "203.0.113.2")
        boss_leaves = lambda: boss.submit(UNENROLL, {"password": PASSWORD})  # noqa: E731
    else:
        form = {"csrf_token": token_of(clients["boss"])}
        url = f"/admin/users/{ids['boss']}/superuser/remove"
        boss_leaves = lambda: clients["boss"].post(url, data=form)  # noqa: E731
    # Once they checked that an administrator stays; one a lock holds back is waited for 10 s.
    also = [(user_actions, "is_last_superuser")]
    held_together(
        monkeypatch, user_delete_stage, "_is_last_administrator", len(ADMINS), also, 10, True
    )

    responses = run_together([lambda: root.submit(UNENROLL, {"password": PASSWORD}), boss_leaves])

    assert 500 not in statuses(responses)
    assert sorted(statuses(responses))[0] == 303  # one of them did leave
    assert rows(app, User, User.is_superuser, User.is_active) == 1


def test_recovery_codes_made_in_two_tabs_at_once_leave_one_set(app, monkeypatch):
    """New codes replace the unused old ones: of two sets made at once, only the one made
    last works, never both (the other tab's page may be left open for anyone to read)."""
    with app.app_context():
        alice = make_user("alice").id
    tabs = []
    for address in ("203.0.113.1", "203.0.113.2"):
        tab = FlowDriver(app.test_client())
        tab.client.environ_base["REMOTE_ADDR"] = address
        tab.sign_in("alice", PASSWORD)
        tabs.append(tab)
    held_together(monkeypatch, authenticators, "replace_recovery_codes", 2, wait=10, after=True)

    pages = run_together([lambda tab=tab: tab.open(STATIC_SETUP) for tab in tabs])

    assert statuses(pages) == [200, 200]
    shown = [set(recovery_codes_on(page.get_data(as_text=True))) for page in pages]
    unused = StaticCode.user_id == alice, StaticCode.used_at.is_(None)
    assert rows(app, StaticCode, *unused) == len(shown[0]) == len(shown[1]) == 10


def test_one_passkey_registered_by_two_accounts_at_once_is_kept_once(app, monkeypatch):
    """A credential id is one passkey's: the second registration is refused as already
    registered (as it is when it comes later), not a 500."""
    with app.app_context():
        for name in ("alice", "mallory"):
            make_user(name)
    tabs, copies = [], []
    credential_id = SoftAuthenticator().credential_id
    for number, name in enumerate(("alice", "mallory")):
        tab = FlowDriver(app.test_client())
        tab.client.environ_base["REMOTE_ADDR"] = f"203.0.113.{number + 1}"
        tab.sign_in(name, PASSWORD)
        tab.open(PASSKEY_SETUP)
        copies.append(SoftAuthenticator(credential_id=credential_id).create(options_on(tab.page)))
        tabs.append(tab)
    # user_handle is called once the credential id was found free, just before the insert.
    held_together(monkeypatch, passkeys, "user_handle", 2, wait=10)

    responses = run_together(
        [
            lambda tab=tab, answer=answer: tab.submit(
                PASSKEY_SETUP, {"name": "Key", "webauthn_response": answer}
            )
            for tab, answer in zip(tabs, copies, strict=True)
        ]
    )

    assert sorted(statuses(responses)) == [303, 400], statuses(responses)
    assert "That passkey is already registered." in text(
        next(response for response in responses if response.status_code == 400)
    )
    assert rows(app, WebAuthnDevice) == 1


def test_two_proxies_for_one_address_created_at_once_make_one(app, admins, monkeypatch):
    """One address, one application (no database constraint says so: the check and the
    insert are made one at a time by a lock)."""
    clients = browsers(app, 2)
    held_together(monkeypatch, application_routes, "address_taken", 2, wait=10, after=True)

    responses = post_together(
        [
            (client, "/admin/applications/new/proxy", proxy_form(app, slug=f"wiki-{n}"), None)
            for n, client in enumerate(clients)
        ]
    )

    assert sorted(statuses(responses)) == [303, 400], statuses(responses)
    refused = next(response for response in responses if response.status_code == 400)
    assert "wiki.example.test is already the address of application" in text(refused)
    assert rows(app, Application) == 1


@pytest.mark.parametrize("where", ["group", "user"])
def test_parallel_adds_of_one_member_make_one_membership(app, admins, monkeypatch, where):
    with app.app_context():
        group, alice = make_group("editors").id, make_user("alice").id
    url, answers = {
        "group": (f"/admin/groups/{group}/members", {"username": "alice"}),
        "user": (f"/admin/users/{alice}/groups", {"group": str(group)}),
    }[where]
    clients = browsers(app)
    held_after_validation(monkeypatch)

    responses = post_together([(client, url, answers, None) for client in clients])

    # The others are told it was just done, or, when they checked after it, that it is done.
    assert sorted(statuses(responses)) == [303] + [400] * (PARALLEL - 1), statuses(responses)
    assert rows(app, group_members, group_members.c.user_id == alice) == 1


# What each admin page renames: the field, the page with its form, where that form posts.
RENAMED = {
    "user": ("username", "/admin/users/{}/edit", "/admin/users/{}/edit"),
    "group": ("name", "/admin/groups/{}", "/admin/groups/{}/rename#rename"),
    "flow": ("slug", "/admin/flows/{}/edit", "/admin/flows/{}/edit"),
    "stage": ("name", "/admin/stages/{}", "/admin/stages/{}"),
    "policy": ("name", "/admin/policies/{}", "/admin/policies/{}"),
    "scope mapping": ("name", "/admin/scope-mappings/{}", "/admin/scope-mappings/{}"),
}


@pytest.mark.parametrize("what", list(RENAMED))
def test_parallel_renames_to_one_name_keep_one_and_tell_the_others(app, admins, monkeypatch, what):
    new_url, answers, (model, _), _, message = CREATED[what]
    field, page_url, action_url = RENAMED[what]
    clients = browsers(app)
    keys = []
    for number in range(PARALLEL):
        name = f"{what.replace(' ', '-')}-{number}"
        form = sent(text(clients[0].get(new_url)), new_url, {**answers, field: name})
        form["csrf_token"] = token_of(clients[0])
        assert clients[0].post(new_url, data=form).status_code == 303
        with app.app_context():
            row = db.session.scalar(select(model).where(getattr(model, field) == name))
            keys.append(row.slug if field == "slug" else row.id)
    forms = [
        sent(text(client.get(page_url.format(key))), action_url.format(key), {field: "taken"})
        for client, key in zip(clients, keys, strict=True)
    ]
    action_url = action_url.removesuffix("#rename")
    held_after_validation(monkeypatch)

    responses = post_together(
        [
            (client, action_url.format(key), form, None)
            for client, key, form in zip(clients, keys, forms, strict=True)
        ]
    )

    assert sorted(statuses(responses)) == [303] + [400] * (PARALLEL - 1), statuses(responses)
    assert rows(app, model, getattr(model, field) == "taken") == 1
    assert rows(app, model, getattr(model, field).like(f"{what.replace(' ', '-')}-%")) == 3
    for response in responses:
        if response.status_code == 400:
            assert message in text(response)


def test_two_copies_of_a_plan_asking_for_a_new_passkey_challenge_at_once_keep_one(app, monkeypatch):
    """A stage has one challenge per plan (the newer replaces the older): two requests of one
    plan (two tabs of one browser) whose answers are refused at once each make a new one, and
    get the stage again, not a 500. (The first takes the challenge with a DELETE whose row lock
    holds the second until it committed: the second then replaces the first's new one.)"""
    with app.app_context():
        make_user("alice")
    tab = FlowDriver(app.test_client())
    tab.sign_in("alice", PASSWORD)
    tab.open(PASSKEY_SETUP)
    other = FlowDriver(app.test_client())
    cookie = tab.client.get_cookie("gatehouse_session")
    other.client.set_cookie(cookie.key, cookie.value)
    other.page = tab.page
    held_together(monkeypatch, passkeys, "new_challenge", 2)

    responses = run_together(
        [
            lambda driver=driver: driver.submit(
                PASSKEY_SETUP, {"name": "Key", "webauthn_response": "not an answer"}
            )
            for driver in (tab, other)
        ]
    )

    assert statuses(responses) == [400, 400]  # the stage again, with its message
    assert rows(app, WebAuthnChallenge) == 1
