"""Colours that stay readable: WCAG 2 contrast ratios, the text colour on the accent, and the
accent nudged until links in it keep AA contrast on the light and the dark theme's grounds."""

import re
from dataclasses import dataclass
from functools import lru_cache

HEX_COLOR = re.compile(r"#[0-9a-f]{6}")
WHITE = "#ffffff"
BLACK = "#000000"
AA_NORMAL_TEXT = 4.5
# The grounds text in the accent sits on, per theme (idp/static/css/gatehouse.css): the page,
# a card, a notice and a highlighted table row.
LIGHT_GROUNDS = ("#ffffff", "#f3f5f9", "#eef3ff", "#f6f9ff")
DARK_GROUNDS = ("#12151c", "#1b1f29", "#1c2640", "#1f2636")


def channels(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def relative_luminance(color: str) -> float:
    """WCAG 2's relative luminance of an sRGB colour, 0 (black) to 1 (white)."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in channels(color))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """1 (the same) to 21 (black on white), whichever is lighter."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def ink_on(background: str) -> str:
    """White text on the accent when that passes AA, else black, which then always does: a
    colour too light for white (luminance above 0.18) gives black at least 4.6:1."""
    return WHITE if contrast_ratio(WHITE, background) >= AA_NORMAL_TEXT else BLACK


def mix(color: str, toward: str, share: float) -> str:
    """`share` of the way from `color` to `toward`, per sRGB channel."""
    mixed = (
        round(start + (end - start) * share)
        for start, end in zip(channels(color), channels(toward), strict=True)
    )
    return "#" + "".join(f"{channel:02x}" for channel in mixed)


def readable_on(color: str, grounds: tuple[str, ...]) -> str:
    """`color`, or the nearest mix of it toward black or white (whichever the grounds call
    for) that keeps AA contrast on every one of them."""
    is_light_theme = relative_luminance(min(grounds, key=relative_luminance)) > 0.5
    toward = BLACK if is_light_theme else WHITE
    for step in range(20):
        candidate = mix(color, toward, step / 20)
        if all(contrast_ratio(candidate, ground) >= AA_NORMAL_TEXT for ground in grounds):
            return candidate
    return toward


@dataclass(frozen=True)
class Theme:
    """The accent's colours for the stylesheet: `accent` behind `accent_ink` (buttons, the
    current admin section), and `light_text` / `dark_text` for links in each theme."""

    accent: str
    accent_ink: str
    light_text: str
    dark_text: str


@lru_cache(maxsize=64)
def theme_for(accent: str) -> Theme:
    return Theme(
        accent=accent,
        accent_ink=ink_on(accent),
        light_text=readable_on(accent, LIGHT_GROUNDS),
        dark_text=readable_on(accent, DARK_GROUNDS),
    )
