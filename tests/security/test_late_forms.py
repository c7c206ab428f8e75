"""Every form a signed-in user and an administrator can reach, sent back late: the page is
opened, then the form is posted after the clock moved (2 minutes to 401 days), after another
session deleted what it edits or what its lists offer, after the user was signed out, disabled
or made a plain user elsewhere, twice in a row, twice at once (a double click), and at the
moment another administrator deletes its object. The forms are found by crawling the pages
(tests/security/crawler.py), not listed by hand, so a new form is covered at once.

The answer is never a 500: it is the page as on time, a 4xx with words (a 404 for what is
gone), or a sign-in that comes back to the page; and a refused form leaves the database as
it was (tables the request keeps anyway, BOOKKEEPING, aside)."""

import re
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from sqlalchemy import select

from idp.applications.manage import create_application
from idp.core.extensions import db
from idp.credentials import authenticators
from idp.identity.invitations import create_invitation
from idp.models import (
    Application,
    Consent,
    OAuth2Token,
    Policy,
    PolicyBinding,
    ScopeMapping,
    Stage,
    User,
)
from idp.models.types import utcnow
from tests import factories
from tests.conftest import FlowDriver
from tests.database_state import table_rows
from tests.factories import PASSWORD
from tests.security.crawler import crawl, read_page
from tests.security.visitor import AUTH

LATE = {
    "2 minutes": timedelta(minutes=2),
    "31 minutes": timedelta(minutes=31),
    "25 hours": timedelta(hours=25),
    "401 days": timedelta(days=401),
}
IDLE = timedelta(minutes=30)  # IDP_SESSION_IDLE_TIMEOUT's default
# Written by signing in and out and by the audit trail, whatever the form did.
BOOKKEEPING = ("events", "user_sessions")
# A form that takes away what it is about: sent after the others of its run.
DESTRUCTIVE = re.compile(r"/(delete|remove|revoke|disable)$")
# Ending a session (perhaps the crawl's own): sent last of all.
SESSIONS = re.compile(r"/sessions/")
SCENE_FLOW = "late-forms-flow"
SCENE_APPLICATION = "late-forms-app"
# The scene's objects a list may offer, the ones deleted first.
SCENE_NAMES = ("late-unused", "late-forms-group", "late-forms", "late")


@dataclass
class Person:
    name: str
    starts: list
    within: tuple


@dataclass
class Stale:
    """A form as a page showed it, kept to be sent later."""

    page: str
    action: str
    fields: dict
    choices: dict = field(default_factory=dict)

    def choosing(self, *words: str) -> "Stale":
        """The form with each list set to an option naming the first of `words` it offers."""
        fields = dict(self.fields)
        for name, options in self.choices.items():
            named = [value for word in words for value, label in options if word in value + label]
            if named:
                fields[name] = named[0]
        return Stale(self.page, self.action, fields, self.choices)

    def filled(self) -> "Stale":
        """The form with its empty names filled in, so that a form that creates creates."""
        fields = dict(self.fields)
        for name, value in FILL.items():
            if name in fields and not fields[name].strip():
                fields[name] = value
        return Stale(self.page, self.action, fields, self.choices)


# What a person types into an empty form that makes something.
FILL = {
    "name": "late-twice",
    "username": "late-twice",
    "slug": "late-twice",
    "email": "late-twice@example.test",
    "expression": '{"twice": True}',
}


