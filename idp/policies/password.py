"""Rules for a new password: length, character classes, strength, common and breached
passwords, repetitive and sequential strings, and words from the context (the service's name,
the user's name and address).

The rules read the password in the form it is stored in: NFKC (idp.credentials.passwords.normalise).

Bind it as a prompt stage's `validation_policies`: it reads the clear answer from
`prompt_data` while the prompt checks it, and nowhere else (elsewhere the password is
sealed, and the policy refuses to decide rather than pass).
"""

import functools
import hashlib
import http.client
import threading
import time
import unicodedata
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app, has_app_context
from flask_babel import gettext as _
from flask_babel import ngettext

from idp.core.i18n import N_, format_count
from idp.core.options import OptionsError, option
from idp.credentials.passwords import MAX_PASSWORD_LENGTH, normalise
from idp.flows.context import PROMPT_DATA
from idp.policies.base import PolicyType
from idp.policies.password_advice import advice_in_words
from idp.policies.types import (
    PolicyError,
    PolicyRequest,
    PolicyResult,
    PolicyUser,
    policy_deadline,
)
from idp.transfer.authentik_models import AuthentikModel

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt"
HIBP_URL = "https://api.pwnedpasswords.com/range/"
# A padded range answer is about 40 kB; anything far bigger is not a range answer.
HIBP_MAX_ANSWER_BYTES = 1_000_000
# zxcvbn refuses longer input and its matching grows quickly with length. A prefix is at
# most as hard to guess as the whole password, so scoring it errs on the safe side.
ZXCVBN_MAX_LENGTH = 72
# Shorter user attributes ("al", "jo") would refuse too many good passwords.
MIN_ATTRIBUTE_LENGTH = 3
# The service's own name, always kept out of passwords (with the site's domain name).
SERVICE_NAMES = ("gatehouse",)
# A run of this many characters or more, each the same as the one before or one code point
# above or below it ("aaaa", "abcd", "4321"), counts as one piece of a password.
MIN_RUN_LENGTH = 3
# A password must have at least this many pieces; "abcdefgh1234" has two, "aaaaaaaaaaaa" one.
MIN_PIECES = 5


@dataclass(frozen=True)
class PasswordOptions:
    password_field: str = option(
        "password",
        N_("The key of the prompt field holding the new password."),
    )
    min_length: int = option(8, N_("The fewest characters a password may have."))
    max_length: int = option(
        128, N_("The most characters a password may have (at least 64, as NIST advises).")
    )
    min_uppercase: int = option(0, N_("The fewest upper-case letters it must have (0: any)."))
    min_lowercase: int = option(0, N_("The fewest lower-case letters it must have (0: any)."))
    min_digits: int = option(0, N_("The fewest digits it must have (0: any)."))
    min_symbols: int = option(
        0, N_("The fewest characters that are neither letters nor digits it must have (0: any).")
    )
    zxcvbn_min_score: int = option(
        0,
        N_(
            "The lowest strength score (0 to 4) that zxcvbn, a password strength estimator, may "
            "give it. 0: not checked; 3 is a good choice."
        ),
    )
    check_common_passwords: bool = option(
        True, N_("Refuses the passwords most often used (a list shipped with Gatehouse).")
    )
    reject_user_attributes: bool = option(
        True, N_("Refuses passwords that contain the user's name, username or email address.")
    )
    reject_repetitive_and_sequential: bool = option(
        True,
        N_(
            'Refuses passwords made of runs like "aaaa", "abcd" or "4321", or a short block '
            'repeated ("abcabcabc").'
        ),
    )
    reject_context_words: bool = option(
        True,
        N_(
            "Refuses passwords that contain the service's name, the site's domain name, or a "
            "word listed below."
        ),
    )
    context_words: tuple[str, ...] = option(
        (), N_("More words to keep out of passwords, one per line (your organisation's name, say).")
    )
    check_hibp: bool = option(
        False,
        N_(
            "Refuses passwords found in known breaches, asking Have I Been Pwned. Only the first "
            "five characters of the password's SHA-1 hash leave the server."
        ),
    )
    hibp_url: str = option(
        HIBP_URL, N_("The breach service's range address (Have I Been Pwned's, or a mirror of it).")
    )
    hibp_timeout_seconds: int = option(
        5, N_("Seconds to wait for the breach service; when it does not answer, the check fails.")
    )

    def validate(self):
        if not self.password_field:
            raise OptionsError("password_field", N_("must name the prompt field to check"))
        if self.min_length < 1:
            raise OptionsError("min_length", N_("must be at least 1"))
        # NIST SP 800-63B: allow passwords of at least 64 characters.
        if self.max_length < 64:
            raise OptionsError("max_length", N_("must be at least 64"))
        if self.max_length < self.min_length:
            raise OptionsError("max_length", N_("must be at least min_length"))
        if self.max_length > MAX_PASSWORD_LENGTH:
            raise OptionsError(
                "max_length",
                N_("must be at most %(max_password_length)s"),
                max_password_length=MAX_PASSWORD_LENGTH,
            )
        counts = [option for option, _noun, _is_member in CHARACTER_CLASSES]
        for name in counts:
            if getattr(self, name) < 0:
                raise OptionsError(name, N_("must not be negative"))
        if sum(getattr(self, name) for name in counts) > self.max_length:
            raise OptionsError(
                "min_symbols", N_("the minimum counts add up to more than max_length")
            )
        if not 0 <= self.zxcvbn_min_score <= 4:
            raise OptionsError("zxcvbn_min_score", N_("must be from 0 (off) to 4"))
        url = urlsplit(self.hibp_url)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise OptionsError("hibp_url", N_("must be an http or https address"))
        if not 1 <= self.hibp_timeout_seconds <= 60:
            raise OptionsError("hibp_timeout_seconds", N_("must be from 1 to 60"))
        for index, word in enumerate(self.context_words):
            if len(_folded(word)) < MIN_ATTRIBUTE_LENGTH:
                raise OptionsError(
                    f"context_words[{index}]",
                    N_("must have at least %(min_attribute_length)s letters or digits"),
                    min_attribute_length=MIN_ATTRIBUTE_LENGTH,
                )


