"""authentik's consent stage."""

from idp.transfer.authentik_models import AuthentikModel, format_duration

MODES = {"always_require": "always", "permanent": "permanent", "expiring": "expiring"}


def read_options(source, options: dict) -> None:
    if source.has("mode"):
        mode = source.text("mode", "always_require")
        if mode in MODES:
            options["mode"] = MODES[mode]
        else:
            source.problem(f"mode must be one of {', '.join(MODES)}")
    if source.has("consent_expire_in"):
        duration = source.duration("consent_expire_in")
        if duration:
            options["expires_in"] = format_duration(duration)


AUTHENTIK = AuthentikModel(
    model="authentik_stages_consent.consentstage",
    read_options=read_options,
    new_options={"expires_in": "28d"},  # authentik's default: weeks=4
)
