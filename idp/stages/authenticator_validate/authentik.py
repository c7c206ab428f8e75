"""authentik's authenticator validation stage."""

from idp.transfer.authentik_models import AuthentikModel

# The device classes Gatehouse checks: authenticator apps, recovery codes, passkeys.
CHECKED = ("totp", "static", "webauthn")
USER_VERIFICATION = ("discouraged", "preferred", "required")
NOT_CONFIGURED_ACTIONS = ("skip", "deny", "configure")


def read_options(source, options: dict) -> None:
    classes = source.items("device_classes")
    if classes is not None:
        if not any(name in CHECKED for name in classes):
            source.skip(
                "none of its device_classes is totp, static or webauthn, the authenticators "
                "Gatehouse checks; imported, it would ask for what the user cannot give"
            )
            return
        others = [source.show(name) for name in classes if name not in CHECKED]
        if others:
            source.note(
                f"device_classes {', '.join(others)}",
                "Gatehouse checks authenticator apps, recovery codes and passkeys only",
            )
        options["device_classes"] = [name for name in dict.fromkeys(classes) if name in CHECKED]
    if source.has("webauthn_user_verification"):
        verification = source.text("webauthn_user_verification", "preferred")
        if verification in USER_VERIFICATION:
            options["webauthn_user_verification"] = verification
        else:
            source.problem(
                f"webauthn_user_verification must be one of {', '.join(USER_VERIFICATION)}"
            )
    if source.has("not_configured_action"):
        action = source.text("not_configured_action", "skip")
        if action in NOT_CONFIGURED_ACTIONS:
            options["not_configured_action"] = action
        else:
            source.problem(
                f"not_configured_action must be one of {', '.join(NOT_CONFIGURED_ACTIONS)}"
            )
    stages = source.items("configuration_stages") or []
    if stages:
        shown = ", ".join(source.show(stage) for stage in stages)
        source.note(
            f"configuration_stages {shown}",
            "with configure, Gatehouse sets up an authenticator app right in the stage",
        )


AUTHENTIK = AuthentikModel(
    model="authentik_stages_authenticator_validate.authenticatorvalidatestage",
    read_options=read_options,
    off_values={
        "last_auth_threshold": ("seconds=0",),
        "webauthn_allowed_device_types": ([],),
    },
)
