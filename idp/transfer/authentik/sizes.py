"""How much a blueprint may make the reader do: a small file can expand, through YAML aliases
or authentik's tags, into a huge tree or text, so each is refused past a size first."""

import re

from idp.transfer.authentik.tags import Tag
from idp.transfer.document import FlowFileError

# Aliases can make a small file expand into a huge (or endless) tree; the reader walks it
# expanded, so it refuses one past these sizes first.
MAX_DEPTH = 64
MAX_VALUES = 200_000
CHARACTERS_PER_VALUE = 64
# !Format: no width or precision above this (a width of 2e9 is gigabytes of spaces).
MAX_FORMAT_WIDTH = 1000
FORMAT_WIDTHS = re.compile(r"%[-#0 +]*(\d*)(?:\.(\d*))?")


def values_in(value, budget: int) -> int:
    """How many values `value` holds, nested (at least 1), a long text counting as one per
    CHARACTERS_PER_VALUE characters; stops counting past `budget`."""
    count, pending = 0, [value]
    while pending and count <= budget:
        item = pending.pop()
        count += 1
        if isinstance(item, str):
            count += len(item) // CHARACTERS_PER_VALUE
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return count


def check_size(document, prefix: str) -> None:
    remaining = MAX_VALUES

    def walk(value, depth):
        nonlocal remaining
        remaining -= 1
        if remaining < 0:
            raise FlowFileError([f"{prefix}too large once its YAML aliases are expanded"])
        if depth > MAX_DEPTH:
            raise FlowFileError([f"{prefix}nested too deeply (an alias that contains itself?)"])
        if isinstance(value, dict):
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        elif isinstance(value, Tag):
            children = [getattr(value, name) for name in vars(value) if name != "line"]
        else:
            return
        for child in children:
            walk(child, depth + 1)

    walk(document, 0)


def too_wide(template: str) -> bool:
    """Whether a !Format text asks for a width or precision above MAX_FORMAT_WIDTH."""
    return any(
        int(number) > MAX_FORMAT_WIDTH
        for match in FORMAT_WIDTHS.finditer(template)
        for number in match.groups()
        if number
    )