def candidate_password(request: PolicyRequest, field: str) -> str:
    """The clear password a prompt is checking; raises PolicyError when there is none."""
    prompt_data = request.context.get(PROMPT_DATA)
    if not isinstance(prompt_data, Mapping):
        raise PolicyError(N_("no prompt answers to check"))
    value = prompt_data.get(field)
    if not isinstance(value, str):
        # Missing, or sealed: outside a prompt's validation the password is not readable.
        raise PolicyError(N_("no clear password in prompt_data[%(field)s]"), field=repr(field))
    return value


def read_authentik_options(source, options: dict) -> None:
    if source.has("password_field"):
        options["password_field"] = source.text("password_field", "password")
    if source.flag("check_static_rules", True):
        options["min_length"] = source.number("length_min", 0) or 1
        for authentik_name, name in (
            ("amount_uppercase", "min_uppercase"),
            ("amount_lowercase", "min_lowercase"),
            ("amount_digits", "min_digits"),
            ("amount_symbols", "min_symbols"),
        ):
            options[name] = source.number(authentik_name, 0)
    else:
        options.update(min_length=1, min_uppercase=0, min_lowercase=0, min_digits=0)
        options["min_symbols"] = 0
    options["zxcvbn_min_score"] = 0
    if source.flag("check_zxcvbn", False):
        # authentik fails a score at or below its threshold; Gatehouse names the lowest pass.
        threshold = source.number("zxcvbn_score_threshold", 2)
        options["zxcvbn_min_score"] = min(max(threshold + 1, 1), 4)
        if threshold >= 4:
            source.note(
                f"zxcvbn_score_threshold {threshold}",
                "authentik then refuses every password; Gatehouse asks for the top score, 4",
            )
    options["check_hibp"] = source.flag("check_have_i_been_pwned", False)
    allowed = source.number("hibp_allowed_count", 0)
    if options["check_hibp"] and allowed:
        source.note(f"hibp_allowed_count {allowed}", "Gatehouse refuses any breached password")
    message = source.text("error_message")
    if message:
        source.note(f"error_message {message}", "Gatehouse says which rule a password breaks")


AUTHENTIK = AuthentikModel(
    model="authentik_policies_password.passwordpolicy",
    read_options=read_authentik_options,
    # authentik's default symbols are ASCII punctuation and the space, which Gatehouse counts
    # as symbols too.
    off_values={
        "execution_logging": (False,),
        "symbol_charset": ("!\\\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ ",),
    },
    # authentik's password policy does not look for the user's name, common passwords,
    # repetitive or sequential strings, or the service's name.
    new_options={
        "check_common_passwords": False,
        "reject_user_attributes": False,
        "reject_repetitive_and_sequential": False,
        "reject_context_words": False,
    },
)


