"""authentik's email stage: a mailed link that continues the flow."""

from idp.stages.email.options import MAX_SUBJECT_LENGTH
from idp.transfer.authentik_models import AuthentikModel

# authentik's own connection settings for a stage that does not use the global ones, with
# authentik's defaults (which say nothing).
CONNECTION = {
    "host": "localhost",
    "port": 25,
    "username": "",
    "password": "",
    "use_tls": False,
    "use_ssl": False,
    "timeout": 10,
    "from_address": "system@authentik.local",
}
LONGEST_MINUTES = 7 * 24 * 60


def read_options(source, options: dict) -> None:
    if source.has("subject"):
        subject = " ".join(source.text("subject", "").split())[:MAX_SUBJECT_LENGTH]
        if subject:
            options["subject"] = subject
    if source.has("token_expiry"):
        minutes = _minutes(source)
        if minutes is not None:
            if not 1 <= minutes <= LONGEST_MINUTES:
                kept = min(max(minutes, 1), LONGEST_MINUTES)
                source.note(
                    f"token_expiry of {minutes} minutes",
                    f"Gatehouse's links last 1 minute to a week; this one lasts {kept}",
                )
                minutes = kept
            options["token_expiry_minutes"] = minutes
    if source.has("activate_user_on_success"):
        options["activate_user_on_success"] = source.flag("activate_user_on_success", False)
    _note_connection(source)
    template = source.text("template")
    if template:
        source.note(f"template {template}", "Gatehouse writes its own mail around the link")
    for key in ("recovery_max_attempts", "recovery_cache_timeout"):
        value = source.value(key)
        if value is not None:
            source.note(
                f"{key} {source.show(value)}",
                "Gatehouse limits mails per address and hour (sends_per_hour)",
            )


def _minutes(source) -> int | None:
    """authentik wrote token_expiry as minutes, and since 2024.4 as a duration."""
    value = source.value("token_expiry")
    if isinstance(value, int | str) and str(value).strip().isdigit():
        return source.number("token_expiry", 30)
    duration = source.duration("token_expiry")
    return None if duration is None else max(round(duration.total_seconds() / 60), 0)


def _note_connection(source) -> None:
    given = [key for key, default in CONNECTION.items() if source.value(key) not in (None, default)]
    uses_global_settings = source.flag("use_global_settings", False)
    if given and not uses_global_settings:
        source.note(
            ", ".join(given),
            "Gatehouse sends every mail through its IDP_SMTP_* settings",
        )


AUTHENTIK = AuthentikModel(model="authentik_stages_email.emailstage", read_options=read_options)