@pytest.fixture
def people(app, clock):
    """alice (an authenticator app, recovery codes, a consent), root and root2 (two
    administrators), bob (a member of a group), a flow, an application and an invitation."""
    with app.app_context():
        group = factories.make_group("late-forms-group")
        bob = factories.make_user("bob", groups=[group])
        alice = factories.make_user("alice", email="alice@example.test")
        factories.make_user("root", superuser=True)
        factories.make_user("root2", superuser=True)
        factories.make_flow(
            [
                {
                    "define": {"name": "late-first", "type": "deny"},
                    "policies": [{"policy": "late-policy"}],
                },
                {"define": {"name": "late-second", "type": "deny"}},
            ],
            slug=SCENE_FLOW,
            policies=[
                {"name": "late-policy", "type": "expression", "options": {"expression": "True"}}
            ],
            flow_policies=[{"policy": "late-policy"}],
        )
        factories.make_group("late-forms-other-group")  # offered on bob's page
        unused_stage = Stage(name="late-unused", type="deny")
        unused_policy = Policy(name="late-unused", type="expression", options={"expression": "1"})
        mapping = ScopeMapping(name="late-scope", expression='{"late": True}')
        db.session.add_all([unused_stage, unused_policy, mapping])
        invitation, _ = create_invitation(name="late-forms")
        create_application(
            SCENE_APPLICATION,
            "Late forms",
            "oauth2",
            {"client_type": "confidential", "redirect_uris": ["https://rp.example.test/cb"]},
        )
        db.session.flush()
        application = db.session.scalar(
            select(Application).where(Application.slug == SCENE_APPLICATION)
        )
        db.session.add(
            Consent(
                user_id=alice.id,
                subject="alice",
                application_id=application.id,
                scopes=["openid"],
            )
        )
        policy_id = db.session.scalar(select(Policy.id).where(Policy.name == "late-policy"))
        db.session.add(PolicyBinding(application_id=application.id, policy_id=policy_id))
        db.session.add(
            OAuth2Token(
                application_id=application.id,
                user_id=bob.id,
                family="late-family",
                grant_type="authorization_code",
                scope="openid",
                access_token_hash="1" * 64,
                access_expires_at=utcnow() + timedelta(hours=1),
            )
        )
        for user in (bob, alice):
            secret = pyotp.random_base32()
            code = pyotp.TOTP(secret).now()
            assert authenticators.add_totp_device(user, secret, authenticators.TotpSettings(), code)
            authenticators.replace_recovery_codes(user, 10)
        db.session.commit()
        group_id, bob_id, invitation_id = group.id, bob.id, invitation.id
        stage_id, unused_policy_id = unused_stage.id, unused_policy.id
    admin_pages = [
        f"/admin/users/{bob_id}",
        f"/admin/groups/{group_id}",
        f"/admin/invitations/{invitation_id}",
        f"/admin/applications/{SCENE_APPLICATION}",
        f"/admin/applications/{SCENE_APPLICATION}/tokens",
        f"/admin/applications/{SCENE_APPLICATION}/bindings",
        f"/admin/flows/{SCENE_FLOW}",
        f"/admin/flows/{SCENE_FLOW}/stages",
        f"/admin/stages/{stage_id}",
        f"/admin/policies/{unused_policy_id}",
        "/admin/",
    ]
    return {
        "alice": Person("alice", ["/me", "/me/applications"], ("/me", "/account", "/flow/")),
        "root": Person("root", admin_pages, ("/admin",)),
        "root2": Person("root2", admin_pages, ("/admin",)),
    }


def fresh_recovery_code(app, username: str) -> str:
    """A recovery code that works: opening the recovery codes' setup (a crawl does) makes
    new ones, and the old ones stop working."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        code = authenticators.replace_recovery_codes(user, 1)[0]
        db.session.commit()
    return code


def sign_in(app, person):
    flows = FlowDriver(app.test_client())
    flows.sign_in(person.name, PASSWORD)
    if 'data-stage="authenticator_validate"' in flows.page:
        flows.submit(AUTH, {"code": fresh_recovery_code(app, person.name)})
    assert flows.client.get("/me").status_code == 200, person.name
    return flows.client


def forms_of(app, client, person):
    """The forms the person's pages show; the destructive ones last."""

    def get(path):
        response = client.get(path)
        return response.status_code, response.get_data(as_text=True)

    forms = crawl(get, person.starts, person.within)
    return sorted(
        forms,
        key=lambda form: (
            bool(SESSIONS.search(form.action)),
            bool(DESTRUCTIVE.search(form.action)),
        ),
    )


def open_form(client, form) -> Stale | None:
    """The form as its page shows it now (a fresh token); None when the page or the form is
    gone (an earlier form of the run removed it)."""
    response = client.get(form.page)
    if response.status_code != 200:
        return None
    for action, fields, choices in read_page(response.get_data(as_text=True)).forms:
        action = urlsplit(action).path or urlsplit(form.page).path
        if action == form.action:
            # The password a confirmation asks for (the user's; the administrator sets
            # the same again).
            for name in ("password", "confirm"):
                if fields.get(name) == "":
                    fields[name] = PASSWORD
            return Stale(form.page, action, fields, choices)
    return None


def send(client, stale: Stale, htmx=False):
    # A browser sends the page as the Referer.
    headers = {"Referer": f"http://localhost{stale.page}"}
    if htmx:
        headers["HX-Request"] = "true"
    return client.post(stale.action, data=stale.fields, headers=headers)


