"""authentik's WebAuthn setup stage."""

from idp.transfer.authentik_models import AuthentikModel, note_setup_links

CHOICES = ("discouraged", "preferred", "required")
ATTACHMENTS = {None: "", "platform": "platform", "cross-platform": "cross-platform"}


def read_options(source, options: dict) -> None:
    note_setup_links(source)
    for key in ("resident_key_requirement", "user_verification"):
        if source.has(key):
            value = source.text(key, "preferred")
            target = "resident_key" if key == "resident_key_requirement" else key
            if value in CHOICES:
                options[target] = value
            else:
                source.problem(f"{key} must be one of {', '.join(CHOICES)}")
    attachment = source.value("authenticator_attachment")
    if attachment in ATTACHMENTS:
        if attachment:
            options["authenticator_attachment"] = ATTACHMENTS[attachment]
    else:
        source.problem("authenticator_attachment must be platform or cross-platform")
    device_types = source.items("device_type_restrictions") or []
    if device_types:
        source.note(
            "device_type_restrictions",
            "Gatehouse restricts by AAGUID (allowed_aaguids); set them in the admin",
        )


AUTHENTIK = AuthentikModel(
    model="authentik_stages_authenticator_webauthn.authenticatorwebauthnstage",
    read_options=read_options,
    off_values={"max_attempts": (0,)},
)
