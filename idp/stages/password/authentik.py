"""authentik's password stage."""

from idp.transfer.authentik_models import AuthentikModel

INBUILT_BACKEND = "authentik.core.auth.InbuiltBackend"


def read_options(source, options: dict) -> None:
    backends = source.items("backends") or []
    others = [source.show(backend) for backend in backends if backend != INBUILT_BACKEND]
    if others:
        why = "Gatehouse checks only the passwords it stores"
        source.note(f"backends {', '.join(others)}", why)
    # The flow where a user sets the password: Gatehouse's password stage has no link.
    configure_flow = source.value("configure_flow")
    if configure_flow is not None:
        source.note(f"configure_flow {source.show(configure_flow)}", "no such option")


AUTHENTIK = AuthentikModel(
    model="authentik_stages_password.passwordstage",
    read_options=read_options,
    off_values={"failed_attempts_before_cancel": (5,), "allow_show_password": (False,)},
)
