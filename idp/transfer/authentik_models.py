"""How an authentik model becomes a Gatehouse stage, policy or provider type.

A stage, policy or provider package with an authentik counterpart declares one `AuthentikModel`
as its type's `authentik` attribute. The blueprint reader finds them through the registry, so it
holds no per-type code: a package's `read_options(source, options)` reads the entry's attributes
through `source` (an `idp.transfer.authentik.source.EntrySource`) into Gatehouse options,
changing `options` in place.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta


def _nothing_to_read(source, options: dict) -> None:
    pass


@dataclass(frozen=True)
class AuthentikModel:
    model: str  # authentik's app_label.model_name
    read_options: Callable = _nothing_to_read
    # Attributes Gatehouse has no equivalent for, with the values that mean "off" in authentik.
    # Setting one to anything else (None always counts as off) is named as not imported.
    off_values: dict = field(default_factory=dict)
    # What a new object starts from where authentik's default differs from Gatehouse's.
    new_options: dict = field(default_factory=dict)
    # Its attributes name other stages (source.stage_name): it is mapped after them.
    names_stages: bool = False
    # Models whose entries exist only inside this type's objects (a prompt stage's prompts),
    # each with `read_part(source)`: what the entry becomes, or None (source.skip says why).
    # A stage lists them with `source.part_values(key)`.
    parts: dict = field(default_factory=dict)
    # `find_shipped_part(model, conditions, find_stage)`: for a `!Find` of a part among
    # authentik's own objects, what Gatehouse ships that does the same and where it is
    # ((value, origin)), or None. `find_stage(name)` gives a stage's (type, options).
    find_shipped_part: Callable | None = None
    # A provider's attribute that names it to its clients (an OAuth client_id): kept as given.
    client_id_attribute: str = ""


def note_setup_links(source) -> None:
    """What authentik's authenticator setup stages share and Gatehouse has no place for."""
    configure_flow = source.value("configure_flow")
    if configure_flow is not None:
        source.note(
            f"configure_flow {source.show(configure_flow)}",
            "/me links to the setup flows by their designation",
        )
    friendly_name = source.text("friendly_name")
    if friendly_name:
        source.note(f"friendly_name {friendly_name}", "Gatehouse names authenticators itself")


AUTHENTIK_DURATION_UNITS = (
    "weeks",
    "days",
    "hours",
    "minutes",
    "seconds",
    "milliseconds",
    "microseconds",
)


def parse_authentik_duration(text: str) -> timedelta:
    """authentik writes durations as `hours=8` or `days=1;hours=12`; ValueError otherwise."""
    units = {}
    for part in filter(None, (piece.strip() for piece in text.split(";"))):
        unit, equals, amount = part.partition("=")
        if not equals or unit.strip() not in AUTHENTIK_DURATION_UNITS:
            raise ValueError(text)
        units[unit.strip()] = float(amount)
    if not units:
        raise ValueError(text)
    try:
        return timedelta(**units)
    except OverflowError:
        raise ValueError(text) from None


def format_duration(delta: timedelta) -> str:
    """The same duration as Gatehouse writes it (`8h`, `1d12h`), to the second."""
    remaining = round(delta.total_seconds())
    parts = []
    for suffix, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, remaining = divmod(remaining, size)
        if amount:
            parts.append(f"{amount}{suffix}")
    return "".join(parts) or "0s"
