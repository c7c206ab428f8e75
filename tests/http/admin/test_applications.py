"""The admin's Applications section: list in words, two-step create with the secret shown
once, edit, bindings through the flows' dialog, delete after a confirmation."""

from datetime import timedelta

from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Application, Flow, OAuth2Token, PolicyBinding, Provider
from idp.models.types import utcnow
from idp.providers.oauth2 import credentials, tokens
from tests.factories import make_group
from tests.http.admin.conftest import events_of, post, signed_in, text


def new_form(app, **changes) -> dict:
    with app.app_context():
        flow_id = db.session.scalar(
            select(Flow.id).where(Flow.slug == "default-provider-authorization-explicit-consent")
        )
    form = {
        "name": "Grafana",
        "slug": "grafana",
        "launch_url": "https://grafana.example.test/",
        "description": "Dashboards",
        "icon": "",
        "policy_engine_mode": "any",
        "authorization_flow": str(flow_id),
        "authentication_flow": "",
        "invalidation_flow": "",
        "option-client_type": "confidential",
        "option-redirect_uris": "https://grafana.example.test/login/generic_oauth",
        "option-post_logout_redirect_uris": "",
        "option-require_pkce": "y",
        "option-signing_algorithm": "ES256",
        "option-allowed_scopes": ["openid", "profile", "email", "offline_access"],
        "option-access_token_lifetime": "10m",
        "option-refresh_token_lifetime": "30d",
        "option-include_claims_in_id_token": "y",
    }
    form.update(changes)
    return form


def create_grafana(app, admin, **changes):
    return post(admin, "/admin/applications/new/oauth2", new_form(app, **changes))


def test_step_one_lists_the_installed_provider_types(admin):
    page = text(admin.get("/admin/applications/new"))
    assert "OAuth2/OpenID Connect" in page
    assert "/admin/applications/new/oauth2" in page


def test_an_uninstalled_type_is_a_404(admin):
    assert admin.get("/admin/applications/new/saml").status_code == 404


def test_create_shows_the_secret_once_and_keeps_its_hash(app, admin):
    response = create_grafana(app, admin)
    assert response.status_code == 200, text(response)
    page = text(response)
    assert "shown only this once" in page
    with app.app_context():
        application = db.session.scalar(select(Application).where(Application.slug == "grafana"))
        provider = db.session.scalar(select(type(application).provider.property.mapper.class_))
        secret = page.split('<code class="secret">')[1].split("<")[0]
        assert credentials.check_secret(provider.client_secret_hash, secret)
    again = text(admin.get("/admin/applications/grafana"))
    assert secret not in again
    assert "/application/o/grafana/" in again
    assert "Every signed-in user" in text(admin.get("/admin/applications"))


def test_bad_settings_come_back_with_messages(app, admin):
    response = create_grafana(
        app, admin, **{"option-redirect_uris": "javascript:alert(1)", "slug": "Bad Slug"}
    )
    assert response.status_code == 400
    page = text(response)
    assert "Lowercase letters" in page
    assert "javascript" in page
    with app.app_context():
        assert db.session.scalar(select(Application)) is None


def test_a_taken_slug_is_refused(app, admin):
    create_grafana(app, admin)
    response = create_grafana(app, admin, name="Other")
    assert response.status_code == 400
    assert "exists already" in text(response)


def test_edit_changes_the_application_and_its_provider(app, admin):
    create_grafana(app, admin)
    form = new_form(
        app, name="Grafana Prod", **{"option-redirect_uris": "https://g2.example.test/cb"}
    )
    response = post(admin, "/admin/applications/grafana/edit", form)
    assert response.status_code == 303, text(response)
    page = text(admin.get("/admin/applications/grafana/edit"))
    assert "Grafana Prod" in page
    assert "https://g2.example.test/cb" in page


def test_bindings_tab_binds_a_group_and_the_list_says_who(app, admin):
    create_grafana(app, admin)
    with app.app_context():
        group_id = make_group("staff").id
    assert "every signed-in user" in text(admin.get("/admin/applications/grafana/bindings"))
    dialog = admin.get("/admin/applications/grafana/bindings/new?tab=group")
    assert dialog.status_code == 200
    assert "who may use the application Grafana" in text(dialog)
    form = {"group": str(group_id), "order": "0", "enabled": "y", "timeout": "30"}
    form["failure_result"] = ""
    response = post(admin, "/admin/applications/grafana/bindings/new?tab=group", form)
    assert response.status_code == 303, text(response)
    assert "Only group staff" in text(admin.get("/admin/applications"))
    with app.app_context():
        binding = db.session.scalar(select(PolicyBinding).where(PolicyBinding.group_id == group_id))
        assert binding.application_id is not None and binding.flow_id is None
        binding_id = binding.id
    listed = text(admin.get("/admin/applications/grafana/bindings"))
    assert "refuses access" in listed  # an error in this binding's policy keeps users out
    assert f"/admin/applications/grafana/bindings/{binding_id}/edit" in listed
    assert f"/admin/applications/grafana/bindings/{binding_id}/delete" in listed
    edit = admin.get(f"/admin/applications/grafana/bindings/{binding_id}/edit")
    assert edit.status_code == 200
    removed = post(admin, f"/admin/applications/grafana/bindings/{binding_id}/delete")
    assert removed.status_code == 303
    assert "Every signed-in user" in text(admin.get("/admin/applications"))


