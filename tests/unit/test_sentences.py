"""A Sentence is English wherever a str goes (logs, events, the CLI, the API) and is said in the
request's language where a page shows it (`translated`), its values kept as they are."""

import json

from idp.core.i18n import Sentence, placed, translated
from idp.core.options import OptionsError
from idp.policies.types import PolicyError


def test_a_sentence_is_its_english(app):
    problem = placed("flow.slug", Sentence("no stage named %(name)s", name="'x'"))
    assert problem == "flow.slug: no stage named 'x'"
    assert json.dumps([problem]) == "[\"flow.slug: no stage named 'x'\"]"
    assert str(PolicyError("took longer than its timeout of %(timeout)s s", timeout=3)) == (
        "took longer than its timeout of 3 s"
    )
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert translated(problem) == "flow.slug: no stage named 'x'"


def test_a_sentence_is_said_in_german_with_its_values_as_they_are(app):
    error = PolicyError("policy type %(type)s is not installed", type="'Phase'")
    nested = PolicyError(
        "bad options: %(problem)s", problem=OptionsError("max_age_days", "is required").sentence
    )
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert translated(error.sentence) == "der Richtlinientyp 'Phase' ist nicht installiert"
        assert translated(nested.sentence) == (
            "ungültige Einstellungen: max_age_days: ist erforderlich"
        )
        assert translated(placed("here", "an administrator's own words")) == (
            "here: an administrator's own words"
        )


def test_an_options_error_built_from_a_duration_check_is_translated(app):
    from idp.stages.user_login.options import UserLoginOptions

    try:
        UserLoginOptions(session_duration="soon").validate()
    except OptionsError as error:
        assert error.message == "'soon' is not a duration like 30m, 8h, 1d12h or 2w"
        with app.test_request_context(headers={"Accept-Language": "fr"}):
            assert error.in_words() == "'soon' n'est pas une durée comme 30m, 8h, 1d12h ou 2w"
    else:
        raise AssertionError("a bad duration was accepted")


def test_a_redirect_uri_problem_is_translated(app):
    from idp.providers.oauth2.options import OAuth2Options

    try:
        OAuth2Options(redirect_uris=["javascript:alert(1)"]).validate()
    except OptionsError as error:
        assert str(error) == "redirect_uris[0]: may not use the javascript scheme"
        with app.test_request_context(headers={"Accept-Language": "de"}):
            assert error.in_words() == "darf das Schema javascript nicht verwenden"
    else:
        raise AssertionError("a javascript: redirect URI was accepted")
