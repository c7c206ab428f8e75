"""The contrast helper behind the brand's accent: WCAG 2 ratios, the text colour on the accent
and the link colour per theme, for every kind of accent an administrator may pick."""

import itertools

import pytest

from idp.brand.colors import (
    BLACK,
    DARK_GROUNDS,
    LIGHT_GROUNDS,
    contrast_ratio,
    ink_on,
    mix,
    readable_on,
    relative_luminance,
    theme_for,
)

# Every 17th step of each channel: 4,096 colours, from black to white through every hue.
STEPS = range(0, 256, 17)
SWEEP = ["#" + "".join(f"{c:02x}" for c in rgb) for rgb in itertools.product(STEPS, repeat=3)]


@pytest.mark.parametrize(
    ("first", "second", "ratio"),
    [
        ("#000000", "#ffffff", 21.0),
        ("#ffffff", "#ffffff", 1.0),
        ("#777777", "#ffffff", 4.48),  # the classic just-fails-AA grey
        ("#767676", "#ffffff", 4.54),  # and the one that passes
        ("#2853c7", "#ffffff", 6.66),
    ],
)
def test_contrast_ratios_match_wcag(first, second, ratio):
    assert contrast_ratio(first, second) == pytest.approx(ratio, abs=0.01)
    assert contrast_ratio(second, first) == contrast_ratio(first, second)


def test_relative_luminance_runs_from_black_to_white():
    assert relative_luminance("#000000") == 0
    assert relative_luminance("#ffffff") == pytest.approx(1)


def test_the_text_on_any_accent_passes_aa():
    worst = min(contrast_ratio(ink_on(accent), accent) for accent in SWEEP)
    assert worst >= 4.5


@pytest.mark.parametrize(("accent", "ink"), [("#2853c7", "#ffffff"), ("#ffcc00", "#000000")])
def test_white_is_kept_where_it_passes_and_black_taken_where_it_does_not(accent, ink):
    assert ink_on(accent) == ink


@pytest.mark.parametrize("grounds", [LIGHT_GROUNDS, DARK_GROUNDS], ids=["light", "dark"])
def test_links_in_any_accent_pass_aa_on_every_ground_of_the_theme(grounds):
    for accent in SWEEP:
        link = readable_on(accent, grounds)
        assert min(contrast_ratio(link, ground) for ground in grounds) >= 4.5, accent


def test_an_accent_readable_already_is_kept_and_one_that_is_not_moves_the_least():
    assert readable_on("#2853c7", LIGHT_GROUNDS) == "#2853c7"
    assert readable_on("#ffcc00", DARK_GROUNDS) == "#ffcc00"
    darkened = readable_on("#ffcc00", LIGHT_GROUNDS)
    step = next(step for step in range(20) if mix("#ffcc00", BLACK, step / 20) == darkened)
    one_step_less = mix("#ffcc00", BLACK, (step - 1) / 20)
    assert min(contrast_ratio(one_step_less, ground) for ground in LIGHT_GROUNDS) < 4.5


def test_the_theme_names_all_four_colours():
    theme = theme_for("#0b6e4f")
    assert (theme.accent, theme.accent_ink) == ("#0b6e4f", "#ffffff")
    assert theme.light_text == "#0b6e4f"
    assert contrast_ratio(theme.dark_text, "#1b1f29") >= 4.5
