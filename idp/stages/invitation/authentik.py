"""authentik's invitation stage."""

from idp.transfer.authentik_models import AuthentikModel


def read_options(source, options: dict) -> None:
    if source.has("continue_flow_without_invitation"):
        options["continue_flow_without_invitation"] = source.flag(
            "continue_flow_without_invitation", False
        )


AUTHENTIK = AuthentikModel(
    model="authentik_stages_invitation.invitationstage", read_options=read_options
)
