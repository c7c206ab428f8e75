"""Dates, times and counts are formatted with the few CLDR keys they need (idp/core/cldr.py):
exactly as Babel formats them with a language's whole data, which is not kept in memory."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from babel import Locale, core, localedata
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from flask_babel import force_locale

from idp.core.cldr import FORMATTING_KEYS, FormattingLocale, formatting_locale
from idp.core.i18n import SUPPORTED, _moment_pattern, format_count, format_day, format_moment
from idp.core.warmup import warm_up

MOMENTS = [
    datetime(2026, month, 3 + month, hour, minute, tzinfo=UTC)
    for month in range(1, 13)
    for hour, minute in ((0, 0), (9, 5), (12, 0), (13, 7), (23, 59))
]
COUNTS = [0, 1, 7, 999, 1000, 1234, 65535, 1234567, -42]


def full_babel(language: str, pattern: str, value: datetime) -> str:
    return format_datetime(value, pattern, tzinfo=UTC, locale=Locale.parse(language))


@pytest.mark.parametrize("language", SUPPORTED)
def test_dates_times_and_counts_read_as_with_babels_whole_data(app, language):
    whole = Locale.parse(language)
    pattern = (
        whole.datetime_formats["medium"]
        .replace("{1}", whole.date_formats["medium"].pattern)
        .replace("{0}", whole.time_formats["short"].pattern)
    )
    with app.test_request_context(), force_locale(language):
        for moment in MOMENTS:
            assert format_moment(moment) == full_babel(language, pattern, moment)
            assert format_day(moment) == format_date(moment, "medium", locale=whole)
            assert format_day(moment.date()) == format_date(moment.date(), "medium", locale=whole)
        for count in COUNTS:
            assert format_count(count) == format_decimal(count, locale=whole)


def test_examples_in_each_language(app):
    moment = datetime(2026, 12, 3, 16, 38, tzinfo=UTC)
    expected = {
        "en": ("Dec 3, 2026, 4:38\u202fPM", "Dec 3, 2026", "1,234"),
        "de": ("03.12.2026, 16:38", "03.12.2026", "1.234"),
        "fr": ("3 déc. 2026, 16:38", "3 déc. 2026", "1\u202f234"),
    }
    for language, (when, day, count) in expected.items():
        with app.test_request_context(), force_locale(language):
            assert (format_moment(moment), format_day(moment), format_count(1234)) == (
                when,
                day,
                count,
            )


def test_a_day_is_the_day_in_utc(app):
    late_in_new_york = datetime(2026, 12, 3, 22, 30, tzinfo=timezone(timedelta(hours=-5)))
    with app.test_request_context(), force_locale("en"):
        assert format_day(late_in_new_york) == "Dec 4, 2026"
        assert format_day(None) == ""
        assert format_moment(None) == ""


def test_outside_a_request_english_is_used(app):
    with app.app_context():
        assert format_count(1234567) == "1,234,567"
        assert format_day(date(2026, 1, 9)) == "Jan 9, 2026"


def test_the_locale_holds_only_the_formatting_keys_and_babel_lets_the_rest_go():
    localedata.clear_caches()
    locale = FormattingLocale("de")
    assert set(locale._data) <= set(FORMATTING_KEYS)
    assert localedata._cache == {} and localedata._dict_cache == {}


def test_a_key_outside_the_list_is_still_read_from_babels_data_and_let_go(caplog):
    localedata.clear_caches()
    locale = FormattingLocale("fr")
    assert locale.languages["de"] == "allemand"
    assert locale.territories["DE"] == "Allemagne"
    assert "languages" in locale._data
    assert localedata._cache == {} and localedata._dict_cache == {}
    assert "CLDR data read beyond FORMATTING_KEYS: languages" in caplog.text


def test_a_locale_with_a_territory_is_that_locale():
    localedata.clear_caches()
    swiss, whole = FormattingLocale("de_CH"), Locale.parse("de_CH")
    assert (swiss.language, swiss.territory, str(swiss)) == ("de", "CH", "de_CH")
    assert format_decimal(1234567, locale=swiss) == format_decimal(1234567, locale=whole)
    assert format_date(MOMENTS[0], "medium", locale=swiss) == format_date(
        MOMENTS[0], "medium", locale=whole
    )
    localedata.clear_caches()
    FormattingLocale("de_CH")
    assert localedata._cache == {}  # de_CH, its parent de and the root


def test_one_locale_per_language():
    assert formatting_locale("en") is formatting_locale("en")
    assert formatting_locale("en") is not formatting_locale("de")


def test_after_the_warm_up_pages_in_every_language_load_no_more_cldr_data(app, client, caplog):
    """As in a new master: nothing read yet (the other tests read languages whole)."""
    localedata.clear_caches()
    formatting_locale.cache_clear()
    _moment_pattern.cache_clear()
    warm_up(app)
    assert core._global_data is None
    assert localedata._cache == {} and localedata._dict_cache == {}
    for language in SUPPORTED:
        client.get("/login", headers={"Accept-Language": language}, follow_redirects=True)
        client.get("/me", headers={"Accept-Language": language}, follow_redirects=True)
        with app.test_request_context(), force_locale(language):
            format_moment(MOMENTS[0])
            format_day(MOMENTS[0])
            format_count(1234)
    assert localedata._cache == {} and localedata._dict_cache == {}
    assert core._global_data is None
    assert "beyond FORMATTING_KEYS" not in caplog.text
