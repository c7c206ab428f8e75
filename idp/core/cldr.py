"""The little of CLDR (the Unicode locale data Babel ships) that Gatehouse formats with.

Babel keeps the whole of a language's CLDR data once any of it is read: 1.3 MiB of Python
objects per language, and the shared root's 0.6, so 4.6 MiB for English, German and French.
Loaded in the preloading master, that sat in every worker's memory (bench/signin.py reports it).
Gatehouse formats dates, times and counts, which read seven of the data's keys, a few KiB.

`formatting_locale` is a Babel Locale that holds just those keys, and Babel's own functions
format with it. A key it lacks is read from Babel's full data when first asked for: the list
decides only the memory, never a result. The full data read to make it is then let go."""

import functools

from babel import Locale, core, localedata

# What babel.dates and babel.numbers read to format a date, a time and a decimal number.
FORMATTING_KEYS = (
    "date_formats",
    "datetime_formats",
    "day_periods",
    "decimal_formats",
    "months",
    "number_symbols",
    "time_formats",
)


class _FewKeys(dict):
    """A locale's data with only some keys; the others are read from the full data."""

    def __init__(self, identifier: str, data: dict):
        super().__init__(data)
        self.identifier = identifier

    def __missing__(self, key):
        value = localedata.load(self.identifier)[key]  # a KeyError here is Babel's own
        self[key] = value
        return value


class FormattingLocale(Locale):
    def __init__(self, identifier: str):
        super().__init__(identifier)
        full = localedata.load(identifier)
        few = {key: full[key] for key in FORMATTING_KEYS if key in full}
        _let_go(identifier)
        self._few = localedata.LocaleDataDict(_FewKeys(identifier, few))

    @property
    def _data(self) -> localedata.LocaleDataDict:
        return self._few


@functools.cache
def formatting_locale(identifier: str) -> FormattingLocale:
    return FormattingLocale(identifier)


def make_formatting_locales(identifiers) -> None:
    """For the preloading master, before anything else of its warm-up (idp/core/warmup.py):
    the memory the full data held is then reused by what the warm-up goes on to make, and is
    not left as holes in the pages every worker shares. Babel's global data (2.1 MiB), read
    for the languages' parents, goes too; Babel reads it again if ever asked (core.get_global).
    Only here, in one thread: a thread inside get_global would find it gone."""
    for identifier in identifiers:
        formatting_locale(identifier)
    if getattr(core, "_global_data", None) is not None:  # not a public name, as below
        core._global_data = None


def _let_go(identifier: str) -> None:
    """Babel keeps each language's data, and the root's, for good in localedata._cache (not a
    public name: if a release renames it, the data just stays, as it did before)."""
    cache = getattr(localedata, "_cache", None)
    if isinstance(cache, dict):
        for name in (identifier, "root"):
            cache.pop(name, None)
