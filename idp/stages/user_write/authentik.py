"""authentik's user write stage."""

from idp.transfer.authentik_models import AuthentikModel

CREATION_MODES = {
    "never_create": "never",
    "create_when_required": "when_required",
    "always_create": "always",
    "never": "never",
    "when_required": "when_required",
    "always": "always",
}


def read_options(source, options: dict) -> None:
    if source.has("user_creation_mode"):
        mode = source.text("user_creation_mode")
        if mode in CREATION_MODES:
            options["user_creation_mode"] = CREATION_MODES[mode]
        else:
            modes = "never_create, create_when_required, always_create"
            source.problem(f"user_creation_mode must be one of {modes}")
    if source.has("create_users_as_inactive"):
        options["create_users_as_inactive"] = source.flag("create_users_as_inactive", False)
    if source.has("create_users_group"):
        value = source.value("create_users_group")
        options["create_users_group"] = ""
        if value is not None:
            name = source.group_name(value)
            if name is not None and source.group_exists(name):
                options["create_users_group"] = name
            else:
                why = (
                    f"Gatehouse has no group {name!r}; create it and import again"
                    if name
                    else "it does not name a group"
                )
                source.note(f"create_users_group {source.show(value)}", why)


AUTHENTIK = AuthentikModel(
    model="authentik_stages_user_write.userwritestage",
    read_options=read_options,
    off_values={"user_path_template": ("",)},
)
