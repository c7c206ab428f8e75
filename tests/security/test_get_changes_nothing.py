"""A GET changes nothing unless the browser says, with Fetch Metadata, that this site or the
user sent it. An older browser, a webview or a script sends no `Sec-Fetch-Site` at all: such
a GET may as well be another site's link or image, so it neither makes recovery codes (which
would replace the saved ones and switch on a second factor the user never saw) nor signs out
nor does anything else; the page asks for a click that carries a CSRF token instead. Mailed
links opened from a mail program (`Sec-Fetch-Site: none`) still work at once."""

import pytest
from flask import url_for
from sqlalchemy import select

from idp.core.extensions import db
from idp.identity.invitations import create_invitation
from idp.models import Flow, Policy, PolicyBinding, StageBinding, StaticCode
from tests import factories
from tests.database_state import table_rows
from tests.http.stages.test_authenticators import recovery_codes_on
from tests.security.visitor import open_mailed_link

STATIC_SETUP = "default-authenticator-static-setup"
ENROLLMENT = "default-enrollment-flow"
# Written by any request (an audit trail, the last time a session was seen): not a change
# the GET made to anyone's account.
BOOKKEEPING = ("events",)


def old_browser_get(visitor, path, **kwargs):
    """A GET as a browser without Fetch Metadata sends it."""
    visitor.http.headers.pop("Sec-Fetch-Site", None)
    try:
        return visitor.get(path, **kwargs)
    finally:
        visitor.http.headers["Sec-Fetch-Site"] = "same-origin"


def unused_codes(app, user_id) -> set[str]:
    with app.app_context():
        return set(
            db.session.scalars(
                select(StaticCode.code_hash).where(
                    StaticCode.user_id == user_id, StaticCode.used_at.is_(None)
                )
            )
        )


def account_state(app) -> dict:
    return {table: rows for table, rows in table_rows(app).items() if table not in BOOKKEEPING}


def test_the_recovery_codes_setup_opened_without_fetch_metadata_makes_no_codes(app, visitor, alice):
    visitor.sign_in("alice")
    visitor.open(STATIC_SETUP)  # a current browser, the user's own click: codes are made
    saved = unused_codes(app, alice)
    assert len(saved) == 10
    visitor.submit(STATIC_SETUP, {})  # "I have saved them"

    before = account_state(app)
    response = old_browser_get(visitor, f"/flow/{STATIC_SETUP}/")
    assert response.status_code == 200
    assert "Create recovery codes" in visitor.text
    assert 'class="recovery-codes"' not in visitor.page
    assert account_state(app) == before
    assert unused_codes(app, alice) == saved

    visitor.submit(STATIC_SETUP, {})  # the click makes them
    assert len(recovery_codes_on(visitor.page)) == 10
    assert unused_codes(app, alice).isdisjoint(saved)


def test_logout_opened_without_fetch_metadata_asks_before_signing_out(visitor, alice):
    visitor.sign_in("alice")
    response = old_browser_get(visitor, "/logout", follow_redirects=True)
    assert response.status_code == 200
    assert "Sign out" in visitor.text
    assert visitor.is_signed_in
    visitor.submit("default-invalidation-flow", {})
    assert not visitor.is_signed_in


def test_a_mailed_link_without_fetch_metadata_waits_for_a_click(visitor, mailbox):
    visitor.open(ENROLLMENT)
    fields = {
        "username": "newcomer",
        "email": "newcomer@example.test",
        "password": "a long and new passphrase",
        "password_repeat": "a long and new passphrase",
    }
    visitor.submit(ENROLLMENT, fields)
    link = mailbox.last_link()
    scanner = visitor.with_cookie("")
    response = old_browser_get(scanner, link)
    assert response.status_code == 200 and "Continue" in scanner.text
    scanner.close()
    # From the mail program it works at once, and the sign-up ends signed in.
    open_mailed_link(visitor, mailbox, 1)
    assert visitor.is_signed_in


@pytest.fixture
def every_get_path(app, alice):
    """Every GET route of the app, with real ids where it takes any."""
    with app.app_context():
        group = factories.make_group()
        slug = factories.make_flow(
            [{"define": {"name": "get-audit-deny", "type": "deny"}}],
            policies=[{"name": "get-audit", "type": "expression", "options": {"expression": "1"}}],
            flow_policies=[{"policy": "get-audit"}],
        )
        invitation, token = create_invitation(name="get-audit")
        db.session.commit()
        flow_id = db.session.scalar(select(Flow.id).where(Flow.slug == slug))
        binding = db.session.scalar(select(StageBinding).where(StageBinding.flow_id == flow_id))
        values = {
            "slug": slug,
            "binding_id": binding.id,
            "stage_id": binding.stage_id,
            "policy_id": db.session.scalar(select(Policy.id).where(Policy.name == "get-audit")),
            "group_id": group.id,
            "user_id": alice,
            "invitation_id": invitation.id,
            "kind": "totp",
            "authenticator_id": 1,
            "token": token,
            "type_name": "prompt",
            "direction": "down",
            "mapping_id": 1,
            "color": "2853c7",
            "name": "0" * 64 + ".png",
        }
        policy_binding_id = db.session.scalar(select(PolicyBinding.id))
        shipped = list(db.session.scalars(select(Flow.slug)))
    paths = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            rule_values = dict(values)
            if "polic" in rule.endpoint:
                rule_values["type_name"] = "expression"
            if "policy_binding" in rule.endpoint:
                rule_values["binding_id"] = policy_binding_id
            slugs = shipped if "slug" in rule.arguments else [None]
            for flow_slug in slugs:
                arguments = {key: rule_values[key] for key in rule.arguments}
                if flow_slug is not None:
                    arguments["slug"] = flow_slug
                paths.append(url_for(rule.endpoint, **arguments))
    return paths


def test_no_get_route_changes_anything_without_fetch_metadata(app, new_visitor, every_get_path):
    with app.app_context():
        factories.make_user("root", superuser=True)
    admin = new_visitor()
    admin.sign_in("root")
    before = account_state(app)
    answers = {path: old_browser_get(admin, path).status_code for path in every_get_path}
    assert all(status < 500 for status in answers.values()), answers
    assert account_state(app) == before
    assert admin.is_signed_in


def test_the_restart_link_without_fetch_metadata_keeps_the_plan(visitor, alice):
    visitor.open("default-authentication-flow")
    visitor.submit("default-authentication-flow", {"uid_field": "alice"})
    old_browser_get(visitor, "/flow/default-authentication-flow/restart")
    visitor.open("default-authentication-flow")
    assert visitor.stage == "password"
    visitor.get("/flow/default-authentication-flow/restart", follow_redirects=True)  # "Not you?"
    assert visitor.stage == "identification"