class PasswordPolicy(PolicyType):
    name = "password"
    label = N_("Password rules")
    description = N_(
        "Checks a new password from a prompt: length, character classes, zxcvbn strength, "
        "common passwords, repetitive or sequential strings, the service's and the user's "
        "own names, and optionally Have I Been Pwned."
    )
    Options = PasswordOptions
    authentik = AUTHENTIK

    def rules(self, options: PasswordOptions) -> tuple[str, ...]:
        rules = [_at_least("character", options.min_length)]
        for option_name, noun, _is_member in CHARACTER_CLASSES:
            minimum = getattr(options, option_name)
            if minimum:
                rules.append(_at_least(noun, minimum))
        if options.check_common_passwords:
            rules.append(_("Not a common password"))
        if options.reject_repetitive_and_sequential:
            rules.append(_("Not mostly repeated or sequential characters (like aaaa or 1234)"))
        if options.reject_user_attributes:
            rules.append(_("Not your username, name or email address"))
        if options.reject_context_words:
            rules.append(_("Not the name of this site"))
        if options.zxcvbn_min_score:
            rules.append(_("Hard to guess: a few unusual words make a strong password"))
        if options.check_hibp:
            rules.append(_("Not one that appeared in a known data breach"))
        return (options.password_field, *rules)

    def evaluate(self, request, options: PasswordOptions) -> PolicyResult:
        password = normalise(candidate_password(request, options.password_field))
        messages = [
            *_length_messages(password, options),
            *_class_messages(password, options),
        ]
        if options.check_common_passwords and password.casefold() in common_passwords():
            messages.append(_("This password is too common."))
        if options.reject_repetitive_and_sequential and is_repetitive_or_sequential(password):
            messages.append(
                _(
                    "This password is mostly repeated or sequential characters "
                    "(like aaaa, abcd or 1234). Mix in more of your own."
                )
            )
        if options.reject_context_words:
            messages.extend(_context_messages(password, options))
        if options.reject_user_attributes:
            messages.extend(_attribute_messages(password, request))
        if options.zxcvbn_min_score and len(password) <= options.max_length:
            messages.extend(_strength_messages(password, request, options.zxcvbn_min_score))
        # Asked last, and only for a password the local rules accept: a refused password
        # need not leave the machine even as a hash prefix, and an outage of the service
        # must not hide the reasons the user can fix.
        if options.check_hibp and not messages:
            count = breach_count(password, options, policy_deadline())
            if count:
                messages.append(
                    ngettext(
                        "This password appeared in a data breach once. Choose a different one.",
                        "This password appeared in a data breach %(times)s times. "
                        "Choose a different one.",
                        count,
                        times=format_count(count),
                    )
                )
        return PolicyResult(not messages, tuple(messages))


def default_rules_refuse(password: str, username: str, email: str = "", name: str = "") -> tuple:
    """What the rules' defaults (a sign-up's in the shipped flows) say against a password an
    administrator sets from the command line; empty when they accept it."""
    user = PolicyUser(username=username, email=email, name=name)
    request = PolicyRequest(user=user, context={PROMPT_DATA: {"password": password}})
    return PasswordPolicy().evaluate(request, PasswordOptions()).messages


def _length_messages(password: str, options: PasswordOptions) -> list[str]:
    # len() counts code points of the NFKC form, as NIST SP 800-63B does: an "é" is one
    # whether it was typed as one code point or as "e" plus a combining accent.
    if len(password) < options.min_length:
        return [_use_at_least("character", options.min_length)]
    if len(password) > options.max_length:
        count = options.max_length
        return [
            ngettext("Use at most %(num)d character.", "Use at most %(num)d characters.", count)
        ]
    return []


def _is_symbol(character: str) -> bool:
    """Punctuation, symbols and spaces: anything that is not a letter, digit or control."""
    return not character.isalnum() and unicodedata.category(character)[0] in "PSZ"


CHARACTER_CLASSES = (
    ("min_uppercase", "upper-case letter", str.isupper),
    ("min_lowercase", "lower-case letter", str.islower),
    ("min_digits", "digit", str.isdigit),
    ("min_symbols", "symbol", _is_symbol),
)


def _class_messages(password: str, options: PasswordOptions) -> list[str]:
    messages = []
    for name, noun, is_member in CHARACTER_CLASSES:
        minimum = getattr(options, name)
        if sum(map(is_member, password)) < minimum:
            messages.append(_use_at_least(noun, minimum))
    return messages