def words(response) -> str:
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", response.get_data(as_text=True))
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", text, flags=re.S)).split())


def problem(response) -> str | None:
    """What is wrong with the answer to a late form, or None."""
    status = response.status_code
    body = response.get_data(as_text=True)
    if status >= 500 or "Traceback" in body:
        return f"{status}: {words(response)[:200]}"
    if status >= 400 and len(words(response)) < 10:
        return f"{status} without words"
    return None


def to_sign_in(response, page: str) -> bool:
    """Sent to sign in, and back to the form's page afterwards."""
    location = urlsplit(response.headers.get("Location", ""))
    return (
        response.status_code in (302, 303)
        and location.path == "/login"
        and parse_qs(location.query).get("next") == [page]
    )


def signed_out(response, page: str) -> bool:
    """What a form sent without a session gets: sent to sign in and back to its page; a
    flow's step (a flow is its own page) says in its own page to sign in first."""
    if page.startswith("/flow/"):
        return response.status_code == 403 and "Please sign in first" in words(response)
    return to_sign_in(response, page)


def expired(response) -> bool:
    """Past the cookie's lifetime (400 days) the browser has no session left to sign in
    again from: the form is refused as expired, in words."""
    return response.status_code == 400 and "The form had expired" in words(response)


def state(app) -> dict:
    return {table: rows for table, rows in table_rows(app).items() if table not in BOOKKEEPING}


def changed(before, after) -> list[str]:
    return [table for table in before if before[table] != after[table]]


# -- (a) sent late -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "root"])
def test_every_form_sent_two_minutes_late_is_taken_as_on_time(app, clock, people, who):
    """The user back after a short pause: each form is answered as on time (never a 500,
    never refused as an expired form); the forms that end a session come last."""
    person = people[who]
    client = sign_in(app, person)
    forms = forms_of(app, client, person)
    assert len(forms) > (60 if who == "root" else 6), [form.shape for form in forms]
    problems = {}
    for form in forms:
        if client.get("/me").status_code != 200:
            client = sign_in(app, person)
        if not (stale := open_form(client, form)):
            continue
        clock.shift(LATE["2 minutes"])
        response = send(client, stale)
        if trouble := problem(response) or (
            "refused as an expired form" if expired(response) else None
        ):
            problems[form.shape] = trouble
    assert problems == {}


@pytest.mark.parametrize(
    "late", [LATE[key] for key in LATE if key != "2 minutes"], ids=list(LATE)[1:]
)
@pytest.mark.parametrize("who", ["alice", "root"])
def test_every_form_sent_after_the_session_timed_out(app, clock, people, who, late):
    """Every page opened, then every form sent after the session ended (idle, a day, past
    the cookie's 400 days), as a page and as htmx: sent to sign in and back to the page
    (htmx: the page reloads, which does), or refused in words; nothing is written."""
    person = people[who]
    client = sign_in(app, person)
    stale = [found for form in forms_of(app, client, person) if (found := open_form(client, form))]
    clock.shift(late)
    before = state(app)
    problems = {}
    for found in stale:
        response = send(client, found)
        if not (signed_out(response, found.page) or expired(response)):
            where = response.headers.get("Location")
            problems[found.action] = problem(response) or f"{response.status_code} {where}"
        response = send(client, found, htmx=True)
        reloads = response.status_code == 200 and response.headers.get("HX-Refresh") == "true"
        flow_step = found.page.startswith("/flow/") and "Please sign in first" in words(response)
        if not (reloads or flow_step or expired(response)):
            problems[f"{found.action} (htmx)"] = problem(response) or str(response.status_code)
    assert problems == {}
    assert changed(before, state(app)) == []


# -- (b) what the form is about was deleted in another session ---------------------------------

# Forms that delete what their page is about (an authenticator, a consent, a flow, ...).
DELETES = re.compile(r"/(delete|remove)$|/(consents|invitations|tokens)/\d+/revoke$")
# Who deletes elsewhere: another administrator, or the user in another tab.
ELSEWHERE = {"root": "root2", "alice": "alice"}


def send_all(client, forms, keep) -> list:
    """Open and send every form `keep` accepts; the answers."""
    answers = []
    for form in forms:
        if keep(form) and (stale := open_form(client, form)):
            answers.append((form, send(client, stale)))
    return answers


