"""authentik's deny stage."""

from idp.transfer.authentik_models import AuthentikModel


def read_options(source, options: dict) -> None:
    if source.has("deny_message"):
        message = source.text("deny_message", "")
        if message:
            options["message"] = message
        else:
            options.pop("message", None)


AUTHENTIK = AuthentikModel(model="authentik_stages_deny.denystage", read_options=read_options)
