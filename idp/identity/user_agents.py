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

UNKNOWN = "Unknown device"
# Words the rules use for a device family that name no device.
NO_DEVICE = {"", "Other", "Generic Feature Phone"}
TABLET_WORDS = ("iPad", "Tablet", "Kindle", "Nexus 7", "Nexus 9", "Nexus 10")
PHONE_WORDS = ("iPhone", "iPod", "Smartphone", "Windows Phone")


@dataclass(frozen=True)
class DeviceDescription:
    label: str  # "Firefox on Windows"
    kind: str  # "phone", "tablet", or "" (a computer, or not known)
    raw: str  # the user agent as the browser sent it


@functools.lru_cache(maxsize=1024)
def describe(user_agent: str | None) -> DeviceDescription:
    raw = (user_agent or "").strip()
    if not raw:
        return DeviceDescription(UNKNOWN, "", "")
    parsed = _parser().parse(raw)
    browser = parsed.user_agent.family if parsed.user_agent else ""
    system = parsed.os.family if parsed.os else ""
    device = parsed.device.family if parsed.device else ""
    brand = (parsed.device.brand or "") if parsed.device else ""
    return DeviceDescription(_label(browser, system), _kind(raw, system, device, brand), raw)


@functools.cache
def _parser():
    from ua_parser import BasicResolver, Parser  # loaded with the first session listed
    from ua_parser.loaders import load_lazy_builtins

    return Parser(BasicResolver(load_lazy_builtins()))


def _label(browser: str, system: str) -> str:
    browser = "" if browser in ("Other", None) else browser
    system = "" if system in ("Other", None) else system
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or UNKNOWN


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