# What the other session deletes: everything it can, or only what the forms' lists offer
# (a stage, a policy, a group, ...), so that the flow a form binds them to is still there.
WHAT = {
    "everything": lambda action: True,
    "what a list offers": lambda action: not action.startswith("/admin/flows/"),
    "a flow a list offers": lambda action: action == f"/admin/flows/{SCENE_FLOW}/delete",
}


# alice's forms have no lists of her objects.
@pytest.mark.parametrize(
    ("who", "what"),
    [
        ("alice", "everything"),
        ("root", "everything"),
        ("root", "what a list offers"),
        ("root", "a flow a list offers"),
    ],
)
def test_every_form_sent_after_its_object_was_deleted_elsewhere(app, people, who, what):
    person = people[who]
    client = sign_in(app, person)
    forms = forms_of(app, client, person)
    # Each list set to the scene's objects (late-*), which the other session deletes.
    stale = [
        (form, found.choosing(*SCENE_NAMES)) for form in forms if (found := open_form(client, form))
    ]
    other = client if who == "alice" else sign_in(app, people[ELSEWHERE[who]])
    deletions = send_all(
        other, forms, lambda form: DELETES.search(form.action) and WHAT[what](form.action)
    )
    least = {"alice": 2, "root": 8}[who] if what != "a flow a list offers" else 1
    assert len(deletions) >= least, [form.shape for form, _ in deletions]
    problems = {
        form.shape: trouble for form, response in deletions if (trouble := problem(response))
    }
    for form, found in stale:
        before = state(app)
        response = send(client, found)
        trouble = problem(response)
        if not trouble and response.status_code == 404 and changed(before, state(app)):
            trouble = f"404 but changed {changed(before, state(app))}"
        if trouble:
            problems[form.shape] = trouble
    assert problems == {}


# -- (c) signed out in another tab, or by an administrator -------------------------------------


# What another session does to this one, as the form on the user's admin page that does it.
ELSEWHERE_ACTIONS = {
    "sessions revoked by an admin": r"/sessions/\d+/revoke$",
    "disabled by an admin": r"/disable$",
    "no longer an administrator": r"/superuser/remove$",
}


def end_elsewhere(app, client, people, who, how):
    if how == "signed out in another tab":
        client.get("/logout", follow_redirects=True)
        return
    admin = sign_in(app, people["root2"])
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == who))
    response = admin.get(f"/admin/users/{user_id}")
    done = [
        admin.post(action, data=fields).status_code
        for action, fields, _ in read_page(response.get_data(as_text=True)).forms
        if re.search(ELSEWHERE_ACTIONS[how], action)
    ]
    assert done and all(status == 303 for status in done), done


@pytest.mark.parametrize(
    ("who", "how"),
    [
        (who, how)
        for who in ("alice", "root")
        for how in ("signed out in another tab", *ELSEWHERE_ACTIONS)
        if (who, how) != ("alice", "no longer an administrator")
    ],
)
def test_every_form_sent_after_the_session_ended_elsewhere(app, people, who, how):
    """Signed out elsewhere: sent to sign in and back. No longer an administrator: refused
    in words (403). Either way nothing is written."""
    person = people[who]
    client = sign_in(app, person)
    forms = forms_of(app, client, person)
    stale = [(form, found) for form in forms if (found := open_form(client, form))]
    end_elsewhere(app, client, people, who, how)
    before = state(app)
    problems = {}
    for form, found in stale:
        response = send(client, found)
        if how == "no longer an administrator":
            expected = response.status_code == 403 and "Only administrators" in words(response)
        else:
            expected = signed_out(response, found.page)
        if trouble := problem(response) or (None if expected else str(response.status_code)):
            problems[form.shape] = trouble
    assert problems == {}
    assert changed(before, state(app)) == []


# -- (d) sent twice --------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "root"])
def test_every_form_sent_twice(app, people, who):
    """A double click, or the page sent again with its token after the first changed the
    object: the second answer is a page, a redirect or a 4xx with words (a 404 for what the
    first removed)."""
    person = people[who]
    client = sign_in(app, person)
    problems = {}
    for form in forms_of(app, client, person):
        if client.get("/me").status_code != 200:
            client = sign_in(app, person)
        if not (found := open_form(client, form)):
            continue
        found = found.filled()
        for attempt in ("first", "second"):
            if trouble := problem(send(client, found)):
                problems[f"{form.shape} ({attempt})"] = trouble
    assert problems == {}


