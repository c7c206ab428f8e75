"""What a session's user agent says in words a person reads: "Firefox on Windows", and
whether it is a phone or a tablet. The raw string stays available (a tooltip), for the
rare case the words are wrong.

Parsed with ua-parser (the maintained Python port of the uap-core rules, shipped in
ua-parser-builtins), with its basic resolver over lazily compiled rules: a rule's regular
expression is compiled when a user agent first reaches it. Its native matcher compiles every
rule at once and kept 31 MiB more in each worker for the few pages that list sessions; this
one keeps 7 MiB and takes about 1.5 ms a parse, and each user agent is parsed once per worker.
"""

import functools
from dataclasses import dataclass

from flask_babel import gettext as _

from idp.core.i18n import N_

UNKNOWN = N_("Unknown device")
# Words the rules use for a device family that name no device.
NO_DEVICE = {"", "Other", "Generic Feature Phone"}
TABLET_WORDS = ("iPad", "Tablet", "Kindle", "Nexus 7", "Nexus 9", "Nexus 10")
PHONE_WORDS = ("iPhone", "iPod", "Smartphone", "Windows Phone")


@dataclass(frozen=True)
class DeviceDescription:
    browser: str  # "Firefox", or ""
    system: str  # "Windows", or ""
    kind: str  # "phone", "tablet", or "" (a computer, or not known)
    raw: str  # the user agent as the browser sent it

    @property
    def label(self) -> str:
        """ "Firefox on Windows", in the request's language (describe() is cached across
        requests, so the words are put together when shown)."""
        if self.browser and self.system:
            return _("%(browser)s on %(system)s", browser=self.browser, system=self.system)
        return self.browser or self.system or _(UNKNOWN)

    @property
    def kind_words(self) -> str:
        return {"phone": _("phone"), "tablet": _("tablet")}.get(self.kind, self.kind)


@functools.lru_cache(maxsize=1024)
def describe(user_agent: str | None) -> DeviceDescription:
    raw = (user_agent or "").strip()
    if not raw:
        return DeviceDescription("", "", "", "")
    parsed = _parser().parse(raw)
    browser = parsed.user_agent.family if parsed.user_agent else ""
    system = parsed.os.family if parsed.os else ""
    device = parsed.device.family if parsed.device else ""
    brand = (parsed.device.brand or "") if parsed.device else ""
    return DeviceDescription(
        _named(browser), _named(system), _kind(raw, system, device, brand), raw
    )


@functools.cache
def _parser():
    from ua_parser import BasicResolver, Parser  # loaded with the first session listed
    from ua_parser.loaders import load_lazy_builtins

    return Parser(BasicResolver(load_lazy_builtins()))


def _named(family: str | None) -> str:
    """A family the rules name, or "" for the ones they could not tell ("Other")."""
    return "" if family in ("Other", None) else family


def _kind(raw: str, system: str, device: str, brand: str) -> str:
    names = f"{device} {brand}"
    if any(word in names for word in TABLET_WORDS):
        return "tablet"
    if any(word in names for word in PHONE_WORDS):
        return "phone"
    if system == "Android":
        # Android browsers say "Mobile" on phones and leave it out on tablets.
        return "phone" if "Mobile" in raw else "tablet"
    if system in ("iOS", "Windows Phone", "BlackBerry OS", "KaiOS") and device not in NO_DEVICE:
        return "phone"
    return ""
