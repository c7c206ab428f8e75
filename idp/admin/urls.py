"""The admin's URL map: each section is a Blueprint nested under `admin` (its endpoints are
admin.<section>.<view>), its templates in its package's templates folder, its views in the
modules named here.

The views are imported on their first request (Flask's "lazily loading views",
idp/core/lazy_views.py): a worker that never serves an administrator, which is most of them,
does not hold the admin's code (about 1 MiB of each worker's memory, bench/signin.py)."""

from typing import NamedTuple

from idp.credentials.authenticators import KINDS


class Section(NamedTuple):
    name: str
    package: str
    # module in the package -> (URL, view, methods), ...
    views: dict[str, tuple[tuple[str, str, list[str]], ...]]


AUTHENTICATOR_KIND = f"any({', '.join(KINDS)})"

SECTIONS = (
    Section(
        "dashboard",
        "idp.admin.dashboard",
        {
            "routes": (
                ("/", "dashboard", ["GET"]),
                ("/health", "health", ["GET"]),
            ),
        },
    ),
    Section(
        "flows",
        "idp.admin.flows",
        {
            "routes": (
                ("/flows", "flows", ["GET"]),
                ("/flows/new", "new_flow", ["GET", "POST"]),
                ("/flows/<slug>/", "flow", ["GET"]),
                ("/flows/<slug>/edit", "edit_flow", ["GET", "POST"]),
                ("/flows/<slug>/delete", "confirm_flow_deletion", ["GET"]),
                ("/flows/<slug>/delete", "delete_flow", ["POST"]),
            ),
            "files": (
                ("/flows/<slug>/export", "export_page", ["GET"]),
                ("/flows/<slug>/export.yaml", "download_flow", ["GET"]),
                ("/flows/import", "import_new_page", ["GET"]),
                ("/flows/<slug>/import", "import_page", ["GET"]),
                ("/flows/import", "preview_new_import", ["POST"]),
                ("/flows/<slug>/import", "preview_import", ["POST"]),
                ("/flows/import/confirm", "confirm_new_import", ["POST"]),
                ("/flows/<slug>/import/confirm", "confirm_import", ["POST"]),
            ),
        },
    ),
    Section(
        "flow_bindings",
        "idp.admin.flows",
        {
            "bindings": (
                ("/flows/<slug>/stages", "flow_stages", ["GET"]),
                ("/flows/<slug>/stages/bind", "bind_stage", ["GET", "POST"]),
                (
                    "/flows/<slug>/stages/<int:binding_id>/edit",
                    "edit_stage_binding",
                    ["GET", "POST"],
                ),
                (
                    "/flows/<slug>/stages/<int:binding_id>/remove",
                    "confirm_stage_binding_removal",
                    ["GET"],
                ),
                ("/flows/<slug>/stages/<int:binding_id>/remove", "remove_stage_binding", ["POST"]),
                (
                    "/flows/<slug>/stages/<int:binding_id>/move/<any(up, down):direction>",
                    "move_stage_binding",
                    ["POST"],
                ),
                ("/flows/<slug>/policies", "flow_policies", ["GET"]),
                ("/flows/<slug>/policies/new", "new_flow_policy_binding", ["GET", "POST"]),
                (
                    "/flows/<slug>/stages/<int:binding_id>/policies/new",
                    "new_stage_policy_binding",
                    ["GET", "POST"],
                ),
                (
                    "/flows/<slug>/bindings/<int:binding_id>/edit",
                    "edit_policy_binding",
                    ["GET", "POST"],
                ),
                (
                    "/flows/<slug>/bindings/<int:binding_id>/delete",
                    "confirm_policy_binding_deletion",
                    ["GET"],
                ),
                (
                    "/flows/<slug>/bindings/<int:binding_id>/delete",
                    "delete_policy_binding",
                    ["POST"],
                ),
            ),
        },
    ),
    Section(
        "flow_insight",
        "idp.admin.flows",
        {
            "insight": (
                ("/flows/<slug>/diagram", "flow_diagram", ["GET"]),
                ("/flows/<slug>/simulate", "flow_simulation", ["GET"]),
            ),
        },
    ),
    Section(
        "flow_new_stage",
        "idp.admin.flows",
        {
            "new_stage": (
                ("/flows/<slug>/stages/create", "create_and_bind_stage", ["GET"]),
                (
                    "/flows/<slug>/stages/create/<type_name>",
                    "create_and_bind_stage_of_type",
                    ["GET", "POST"],
                ),
            ),
        },
    ),
    Section(
        "stages",
        "idp.admin.catalog",
        {
            "stages": (
                ("/stages", "stages", ["GET"]),
                ("/stages/new", "new_stage", ["GET"]),
                ("/stages/new/<type_name>", "new_stage_of_type", ["GET", "POST"]),
                ("/stages/<int:stage_id>", "stage", ["GET", "POST"]),
                ("/stages/<int:stage_id>/delete", "stage_deletion", ["GET"]),
                ("/stages/<int:stage_id>/delete", "delete_stage", ["POST"]),
            ),
        },
    ),
    Section(
        "policies",
        "idp.admin.catalog",
        {
            "policies": (
                ("/policies", "policies", ["GET"]),
                ("/policies/new", "new_policy", ["GET"]),
                ("/policies/new/<type_name>", "new_policy_of_type", ["GET", "POST"]),
                ("/policies/<int:policy_id>", "policy", ["GET", "POST"]),
                ("/policies/<int:policy_id>/delete", "policy_deletion", ["GET"]),
                ("/policies/<int:policy_id>/delete", "delete_policy", ["POST"]),
                ("/policies/<int:policy_id>/test", "policy_test", ["GET", "POST"]),
            ),
        },
    ),
    Section(
        "applications",
        "idp.admin.applications",
        {
            "routes": (
                ("/applications", "applications", ["GET"]),
                ("/applications/new", "new_application", ["GET"]),
                ("/applications/new/<type_name>", "new_application_of_type", ["GET", "POST"]),
                ("/applications/<slug>", "application", ["GET"]),
                ("/applications/<slug>/edit", "edit_application", ["GET", "POST"]),
                ("/applications/<slug>/delete", "confirm_application_deletion", ["GET"]),
                ("/applications/<slug>/delete", "delete_application_route", ["POST"]),
            ),
        },
    ),
    Section(
        "application_bindings",
        "idp.admin.applications",
        {
            "bindings": (
                ("/applications/<slug>/bindings", "application_bindings", ["GET"]),
                ("/applications/<slug>/bindings/new", "new_application_binding", ["GET", "POST"]),
                (
                    "/applications/<slug>/bindings/<int:binding_id>/edit",
                    "edit_application_binding",
                    ["GET", "POST"],
                ),
                (
                    "/applications/<slug>/bindings/<int:binding_id>/delete",
                    "confirm_application_binding_deletion",
                    ["GET"],
                ),
                (
                    "/applications/<slug>/bindings/<int:binding_id>/delete",
                    "delete_application_binding",
                    ["POST"],
                ),
            ),
        },
    ),
    Section(
        "application_tokens",
        "idp.admin.applications",
        {
            "tokens": (
                ("/applications/<slug>/tokens", "application_tokens", ["GET"]),
                (
                    "/applications/<slug>/tokens/<int:token_id>/revoke",
                    "revoke_application_token",
                    ["POST"],
                ),
                ("/applications/<slug>/secret", "rotate_application_secret", ["POST"]),
                ("/applications/<slug>/preview", "application_preview", ["GET"]),
            ),
        },
    ),
    Section(
        "scope_mappings",
        "idp.admin.applications",
        {
            "scope_mappings": (
                ("/scope-mappings", "scope_mappings", ["GET"]),
                ("/scope-mappings/new", "new_scope_mapping", ["GET", "POST"]),
                ("/scope-mappings/<int:mapping_id>", "edit_scope_mapping", ["GET", "POST"]),
                (
                    "/scope-mappings/<int:mapping_id>/delete",
                    "confirm_scope_mapping_deletion",
                    ["GET"],
                ),
                ("/scope-mappings/<int:mapping_id>/delete", "delete_scope_mapping", ["POST"]),
            ),
        },
    ),
    Section(
        "users",
        "idp.admin.users",
        {
            "routes": (
                ("/users", "users", ["GET"]),
                ("/users/new", "new_user", ["GET", "POST"]),
                ("/users/<int:user_id>", "user", ["GET"]),
                ("/users/<int:user_id>/edit", "edit_user", ["GET", "POST"]),
                ("/users/<int:user_id>/groups", "join_group", ["POST"]),
                ("/users/<int:user_id>/groups/<int:group_id>/remove", "leave_group", ["POST"]),
            ),
        },
    ),
    Section(
        "user_actions",
        "idp.admin.users",
        {
            "actions": (
                ("/users/<int:user_id>/disable", "disable_user", ["POST"]),
                ("/users/<int:user_id>/enable", "enable_user", ["POST"]),
                ("/users/<int:user_id>/superuser/grant", "grant_superuser", ["POST"]),
                ("/users/<int:user_id>/superuser/remove", "remove_superuser", ["POST"]),
                ("/users/<int:user_id>/password", "set_user_password", ["POST"]),
                ("/users/<int:user_id>/recovery-link", "send_user_recovery_link", ["POST"]),
                (
                    "/users/<int:user_id>/sessions/<int:session_id>/revoke",
                    "revoke_user_session",
                    ["POST"],
                ),
                (
                    f"/users/<int:user_id>/authenticators/<{AUTHENTICATOR_KIND}:kind>/<int:authenticator_id>/remove",
                    "remove_user_authenticator",
                    ["POST"],
                ),
            ),
        },
    ),
    Section(
        "groups",
        "idp.admin.users",
        {
            "groups": (
                ("/groups", "groups", ["GET"]),
                ("/groups/new", "new_group", ["GET", "POST"]),
                ("/groups/<int:group_id>", "group", ["GET"]),
                ("/groups/<int:group_id>/rename", "rename_group", ["POST"]),
                ("/groups/<int:group_id>/delete", "confirm_group_deletion", ["GET"]),
                ("/groups/<int:group_id>/delete", "delete_group", ["POST"]),
                ("/groups/<int:group_id>/members", "add_member", ["POST"]),
                ("/groups/<int:group_id>/members/<int:user_id>/remove", "remove_member", ["POST"]),
            ),
        },
    ),
    Section(
        "invitations",
        "idp.admin.invitations",
        {
            "routes": (
                ("/invitations", "invitations", ["GET"]),
                ("/invitations/new", "new_invitation", ["GET", "POST"]),
                ("/invitations/<int:invitation_id>/revoke", "revoke_invitation", ["POST"]),
            ),
        },
    ),
    Section(
        "events",
        "idp.admin.dashboard",
        {
            "events": (("/events", "events", ["GET"]),),
        },
    ),
    Section(
        "settings",
        "idp.admin.settings",
        {
            "routes": (
                ("/settings", "site_settings", ["GET"]),
                ("/settings", "save_site_settings", ["POST"]),
            ),
        },
    ),
    Section(
        "brand",
        "idp.admin.settings",
        {
            "brand": (
                ("/brand", "brand", ["GET"]),
                ("/brand", "save_brand_settings", ["POST"]),
            ),
        },
    ),
)
