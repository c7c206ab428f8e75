"""zxcvbn's advice (its feedback warning and suggestions) in the visitor's language.

zxcvbn speaks English only. Its known sentences are listed here, marked for the catalogs, so
the password policy shows each one translated; a sentence not in the list (a newer zxcvbn) is
shown as zxcvbn wrote it. The list is zxcvbn 4.x's feedback.py, word for word."""

from flask_babel import gettext

from idp.core.i18n import N_

ZXCVBN_ADVICE = frozenset(
    {
        N_("A word by itself is easy to guess."),
        N_("Add another word or two. Uncommon words are better."),
        N_("All-uppercase is almost as easy to guess as all-lowercase."),
        N_("Avoid dates and years that are associated with you."),
        N_("Avoid recent years."),
        N_("Avoid repeated words and characters."),
        N_("Avoid sequences."),
        N_("Avoid years that are associated with you."),
        N_("Capitalization doesn't help very much."),
        N_("Common names and surnames are easy to guess."),
        N_("Dates are often easy to guess."),
        N_("Names and surnames by themselves are easy to guess."),
        N_("No need for symbols, digits, or uppercase letters."),
        N_("Predictable substitutions like '@' instead of 'a' don't help very much."),
        N_("Recent years are easy to guess."),
        N_('Repeats like "aaa" are easy to guess.'),
        N_("Reversed words aren't much harder to guess."),
        N_('Sequences like "abc" or "6543" are easy to guess.'),
        N_("Short keyboard patterns are easy to guess."),
        N_("Straight rows of keys are easy to guess."),
        N_("This is a top-10 common password."),
        N_("This is a top-100 common password."),
        N_("This is a very common password."),
        N_("This is similar to a commonly used password."),
        N_("Use a few words, avoid common phrases."),
        N_("Use a longer keyboard pattern with more turns."),
    }
)


def advice_in_words(sentence: str) -> str:
    """One of zxcvbn's sentences in the request's language; an unknown one as it came."""
    return gettext(sentence) if sentence in ZXCVBN_ADVICE else sentence