def _at_least(noun: str, count: int) -> str:
    """A rule listed before the first try: "At least 8 characters"."""
    if noun == "upper-case letter":
        return ngettext(
            "At least %(num)d upper-case letter", "At least %(num)d upper-case letters", count
        )
    if noun == "lower-case letter":
        return ngettext(
            "At least %(num)d lower-case letter", "At least %(num)d lower-case letters", count
        )
    if noun == "digit":
        return ngettext("At least %(num)d digit", "At least %(num)d digits", count)
    if noun == "symbol":
        return ngettext("At least %(num)d symbol", "At least %(num)d symbols", count)
    return ngettext("At least %(num)d character", "At least %(num)d characters", count)


def _use_at_least(noun: str, count: int) -> str:
    """What a refused password lacks: "Use at least 2 digits."."""
    if noun == "upper-case letter":
        return ngettext(
            "Use at least %(num)d upper-case letter.",
            "Use at least %(num)d upper-case letters.",
            count,
        )
    if noun == "lower-case letter":
        return ngettext(
            "Use at least %(num)d lower-case letter.",
            "Use at least %(num)d lower-case letters.",
            count,
        )
    if noun == "digit":
        return ngettext("Use at least %(num)d digit.", "Use at least %(num)d digits.", count)
    if noun == "symbol":
        return ngettext("Use at least %(num)d symbol.", "Use at least %(num)d symbols.", count)
    return ngettext("Use at least %(num)d character.", "Use at least %(num)d characters.", count)


def is_repetitive_or_sequential(password: str) -> bool:
    """True when the password is made of few pieces: each run of MIN_RUN_LENGTH or more
    characters that repeat or count up or down by one ("aaaa", "abcd", "9876") is one
    piece, any other character one more, and a block repeated over the whole password
    ("abcabcabc", "passpass") counts once. Fewer than MIN_PIECES is refused."""
    folded = password.casefold()
    return _pieces(_repeated_block(folded)) < MIN_PIECES


