"""authentik's TOTP setup stage."""

from idp.transfer.authentik_models import AuthentikModel, note_setup_links


def read_options(source, options: dict) -> None:
    note_setup_links(source)
    if source.has("digits"):
        digits = source.number("digits", 6)
        if digits in (6, 8):
            options["digits"] = digits
        else:
            source.problem(f"digits must be 6 or 8, not {source.show(digits)}")


AUTHENTIK = AuthentikModel(
    model="authentik_stages_authenticator_totp.authenticatortotpstage",
    read_options=read_options,
)