@pytest.mark.parametrize(("who", "page"), [("alice", "/me"), ("root", "/admin/brand")])
def test_the_sign_in_after_a_late_form_comes_back_to_its_page(app, clock, people, who, page):
    person = people[who]
    client = sign_in(app, person)
    (stale,) = [
        found
        for action, fields, _ in read_page(client.get(page).get_data(as_text=True)).forms
        if (found := Stale(page, urlsplit(action).path or page, fields)).action.startswith(page)
    ][:1]
    clock.shift(LATE["31 minutes"])
    response = send(client, stale)
    assert to_sign_in(response, page)
    flows = FlowDriver(client)
    login = client.get(response.headers["Location"])
    flows.open(AUTH, next_url=parse_qs(urlsplit(login.headers["Location"]).query)["next"][0])
    flows.submit(AUTH, {"uid_field": who}, next_url=page)
    answer = flows.submit(AUTH, {"password": PASSWORD}, next_url=page)
    if 'data-stage="authenticator_validate"' in flows.page:
        answer = flows.submit(AUTH, {"code": fresh_recovery_code(app, who)}, next_url=page)
    assert answer.headers["Location"] == page
    assert client.get(page).status_code == 200


def same_browser(app, client):
    """A second connection of the same browser: its cookies, its session."""
    other = app.test_client()
    for cookie in client._cookies.values():
        other.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    return other


def at_once(clients, stale: Stale) -> list:
    """The form sent by each client at the same moment, as a double click sends it twice."""
    start, answers = threading.Barrier(len(clients)), [None] * len(clients)

    def post(index):
        start.wait()
        answers[index] = send(clients[index], stale)

    threads = [threading.Thread(target=post, args=(index,)) for index in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


# Two deletes of one row at once: the second DELETE meets no row, which SQLAlchemy only warns
# about (the suite makes warnings errors; a server logs it and answers as the first did).
@pytest.mark.filterwarnings("ignore:DELETE statement on table:sqlalchemy.exc.SAWarning")
@pytest.mark.parametrize("who", ["alice", "root"])
def test_every_form_sent_twice_at_once(app, people, who):
    """A double click on a form that makes something with a name (a flow, a user, a group, a
    stage, a policy): both requests pass the form's check before either writes, and the
    unique index refuses the second at its INSERT. It was a 500; it is the form again, with
    the name marked as taken. A form that deletes or removes: both answer, neither a 500."""
    person = people[who]
    client = sign_in(app, person)
    problems = {}
    for form in forms_of(app, client, person):
        if SESSIONS.search(form.action):
            continue
        if client.get("/me").status_code != 200:
            client = sign_in(app, person)
        if not (found := open_form(client, form)):
            continue
        for index, response in enumerate(
            at_once([client, same_browser(app, client)], found.filled())
        ):
            if trouble := problem(response):
                problems[f"{form.shape} ({index})"] = trouble
    assert problems == {}


@pytest.mark.parametrize("attempt", range(3))
def test_an_edit_saved_while_another_admin_deletes_the_object(app, people, attempt):
    """Each object's edit form sent at the moment another administrator deletes the object:
    the update met no row (StaleDataError), a 500. It is a 404 in words, or the edit came
    first and the delete after; never both half."""
    client = sign_in(app, people["root"])
    other = sign_in(app, people["root2"])
    forms = forms_of(app, client, people["root"])
    problems = {}
    for deletion in [form for form in forms if form.action.endswith("/delete")]:
        about = deletion.action.removesuffix("/delete")
        edits = [
            form
            for form in forms
            if form.action.startswith(about)
            and not DESTRUCTIVE.search(form.action)
            and not re.search(r"/new$|/new/|/create/", form.action)
        ]
        if not edits:
            continue
        edit = open_form(client, edits[attempt % len(edits)])
        delete = open_form(other, deletion)
        if not (edit and delete):
            continue
        start, answers = threading.Barrier(2), {}

        def post(name, browser, stale, start=start, answers=answers):
            start.wait()
            answers[name] = send(browser, stale)

        threads = [
            threading.Thread(target=post, args=("edit", client, edit)),
            threading.Thread(target=post, args=("delete", other, delete)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for name, response in answers.items():
            if trouble := problem(response):
                problems[f"{edit.action} ({name})"] = trouble
    assert problems == {}
