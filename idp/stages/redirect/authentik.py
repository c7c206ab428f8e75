"""authentik's redirect stage: `mode` static (to `target_static`) or flow (to `target_flow`)."""

from idp.stages.redirect.options import is_absolute_web_address
from idp.transfer.authentik_models import AuthentikModel


def read_options(source, options: dict) -> None:
    mode = source.choice("mode", ("static", "flow"), options.get("mode", "flow"))
    options["mode"] = mode
    options["keep_context"] = source.flag("keep_context", options.get("keep_context", True))
    if mode == "static":
        url = source.text("target_static", "")
        if not is_absolute_web_address(url):
            source.skip(
                f"target_static {url!r} is not an absolute http(s) address, the only kind "
                "Gatehouse sends visitors to"
            )
            return
        options["target_url"] = url
        if source.is_given("target_flow"):
            source.value("target_flow")
            source.note("target_flow", "mode is static: the address is used")
        return
    slug = source.flow_link("target_flow")
    if not slug:
        # Imported without it, the flow would go on where authentik sends the visitor away.
        source.skip("its target_flow is not a flow here or in Gatehouse")
        return
    options["target_flow"] = slug
    if source.text("target_static"):
        source.note("target_static", "mode is flow: the flow is used")


AUTHENTIK = AuthentikModel(
    model="authentik_stages_redirect.redirectstage",
    read_options=read_options,
    new_options={"keep_context": True},
)
