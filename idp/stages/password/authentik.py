"""authentik's password stage."""

from idp.transfer.authentik_models import AuthentikModel

INBUILT_BACKEND = "authentik.core.auth.InbuiltBackend"
PASSWORD_CHANGE_FLOW = "default-password-change"  # noqa: S105 (a flow's slug)


def read_options(source, options: dict) -> None:
    backends = source.items("backends") or []
    others = [source.show(backend) for backend in backends if backend != INBUILT_BACKEND]
    if others:
        why = "Gatehouse checks only the passwords it stores"
        source.note(f"backends {', '.join(others)}", why)
    # The flow where users set their password: /me links Gatehouse's password-change flow.
    configure_flow = source.flow_link("configure_flow")
    if configure_flow and configure_flow != PASSWORD_CHANGE_FLOW:
        source.note(
            f"configure_flow {configure_flow}",
            f"/me offers the flow {PASSWORD_CHANGE_FLOW} to change a password",
        )


AUTHENTIK = AuthentikModel(
    model="authentik_stages_password.passwordstage",
    read_options=read_options,
    off_values={"failed_attempts_before_cancel": (5,), "allow_show_password": (False,)},
)