def test_delete_asks_first_then_deletes(app, admin):
    create_grafana(app, admin)
    assert "Delete the application" in text(admin.get("/admin/applications/grafana/delete"))
    assert post(admin, "/admin/applications/grafana/delete", csrf=False).status_code == 400
    assert post(admin, "/admin/applications/grafana/delete").status_code == 303
    assert admin.get("/admin/applications/grafana").status_code == 404


def test_plain_users_cannot_open_the_applications(app, user_id):
    client = signed_in(app, "alice")
    assert client.get("/admin/applications").status_code == 403


def test_secret_rotation_tokens_tab_and_claims_preview(app, admin, user_id):
    create_grafana(app, admin)
    with app.app_context():
        old_hash = db.session.scalar(select(Provider.client_secret_hash))
    rotated = post(admin, "/admin/applications/grafana/secret")
    assert rotated.status_code == 200 and "shown only this once" in text(rotated)
    secret = text(rotated).split('<code class="secret">')[1].split("<")[0]
    with app.app_context():
        new_hash = db.session.scalar(select(Provider.client_secret_hash))
        assert new_hash != old_hash and credentials.check_secret(new_hash, secret)
    tokens_page = text(admin.get("/admin/applications/grafana/tokens"))
    assert "No live tokens" in tokens_page and "Nobody has consented yet" in tokens_page
    preview = text(admin.get("/admin/applications/grafana/preview?username=alice"))
    assert "May use it" in preview and '"preferred_username": "alice"' in preview
    assert "no user named" in text(admin.get("/admin/applications/grafana/preview?username=zed"))


def test_the_tokens_tab_lists_a_live_token_and_revoking_it_ends_the_family(app, admin, user_id):
    create_grafana(app, admin)
    with app.app_context():
        application_id = db.session.scalar(select(Application.id))
        issued = [
            OAuth2Token(
                application_id=application_id, user_id=user_id, family="f1",
                grant_type=grant, scope="openid profile offline_access",
                access_token_hash=tokens.digest(f"access-{grant}"),
                refresh_token_hash=tokens.digest(f"refresh-{grant}"),
                access_expires_at=utcnow() + timedelta(minutes=10),
                refresh_expires_at=utcnow() + timedelta(days=30),
            )
            for grant in ("authorization_code", "refresh_token")
        ]  # fmt: skip
        db.session.add_all(issued)
        db.session.commit()
        token_id = issued[0].id
    bearer = {"Authorization": "Bearer access-refresh_token"}
    assert app.test_client().get("/application/o/userinfo/", headers=bearer).status_code == 200
    page = text(admin.get("/admin/applications/grafana/tokens"))
    assert "alice" in page and f"/tokens/{token_id}/revoke" in page
    revoked = post(admin, f"/admin/applications/grafana/tokens/{token_id}/revoke")
    assert revoked.status_code == 303
    # The other member of the family (a refresh made it) is ended too.
    assert app.test_client().get("/application/o/userinfo/", headers=bearer).status_code == 401
    assert "No live tokens" in text(admin.get("/admin/applications/grafana/tokens"))
    assert events_of(app, "admin_application_token_revoked")
    # Without the CSRF token nothing happens (and nothing is left to revoke anyway).
    assert (
        post(admin, f"/admin/applications/grafana/tokens/{token_id}/revoke", csrf=False).status_code
        == 400
    )


def test_the_applications_pages_are_under_admin_applications_slash(app, admin):
    """DESIGN.md: admin pages under /admin/applications/ (the list is /admin/applications)."""
    answer = admin.get("/admin/applications/?page=1")
    assert answer.status_code == 308
    assert answer.headers["Location"] == "/admin/applications?page=1"
    listed = admin.get("/admin/applications/", follow_redirects=True)
    assert listed.status_code == 200
    assert "/admin/applications/new" in text(listed)
