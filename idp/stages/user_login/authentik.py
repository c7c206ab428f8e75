"""authentik's user login stage."""

from datetime import timedelta

from idp.transfer.authentik_models import AuthentikModel, format_duration


def read_options(source, options: dict) -> None:
    if not source.has("session_duration"):
        return
    duration = source.duration("session_duration")
    if duration is None:
        return
    if not duration:
        # 0 is "until the browser closes" in authentik; Gatehouse's default is the nearest.
        options["session_duration"] = "1d"
    elif timedelta(minutes=1) <= duration <= timedelta(days=400):
        options["session_duration"] = format_duration(duration)
    else:
        text = source.text("session_duration")
        source.note(f"session_duration {text}", "Gatehouse allows 1m to 400d")


AUTHENTIK = AuthentikModel(
    model="authentik_stages_user_login.userloginstage",
    read_options=read_options,
    off_values={
        "remember_me_offset": ("seconds=0",),
        "terminate_other_sessions": (False,),
        "network_binding": ("no_binding",),
        "geoip_binding": ("no_binding",),
    },
)
