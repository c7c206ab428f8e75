"""authentik's static tokens (recovery codes) setup stage."""

from idp.transfer.authentik_models import AuthentikModel, note_setup_links


def read_options(source, options: dict) -> None:
    note_setup_links(source)
    if source.has("token_count"):
        options["codes_count"] = source.number("token_count", 6)


AUTHENTIK = AuthentikModel(
    model="authentik_stages_authenticator_static.authenticatorstaticstage",
    read_options=read_options,
    # Gatehouse's codes have a fixed length; authentik's default is the one that means "as is".
    off_values={"token_length": (12,)},
    new_options={"codes_count": 6},  # authentik's default
)
