"""Hypothesis fuzzing of URLs and of the admin: any flow slug, path or query string (with any
`next`), any path under /admin/, and any form data posted to any admin route by a superuser.
Never a 5xx or a traceback, and nothing written by a refused request."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from flask import url_for
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from idp.core.extensions import db
from idp.identity.invitations import create_invitation
from idp.models import (
    Application,
    Flow,
    OAuth2Token,
    Policy,
    PolicyBinding,
    ScopeMapping,
    StageBinding,
    UserSession,
)
from idp.models.types import utcnow
from tests.conftest import csrf_token
from tests.factories import make_flow, make_group, make_user
from tests.fuzz.strategies import (
    FUZZ_SETTINGS,
    assert_sound,
    field_values,
    form_fields,
    text_values,
)
from tests.http.admin.conftest import post, signed_in, token_of
from tests.http.admin.test_applications import new_form

AUTH = "default-authentication-flow"
slugs = st.one_of(
    st.sampled_from([AUTH, "default-recovery-flow", "", ".", "..", "a" * 300]),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=60),
)
query_strings = st.dictionaries(
    st.one_of(st.sampled_from(["next", "itoken", "page", "q"]), text_values), field_values
)
# Numbers that fit no column, besides text that is no number at all.
path_segments = st.one_of(text_values, st.integers(min_value=-(2**70), max_value=2**70).map(str))


def path_of(*segments) -> str:
    return "/".join(quote(segment, safe="") for segment in segments)


@FUZZ_SETTINGS
@given(slug=slugs, query=query_strings, suffix=st.lists(path_segments, max_size=3))
def test_any_flow_url_is_answered_cleanly(app, client, slug, query, suffix):
    path = f"/flow/{path_of(slug, *suffix)}/"
    assert_sound(app, lambda: client.get(path, query_string=query))


@FUZZ_SETTINGS
@given(slug=slugs, query=query_strings, form=st.dictionaries(text_values, field_values))
def test_any_post_to_a_flow_url_is_answered_cleanly(app, client, slug, query, form):
    page = client.get(f"/flow/{AUTH}/").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), **form}
    path = f"/flow/{quote(slug, safe='')}/"
    assert_sound(app, lambda: client.post(path, query_string=query, data=form))


@FUZZ_SETTINGS
@given(query=query_strings)
def test_the_entrances_take_any_query_string(app, client, query):
    for entrance in ("/login", "/logout", "/enroll", "/recover", "/unenroll", "/"):
        assert_sound(app, lambda entrance=entrance: client.get(entrance, query_string=query))


@pytest.fixture
def superuser(app):
    with app.app_context():
        make_user("root", superuser=True)
    return signed_in(app, "root")


@pytest.fixture
def admin_targets(app, superuser):
    """Every admin route that takes POST, with real ids, and the field names of its page."""
    created = post(superuser, "/admin/applications/new/oauth2", new_form(app, slug="fuzz-app"))
    assert created.status_code == 200, created.get_data(as_text=True)
    with app.app_context():
        group = make_group()
        victim = make_user("victim", groups=[group])
        slug = make_flow(
            [
                {
                    "define": {"name": "fuzz-first", "type": "deny"},
                    "policies": [{"group": group.name}],
                },
                {"define": {"name": "fuzz-second", "type": "deny"}},
            ],
            policies=[
                {"name": "fuzz-policy", "type": "expression", "options": {"expression": "True"}}
            ],
        )
        invitation, _ = create_invitation(name="fuzz")
        db.session.commit()
        flow_id = db.session.scalar(select(Flow.id).where(Flow.slug == slug))
        binding = db.session.scalar(select(StageBinding).where(StageBinding.flow_id == flow_id))
        values = {
            "slug": slug,
            "binding_id": binding.id,
            "stage_id": binding.stage_id,
            "policy_id": db.session.scalar(select(Policy.id).where(Policy.name == "fuzz-policy")),
            "group_id": group.id,
            "user_id": victim.id,
            "invitation_id": invitation.id,
            "session_id": db.session.scalar(select(UserSession.id)),
            "kind": "totp",
            "authenticator_id": 1,
            "direction": "down",
        }
        policy_binding_id = db.session.scalar(select(PolicyBinding.id))
        application = db.session.scalar(select(Application).where(Application.slug == "fuzz-app"))
        application_binding = PolicyBinding(application_id=application.id, group_id=group.id)
        token = OAuth2Token(
            application_id=application.id,
            user_id=victim.id,
            family="fuzz-family",
            grant_type="authorization_code",
            access_token_hash="0" * 64,
            access_expires_at=utcnow() + timedelta(hours=1),
        )
        mapping = ScopeMapping(name="fuzz-scope", expression='{"fuzz": True}')
        db.session.add_all([application_binding, token, mapping])
        db.session.commit()
        values["mapping_id"] = mapping.id
        # The application routes name an application, its policy bindings and its tokens.
        application_values = {
            "slug": application.slug,
            "binding_id": application_binding.id,
            "token_id": token.id,
            "type_name": "oauth2",
        }
    targets = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith("/admin/") or "POST" not in rule.methods:
                continue
            rule_values = dict(
                values, type_name="expression" if "polic" in rule.endpoint else "prompt"
            )
            if rule.endpoint in (
                "admin.flow_bindings.edit_policy_binding",
                "admin.flow_bindings.delete_policy_binding",
            ):
                rule_values["binding_id"] = policy_binding_id
            if "application" in rule.endpoint:
                rule_values.update(application_values)
            targets.append(url_for(rule.endpoint, **{k: rule_values[k] for k in rule.arguments}))
    fields = {}
    for target in targets:
        response = superuser.get(target)
        fields[target] = (
            form_fields(response.get_data(as_text=True)) if response.status_code == 200 else []
        )
    every_field = sorted({name for names in fields.values() for name in names})
    return targets, fields, every_field


@FUZZ_SETTINGS
@given(data=st.data())
def test_any_form_posted_to_any_admin_route_is_answered_cleanly(
    app, superuser, admin_targets, data
):
    targets, fields, every_field = admin_targets
    target = data.draw(st.sampled_from(targets))
    names = fields[target] + data.draw(st.lists(st.sampled_from(every_field), max_size=4))
    form = data.draw(st.fixed_dictionaries({}, optional=dict.fromkeys(names, field_values)))
    form["csrf_token"] = token_of(superuser)
    assert_sound(app, lambda: superuser.post(target, data=form))


@FUZZ_SETTINGS
@given(segments=st.lists(path_segments, min_size=1, max_size=4), query=query_strings)
def test_any_admin_path_is_answered_cleanly(app, superuser, segments, query):
    path = "/admin/" + path_of(*segments)
    assert_sound(app, lambda: superuser.get(path, query_string=query))
