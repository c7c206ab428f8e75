"""The little of CLDR (the Unicode locale data Babel ships) that Gatehouse formats with.

Babel keeps the whole of a language's CLDR data once any of it is read: 1.3 MiB of Python
objects per language, and the shared root's 0.6, so 4.6 MiB for English, German and French.
Loaded in the preloading master, that sat in every worker's memory (bench/signin.py reports it).
Gatehouse formats dates, times and counts, which read seven of the data's keys, a few KiB.

`formatting_locale` is a Babel Locale that holds just those keys, and Babel's own functions
format with it. A key it lacks is read from Babel's full data when first asked for: the list
decides only the memory, never a result. The full data read to make it is then let go."""

import contextlib
import functools
import logging

from babel import Locale, core, localedata, parse_locale

log = logging.getLogger(__name__)

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
    """A locale's data with only some keys; another is read from the full data when first asked
    for, and the full data let go again."""

    def __init__(self, identifier: str, data: dict):
        super().__init__(data)
        self.identifier = identifier

    def __missing__(self, key):
        log.warning("CLDR data read beyond FORMATTING_KEYS: %s", key)
        with _whole_data(self.identifier) as full:
            value = full[key]  # a KeyError here is Babel's own
        self[key] = value
        return value


class FormattingLocale(Locale):
    def __init__(self, identifier: str):
        super().__init__(*parse_locale(identifier))
        with _whole_data(str(self)) as full:
            few = {key: full[key] for key in FORMATTING_KEYS if key in full}
        self._few = localedata.LocaleDataDict(_FewKeys(str(self), few))

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


@contextlib.contextmanager
def _whole_data(identifier: str):
    """A locale's whole data, then let go: Babel keeps what it loads for good, the language's
    data and its parents' (the root's at least) in localedata._cache, and since Babel 2.19 in
    localedata._dict_cache too. Neither name is public: if a release renames one, that data
    just stays, as it did before."""
    caches = [getattr(localedata, name, None) for name in ("_cache", "_dict_cache")]
    caches = [cache for cache in caches if isinstance(cache, dict)]
    before = set().union(*caches)
    try:
        yield localedata.load(identifier)
    finally:
        for cache in caches:
            for name in set(cache) - before | {identifier, "root"}:
                cache.pop(name, None)
