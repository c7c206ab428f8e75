"""authentik's identification stage."""

from idp.transfer.authentik_models import AuthentikModel

USER_FIELDS = ("username", "email")


def read_options(source, options: dict) -> None:
    user_fields = source.items("user_fields")
    if user_fields is not None:
        kept = [name for name in dict.fromkeys(user_fields) if name in USER_FIELDS]
        dropped = [source.show(name) for name in user_fields if name not in USER_FIELDS]
        if dropped:
            source.note(
                f"user_fields {', '.join(dropped)}",
                "Gatehouse identifies users by username or email",
            )
        if not kept:
            source.skip("none of its user_fields is username or email")
            return
        options["user_fields"] = kept
    captcha_stage = source.value("captcha_stage")
    if captcha_stage is not None:
        # Imported without it, the sign-in would no longer stop bots.
        source.skip(
            f"it shows a captcha on its page (captcha_stage {source.show(captcha_stage)}), "
            "which Gatehouse's identification stage cannot; bind that captcha stage before it"
        )
        return
    password_stage = source.value("password_stage")
    if password_stage is not None:
        name, reason = source.stage_name(password_stage)
        if name is None:
            # Imported without it, the flow would not check passwords.
            source.skip(
                f"it asks for the password with a password stage that is skipped ({reason})"
            )
            return
        options["password_field"] = True
    elif source.has("password_stage"):
        options["password_field"] = False
    for key in ("enrollment_flow", "recovery_flow"):
        if source.has(key):
            options[key] = source.flow_link(key)


AUTHENTIK = AuthentikModel(
    model="authentik_stages_identification.identificationstage",
    read_options=read_options,
    names_stages=True,
    off_values={
        "case_insensitive_matching": (True,),
        "show_matched_user": (True,),
        "pretend_user_exists": (True,),
        "show_source_labels": (False,),
        "enable_remember_me": (False,),
        "sources": ([],),
    },
)
