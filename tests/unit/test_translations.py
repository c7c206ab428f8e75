"""The catalogs keep the promise of complete German and French: every text marked in the code
and templates has a translation in each, the placeholders match, the compiled .mo files say
what their .po files say, and the words stored in the shipped flows are all translatable."""

import gettext
from pathlib import Path

import pytest
import yaml
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from idp.core.i18n import SUPPORTED
from idp.core.shipped_texts import SHIPPED_TEXTS

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "idp" / "translations"
TRANSLATED = [language for language in SUPPORTED if language != "en"]
# Babel's own keywords plus the lazy ones, as `make translations` passes them.
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "_l": None}
KEYWORDS |= {"lazy_gettext": None}


def catalog(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=language)


def marked_texts() -> set:
    """What `make translations` extracts, with the same mapping (babel.cfg)."""
    with open(ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = extract_from_dir(
        str(ROOT / "idp"), method_map, options_map, keywords=KEYWORDS, comment_tags=()
    )
    texts = set()
    for _filename, _line, message, _comments, _context in found:
        texts.add(message if isinstance(message, str) else tuple(message[:2]))
    return texts


@pytest.fixture(scope="module")
def texts():
    return marked_texts()


def test_german_and_french_are_the_languages_beside_english():
    assert TRANSLATED == ["de", "fr"]


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_marked_text_is_translated(texts, language):
    translations = catalog(language)
    missing = []
    for text in texts:
        key = text[0] if isinstance(text, tuple) else text
        message = translations.get(key)
        strings = message.string if message is not None else None
        complete = all(strings) if isinstance(strings, tuple | list) else bool(strings)
        if message is None or not complete or message.fuzzy:
            missing.append(key)
    assert not missing, f"not translated to {language}:\n" + "\n".join(sorted(missing))


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders(language):
    problems = [
        f"{message.id!r}: {errors}" for message, errors in catalog(language).check() if errors
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalog_matches_its_source(language):
    """A .po edited without `make translations` leaves the .mo the app reads behind."""
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    with open(folder / "messages.mo", "rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog
    expected = {}
    for message in catalog(language):
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple):
            for index, string in enumerate(message.string):
                expected[(message.id[0], index)] = string
        else:
            expected[message.id] = message.string
    compiled = {key: value for key, value in compiled.items() if key != ""}
    assert compiled == expected, f"{folder / 'messages.mo'} is stale: run `make translations`"


def stored_words(document: dict) -> set[str]:
    """The texts a visitor reads that a flow file stores: titles, labels, messages."""
    words = set()
    flow = document.get("flow", {})
    if flow.get("title"):
        words.add(flow["title"])
    for stage in document.get("stages", []):
        options = stage.get("options") or {}
        for key in ("title", "subject", "submit_label", "password_label", "failure_message"):
            if options.get(key):
                words.add(options[key])
        for key in ("done_message", "message", "heading"):
            if options.get(key):
                words.add(options[key])
        for field in options.get("fields", []):
            words.update(
                field[key] for key in ("label", "help_text", "placeholder") if field.get(key)
            )
    return words


def test_every_text_the_shipped_flows_store_is_translatable():
    words = set()
    for path in sorted((ROOT / "flows").glob("*.yaml")):
        words |= stored_words(yaml.safe_load(path.read_text()))
    assert words
    assert not words - SHIPPED_TEXTS, sorted(words - SHIPPED_TEXTS)


def test_the_stored_defaults_of_stages_and_the_brand_are_translatable():
    from dataclasses import fields

    from idp.brand.settings import SUBJECTS, BrandSettings
    from idp.stages.registry import STAGE_TYPES

    defaults = {getattr(BrandSettings(), name) for name in SUBJECTS}
    for stage_type in STAGE_TYPES.values():
        for option in fields(stage_type.Options):
            shown = option.name in ("title", "message", "done_message", "subject", "submit_label")
            if shown and isinstance(option.default, str) and option.default:
                defaults.add(option.default)
    assert not defaults - SHIPPED_TEXTS, sorted(defaults - SHIPPED_TEXTS)