def _repeated_block(text: str) -> str:
    """The shortest block that, repeated twice or more, makes the whole text (else the text)."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text


def _pieces(text: str) -> int:
    pieces, start = 0, 0
    while start < len(text):
        end = start + 1
        if end < len(text):
            step = ord(text[end]) - ord(text[start])
            if step in (-1, 0, 1):
                while end < len(text) and ord(text[end]) - ord(text[end - 1]) == step:
                    end += 1
        pieces += 1
        start = end if end - start >= MIN_RUN_LENGTH else start + 1
    return pieces


def _folded(text: str) -> str:
    """Case-folded letters and digits only: "Gate-House" and "gatehouse" are the same word."""
    return "".join(character for character in text.casefold() if character.isalnum())


def _contains_any(password: str, words: Iterable[str]) -> bool:
    """Whether the password holds one of the words, as written or with its separators left
    out ("Gate House 2024" holds "gatehouse"). Words shorter than MIN_ATTRIBUTE_LENGTH
    letters and digits are not looked for."""
    folded, bare = password.casefold(), _folded(password)
    for word in words:
        word_bare = _folded(word)
        if len(word_bare) < MIN_ATTRIBUTE_LENGTH:
            continue
        if word.strip().casefold() in folded or word_bare in bare:
            return True
    return False


def service_words() -> set[str]:
    """The service's name, and the site's domain name from IDP_BASE_URL ("example" for
    https://id.example.org): the first words an attacker tries against this site."""
    words = set(SERVICE_NAMES)
    base_url = current_app.config.get("BASE_URL", "") if has_app_context() else ""
    host = urlsplit(base_url).hostname or ""
    labels = host.split(".")
    if len(labels) >= 2 and not host.replace(".", "").isdigit():
        words.add(labels[-2])
    return words


def _context_messages(password: str, options: PasswordOptions) -> list[str]:
    messages = []
    if _contains_any(password, service_words()):
        messages.append(_("Don't use the name of this service or site in your password."))
    for word in options.context_words:
        if _contains_any(password, [word]):
            messages.append(_("Don't use “%(word)s” in your password.", word=word))
    return messages


def _attribute_messages(password: str, request: PolicyRequest) -> list[str]:
    usernames, emails = _user_attributes(request)
    messages = []
    if _contains_any(password, usernames):
        messages.append(_("Don't use your username in your password."))
    if _contains_any(password, {email.rpartition("@")[0] for email in emails}):
        messages.append(_("Don't use your email address in your password."))
    return messages


def _user_attributes(request: PolicyRequest) -> tuple[set[str], set[str]]:
    """Usernames and emails to keep out of the password: the user's, and at enrollment
    (no user yet) the ones typed in the prompt."""
    prompt_data = request.context.get(PROMPT_DATA)
    prompt_data = prompt_data if isinstance(prompt_data, Mapping) else {}
    usernames = {request.user.username, prompt_data.get("username")}
    emails = {request.user.email, prompt_data.get("email")}
    return (
        {value.strip().casefold() for value in usernames if isinstance(value, str)},
        {value.strip().casefold() for value in emails if isinstance(value, str) and "@" in value},
    )


# zxcvbn keeps the user inputs of a call in a module-level dictionary, so two threads
# scoring at once would see each other's inputs.
_zxcvbn_lock = threading.Lock()


def _strength_messages(password: str, request: PolicyRequest, min_score: int) -> list[str]:
    from zxcvbn import zxcvbn  # slow to import (it builds its dictionaries): only when used

    usernames, emails = _user_attributes(request)
    prompt_data = request.context.get(PROMPT_DATA)
    names = {request.user.name, prompt_data.get("name") if isinstance(prompt_data, Mapping) else ""}
    user_inputs = {
        *usernames,
        *emails,
        *(email.rpartition("@")[0] for email in emails),
        *(name for name in names if isinstance(name, str)),
    }
    with _zxcvbn_lock:
        result = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=sorted(filter(None, user_inputs)))
    if result["score"] >= min_score:
        return []
    feedback = result.get("feedback") or {}
    advice = [feedback.get("warning") or "", *(feedback.get("suggestions") or ())]
    # zxcvbn's own advice is in English only: its known sentences are translated here.
    words = [advice_in_words(sentence) for sentence in advice if sentence]
    return [" ".join([_("This password is too easy to guess."), *words])]


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list, case-folded; read on first use and kept for the process."""
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as lines:
        return frozenset(
            line.strip().casefold() for line in lines if line.strip() and not line.startswith("#")
        )


def breach_count(password: str, options: PasswordOptions, deadline: float | None) -> int:
    """How often Have I Been Pwned has seen the password (0: never), by k-anonymity: only
    the first five characters of its SHA-1 leave the machine. Raises PolicyError when the
    service cannot answer."""
    digest = hashlib.sha1(password.encode("utf-8"), usedforsecurity=False).hexdigest().upper()
    prefix, suffix = digest[:5], digest[5:]
    timeout = float(options.hibp_timeout_seconds)
    if deadline is not None:
        timeout = min(timeout, deadline - time.monotonic())
        if timeout <= 0:
            raise PolicyError(N_("no time left to ask Have I Been Pwned"))
    request = urllib.request.Request(  # noqa: S310 (validate() allows only http and https)
        options.hibp_url.rstrip("/") + "/" + prefix,
        # Padding hides from an observer how many suffixes the prefix has.
        headers={"Add-Padding": "true", "User-Agent": "Gatehouse"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(HIBP_MAX_ANSWER_BYTES + 1)
    except (OSError, http.client.HTTPException, ValueError) as error:  # URLError is an OSError
        raise PolicyError(N_("Have I Been Pwned did not answer: %(error)s"), error=error) from None
    if len(body) > HIBP_MAX_ANSWER_BYTES:
        raise PolicyError(N_("Have I Been Pwned sent an answer too big to be a range"))
    return _count_in_range(body, suffix)


def _count_in_range(body: bytes, suffix: str) -> int:
    try:
        lines = body.decode("ascii").split()
    except UnicodeDecodeError:
        raise PolicyError(N_("Have I Been Pwned sent an answer that is not text")) from None
    if not lines:
        # Every prefix has hundreds of suffixes: an empty range is a broken answer.
        raise PolicyError(N_("Have I Been Pwned sent an empty range"))
    found = 0
    for line in lines:
        line_suffix, colon, count = line.partition(":")
        if not colon or len(line_suffix) != 35 or not count.isdigit():
            raise PolicyError(N_("Have I Been Pwned sent an answer in an unknown format"))
        if line_suffix.upper() == suffix:
            # Padding lines have a count of 0, so a match on one means "not seen".
            found = int(count)
    return found
