"""The password, password_expiry and unique_password policy types through evaluate()."""

import hashlib
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType

import pytest

from idp.core.extensions import db
from idp.core.options import OptionsError
from idp.identity.accounts import set_password
from idp.models import User
from idp.models.types import utcnow
from idp.policies.password import PasswordPolicy, common_passwords
from idp.policies.password_expiry import PasswordExpiryPolicy
from idp.policies.types import ANONYMOUS, PolicyError, PolicyRequest, PolicyUser, answering_by
from idp.policies.unique_password import UniquePasswordPolicy
from tests.factories import PASSWORD, make_user

PASSWORD_POLICY = PasswordPolicy()
EXPIRY_POLICY = PasswordExpiryPolicy()
UNIQUE_POLICY = UniquePasswordPolicy()
STRONG = "violet kettle marches north"
ALICE = PolicyUser(id=1, username="alice", email="al.smith@example.test", is_authenticated=True)


def request_for(password=STRONG, user=ANONYMOUS, field="password", **answers) -> PolicyRequest:
    prompt_data = {field: password, **answers}
    return PolicyRequest(user=user, context=MappingProxyType({"prompt_data": prompt_data}))


def check(policy, options, request):
    return policy.evaluate(request, policy.parse_options(options))


def messages_for(password, options=None, **request_fields):
    result = check(PASSWORD_POLICY, options or {}, request_for(password, **request_fields))
    assert result.passing == (not result.messages)
    return result.messages


# --- password: the rules one by one ---------------------------------------------------------


def test_defaults_are_the_documented_ones():
    options = PASSWORD_POLICY.parse_options({})
    assert (options.password_field, options.min_length, options.max_length) == (
        "password",
        8,
        128,
    )
    assert (options.min_uppercase, options.min_lowercase, options.min_digits) == (0, 0, 0)
    assert (options.min_symbols, options.zxcvbn_min_score) == (0, 0)
    assert options.check_common_passwords and options.reject_user_attributes
    assert options.reject_repetitive_and_sequential and options.reject_context_words
    assert options.context_words == ()
    assert not options.check_hibp
    assert options.hibp_url == "https://api.pwnedpasswords.com/range/"


def test_a_strong_password_passes_the_defaults():
    assert messages_for(STRONG, user=ALICE) == ()


@pytest.mark.parametrize(
    ("password", "options", "message"),
    [
        ("short1!", {}, "Use at least 8 characters."),
        ("x" * 65, {"max_length": 64, "check_common_passwords": False}, "Use at most 64"),
        ("no upper case here", {"min_uppercase": 2}, "Use at least 2 upper-case letters."),
        ("NO LOWER CASE HERE", {"min_lowercase": 1}, "Use at least 1 lower-case letter."),
        ("no digits in here", {"min_digits": 1}, "Use at least 1 digit."),
        ("nosymbolsinhere", {"min_symbols": 1}, "Use at least 1 symbol."),
        ("Dragon", {"min_length": 1}, "This password is too common."),
        ("PASSWORD", {"min_length": 1}, "This password is too common."),
        ("aaaaaaaaaa", {"zxcvbn_min_score": 3}, "This password is too easy to guess."),
    ],
)
def test_each_rule_refuses_with_a_sentence_saying_why(password, options, message):
    messages = messages_for(password, options)
    assert any(text.startswith(message) for text in messages), messages


@pytest.mark.parametrize(
    ("password", "options"),
    [
        ("eight ch", {}),
        (
            "x" * 64,
            {
                "max_length": 64,
                "check_common_passwords": False,
                "reject_repetitive_and_sequential": False,
            },
        ),
        ("Two Upper case", {"min_uppercase": 2}),
        ("a lower", {"min_lowercase": 1, "min_length": 1}),
        ("digit 1 here", {"min_digits": 1}),
        ("a symbol!", {"min_symbols": 1}),
        ("spaces count", {"min_symbols": 1}),
        ("Dragon", {"min_length": 1, "check_common_passwords": False}),
        (STRONG, {"zxcvbn_min_score": 4}),
    ],
)
def test_each_rule_accepts_a_password_that_meets_it(password, options):
    assert messages_for(password, options) == ()


def test_length_counts_code_points_not_bytes():
    assert messages_for("éàèùâêî") == ("Use at least 8 characters.",)
    assert messages_for("éàèùâêîô") == ()
    assert messages_for("🔑🔒🚪🏠🔑🔒🚪🌳") == ()  # eight code points, 32 bytes in UTF-8


def test_length_counts_the_normalised_form_that_is_stored():
    # Seven letters, each typed as a letter plus a combining accent: 14 code points as typed,
    # 7 once normalised, and the normalised form is what gets stored.
    typed = "".join(letter + "\u0301" for letter in "aeiouyc")
    assert len(typed) == 14
    assert messages_for(typed) == ("Use at least 8 characters.",)
    # The ligatures "ffi" and "ffl" (U+FB03, U+FB04) are three letters each once normalised:
    # five code points as typed, nine stored.
    assert messages_for("\ufb03\ufb04 go") == ()


def test_letters_without_ascii_count_in_their_class():
    assert messages_for("ÉCOLE école 1", {"min_uppercase": 5, "min_lowercase": 5}) == ()


def test_every_reason_is_given_not_only_the_first():
    messages = messages_for("alice", {"min_digits": 1, "min_symbols": 1}, user=ALICE)
    assert messages == (
        "Use at least 8 characters.",
        "Use at least 1 digit.",
        "Use at least 1 symbol.",
        "Don't use your username in your password.",
    )


def test_common_passwords_ship_with_the_project_and_load_lazily():
    words = common_passwords()
    assert len(words) == 10_000
    assert {"123456", "password", "dragon"} <= words
    assert not any(word.startswith("#") for word in words)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("my ALICE secret", "Don't use your username in your password."),
        ("alice", "Don't use your username in your password."),
        ("xx Al.Smith xx", "Don't use your email address in your password."),
    ],
)
def test_the_users_own_name_and_email_are_refused(password, message):
    assert message in messages_for(password, {"min_length": 1}, user=ALICE)


@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaaaaaa",
        "abcdefgh1234",
        "123456789",
        "987654321",
        "ABCDEFGHabcd",
        "111122223333",
        "abcabcabcabc",
        "passpasspass",
        "zzzzzzzz!",
    ],
)
def test_repetitive_and_sequential_strings_are_refused(password):
    messages = messages_for(password, {"check_common_passwords": False})
    assert messages == (
        "This password is mostly repeated or sequential characters (like aaaa, abcd or "
        "1234). Mix in more of your own.",
    )


@pytest.mark.parametrize(
    "password",
    [STRONG, "qwertyqwerty", "hunter22 abc", "aaaa kettle north", "1q2w3e4r", "Tr0ub4dor&3"],
)
def test_passwords_with_enough_of_their_own_are_not_repetitive(password):
    assert messages_for(password, {"check_common_passwords": False}) == ()


def test_repetitive_rule_can_be_turned_off():
    options = {"check_common_passwords": False, "reject_repetitive_and_sequential": False}
    assert messages_for("aaaaaaaaaaaa", options) == ()


SERVICE = "Don't use the name of this service or site in your password."


@pytest.mark.parametrize("password", ["gatehouse", "My Gatehouse pw!", "gate-house 2024 spring"])
def test_the_service_name_is_refused(password):
    assert messages_for(password, {"min_length": 1}) == (SERVICE,)


def test_the_sites_domain_name_is_refused(app):
    app.config["BASE_URL"] = "https://id.acme-widgets.example"
    with app.app_context():
        assert messages_for("AcmeWidgets rule ok") == (SERVICE,)
        assert messages_for(STRONG) == ()


def test_listed_context_words_are_refused_by_name():
    options = {"context_words": ["Initech", "tps report"]}
    assert messages_for("initech staff 4ever", options) == (
        "Don't use \u201cInitech\u201d in your password.",
    )
    assert messages_for("my TPS-Report pile", options) == (
        "Don't use \u201ctps report\u201d in your password.",
    )


def test_context_words_can_be_turned_off():
    assert messages_for("My Gatehouse pw!", {"reject_context_words": False}) == ()


def test_a_username_is_refused_with_its_separators_left_out():
    user = PolicyUser(id=3, username="j.doe-smith", email=None, is_authenticated=True)
    messages = messages_for("JDoeSmith loves tea", user=user)
    assert messages == ("Don't use your username in your password.",)


def test_user_attributes_rule_can_be_turned_off():
    assert messages_for("my alice secret", {"reject_user_attributes": False}, user=ALICE) == ()


def test_at_enrollment_the_typed_username_and_email_are_refused():
    messages = messages_for(
        "newbie wants in", username="Newbie", email="joiner@example.test", name="New Bie"
    )
    assert messages == ("Don't use your username in your password.",)
    messages = messages_for("hello joiner!", email="joiner@example.test")
    assert messages == ("Don't use your email address in your password.",)


def test_attributes_shorter_than_three_characters_are_allowed():
    user = PolicyUser(id=2, username="bo", email="jo@example.test", is_authenticated=True)
    assert messages_for("bobcat jogging", user=user) == ()


def test_zxcvbn_sees_the_user_inputs():
    options = {"zxcvbn_min_score": 3, "reject_user_attributes": False, "min_length": 1}
    username = "zorblaxtrimquo"
    assert messages_for(username, options) == ()
    messages = messages_for(username, options, username=username)
    assert messages[0].startswith("This password is too easy to guess.")


def test_zxcvbn_scores_passwords_longer_than_it_accepts():
    password = "violet kettles march north while seven amber foxes debate rain on tuesdays"
    assert len(password) > 72
    assert messages_for(password, {"zxcvbn_min_score": 4}) == ()


# --- password: where the password comes from ------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        PolicyRequest(),
        PolicyRequest(context=MappingProxyType({"prompt_data": {}})),
        PolicyRequest(context=MappingProxyType({"prompt_data": "not a mapping"})),
        request_for({"sealed": "gAAAAAB..."}),
        request_for(None),
        request_for(12345678),
    ],
    ids=["no prompt data", "no field", "bad prompt data", "sealed", "none", "number"],
)
def test_no_clear_password_to_check_fails_closed(request_):
    for policy in (PASSWORD_POLICY, UNIQUE_POLICY):
        with pytest.raises(PolicyError, match="prompt"):
            check(policy, {}, request_)


def test_the_password_field_is_configurable():
    prompt_data = {"new_password": "short", "password": STRONG}
    request = PolicyRequest(context=MappingProxyType({"prompt_data": prompt_data}))
    assert not check(PASSWORD_POLICY, {"password_field": "new_password"}, request).passing
    assert check(PASSWORD_POLICY, {}, request).passing


# --- options --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "options", "place"),
    [
        (PASSWORD_POLICY, {"min_length": 0}, "min_length"),
        (PASSWORD_POLICY, {"min_length": "8"}, "min_length"),
        (PASSWORD_POLICY, {"max_length": 63}, "max_length"),
        (PASSWORD_POLICY, {"min_length": 100, "max_length": 64}, "max_length"),
        (PASSWORD_POLICY, {"max_length": 5000}, "max_length"),
        (PASSWORD_POLICY, {"min_digits": -1}, "min_digits"),
        (PASSWORD_POLICY, {"max_length": 64, "min_digits": 40, "min_symbols": 40}, "min_symbols"),
        (PASSWORD_POLICY, {"zxcvbn_min_score": 5}, "zxcvbn_min_score"),
        (PASSWORD_POLICY, {"zxcvbn_min_score": -1}, "zxcvbn_min_score"),
        (PASSWORD_POLICY, {"check_hibp": "yes"}, "check_hibp"),
        (PASSWORD_POLICY, {"hibp_url": "file:///etc/passwd"}, "hibp_url"),
        (PASSWORD_POLICY, {"hibp_url": "https://"}, "hibp_url"),
        (PASSWORD_POLICY, {"hibp_timeout_seconds": 0}, "hibp_timeout_seconds"),
        (PASSWORD_POLICY, {"password_field": ""}, "password_field"),
        (PASSWORD_POLICY, {"min_lenght": 8}, "min_lenght"),
        (PASSWORD_POLICY, {"context_words": ["ok", "a-b"]}, "context_words[0]"),
        (PASSWORD_POLICY, {"context_words": "acme"}, "context_words"),
        (EXPIRY_POLICY, {"max_age_days": 0}, "max_age_days"),
        (EXPIRY_POLICY, {"max_age_days": 3651}, "max_age_days"),
        (EXPIRY_POLICY, {"action": "warn"}, "action"),
        (UNIQUE_POLICY, {"num_historical_passwords": 0}, "num_historical_passwords"),
        (UNIQUE_POLICY, {"num_historical_passwords": 25}, "num_historical_passwords"),
        (UNIQUE_POLICY, {"password_field": ""}, "password_field"),
    ],
)
def test_bad_options_name_their_field(policy, options, place):
    with pytest.raises(OptionsError) as error:
        policy.parse_options(options)
    assert error.value.place == place


def test_option_edges_are_accepted():
    PASSWORD_POLICY.parse_options({"min_length": 64, "max_length": 64, "zxcvbn_min_score": 4})
    EXPIRY_POLICY.parse_options({"max_age_days": 1, "action": "force_change"})
    EXPIRY_POLICY.parse_options({"max_age_days": 3650})
    UNIQUE_POLICY.parse_options({"num_historical_passwords": 24})


# --- password: Have I Been Pwned ------------------------------------------------------------


class FakeRangeHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        server = self.server
        server.paths.append(self.path)
        server.headers.append(dict(self.headers))
        if server.delay:
            server.release.wait(server.delay)
        if server.raw:
            self.wfile.write(server.raw)
            return
        body = server.body.encode("ascii")
        try:
            self.send_response(server.status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up waiting

    def log_message(self, format, *args):
        pass


@pytest.fixture
def hibp():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRangeHandler)
    server.paths, server.headers = [], []
    server.body, server.status, server.delay, server.raw = "", 200, 0, b""
    server.release = threading.Event()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/range/"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join()


def range_answer(password, count, padding=3):
    suffix = hashlib.sha1(password.encode()).hexdigest().upper()[5:]  # noqa: S324
    lines = [f"{'0' * 34}{digit}:0" for digit in range(padding)]
    if count is not None:
        lines.insert(1, f"{suffix}:{count}")
    return "\r\n".join(lines)


def hibp_options(server, **more):
    return {"check_hibp": True, "hibp_url": server.url, **more}


def test_a_breached_password_is_refused_with_its_count(hibp):
    hibp.body = range_answer(STRONG, 1234)
    messages = messages_for(STRONG, hibp_options(hibp))
    assert messages == (
        "This password appeared in a data breach 1,234 times. Choose a different one.",
    )
    assert len(hibp.paths) == 1


def test_only_the_five_character_prefix_leaves_the_machine(hibp):
    hibp.body = range_answer(STRONG, None)
    assert messages_for(STRONG, hibp_options(hibp)) == ()
    digest = hashlib.sha1(STRONG.encode()).hexdigest().upper()  # noqa: S324
    assert hibp.paths == [f"/range/{digest[:5]}"]
    assert digest[5:] not in str(hibp.headers)
    assert hibp.headers[0]["Add-Padding"] == "true"


def test_a_padding_line_with_count_zero_is_not_a_breach(hibp):
    suffix = hashlib.sha1(STRONG.encode()).hexdigest().upper()[5:]  # noqa: S324
    hibp.body = f"{suffix}:0\r\n{'A' * 35}:7"
    assert messages_for(STRONG, hibp_options(hibp)) == ()


def test_hibp_is_not_asked_when_local_rules_already_refuse(hibp):
    assert messages_for("short", hibp_options(hibp)) == ("Use at least 8 characters.",)
    assert hibp.paths == []


def test_hibp_is_off_by_default(hibp):
    hibp.body = range_answer(STRONG, 5)
    assert messages_for(STRONG, {"hibp_url": hibp.url}) == ()
    assert hibp.paths == []


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_hibp_down_fails_closed():
    options = {"check_hibp": True, "hibp_url": f"http://127.0.0.1:{unused_port()}/range/"}
    with pytest.raises(PolicyError, match="did not answer"):
        check(PASSWORD_POLICY, options, request_for(STRONG))


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (500, "oops", "did not answer"),
        (200, "", "empty"),
        (200, "<html>maintenance</html>", "unknown format"),
        (200, "ABC:12", "unknown format"),
    ],
)
def test_a_bad_answer_from_hibp_fails_closed(hibp, status, body, error):
    hibp.status, hibp.body = status, body
    with pytest.raises(PolicyError, match=error):
        check(PASSWORD_POLICY, hibp_options(hibp), request_for(STRONG))


@pytest.mark.parametrize(
    "raw",
    [b"not http at all\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 900\r\n\r\nABC"],
    ids=["bad status line", "cut short"],
)
def test_a_broken_http_answer_from_hibp_fails_closed(hibp, raw):
    hibp.raw = raw
    with pytest.raises(PolicyError):
        check(PASSWORD_POLICY, hibp_options(hibp), request_for(STRONG))


def test_hibp_respects_the_policy_deadline(hibp):
    hibp.delay = 5
    with answering_by(time.monotonic() + 0.2), pytest.raises(PolicyError, match="did not answer"):
        check(PASSWORD_POLICY, hibp_options(hibp), request_for(STRONG))
    with answering_by(time.monotonic() - 1), pytest.raises(PolicyError, match="no time left"):
        check(PASSWORD_POLICY, hibp_options(hibp), request_for(STRONG))


# --- password_expiry ------------------------------------------------------------------------


def policy_user(user: User) -> PolicyUser:
    return PolicyUser(id=user.id, username=user.username, is_authenticated=True)


def age_password(user_id: int, days: float) -> None:
    user = db.session.get(User, user_id)
    user.password_changed_at = utcnow() - timedelta(days=days)
    db.session.commit()


@pytest.mark.parametrize(("days", "passing"), [(0, True), (89.9, True), (90, False), (400, False)])
def test_password_expiry_passes_until_max_age(app, days, passing):
    with app.app_context():
        user = make_user()
        age_password(user.id, days)
        result = check(EXPIRY_POLICY, {"max_age_days": 90}, request_for(user=policy_user(user)))
        assert result.passing == passing


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("deny", "Your password has expired. Please ask an administrator to reset it."),
        ("force_change", "Your password has expired and must be changed."),
    ],
)
def test_an_expired_password_says_what_happens_next(app, action, message):
    with app.app_context():
        user = make_user()
        age_password(user.id, 30)
        result = check(
            EXPIRY_POLICY,
            {"max_age_days": 7, "action": action},
            PolicyRequest(user=policy_user(user)),
        )
        assert not result.passing
        assert result.messages == (message,)


def test_a_password_without_a_change_date_counts_as_expired(app):
    with app.app_context():
        user = make_user()
        user.password_changed_at = None
        db.session.commit()
        assert not check(EXPIRY_POLICY, {}, PolicyRequest(user=policy_user(user))).passing


def test_password_expiry_without_a_user_or_password_cannot_decide(app):
    with app.app_context():
        passwordless = make_user(password=None)
        for user in (ANONYMOUS, PolicyUser(id=999_999), policy_user(passwordless)):
            with pytest.raises(PolicyError, match="no user"):
                check(EXPIRY_POLICY, {}, PolicyRequest(user=user))


# --- unique_password ------------------------------------------------------------------------


def user_with_history(*passwords) -> User:
    """A user whose passwords were, oldest first, the ones given; the last is current."""
    user = make_user(password=passwords[0])
    for password in passwords[1:]:
        set_password(user, password)
        db.session.commit()
    return user


def test_the_current_password_is_refused_and_a_new_one_accepted(app):
    with app.app_context():
        user = policy_user(make_user())
        result = check(UNIQUE_POLICY, {}, request_for(PASSWORD, user=user))
        assert not result.passing
        assert result.messages == ("You used this password before. Choose a new one.",)
        assert check(UNIQUE_POLICY, {}, request_for(STRONG, user=user)).passing


@pytest.mark.parametrize(
    ("count", "refused"),
    [
        (1, {"third secret"}),
        (2, {"third secret", "second secret"}),
        (3, {"third secret", "second secret", "first secret"}),
        (24, {"third secret", "second secret", "first secret"}),
    ],
)
def test_earlier_passwords_are_refused_as_far_back_as_configured(app, count, refused):
    with app.app_context():
        user = policy_user(user_with_history("first secret", "second secret", "third secret"))
        options = {"num_historical_passwords": count}
        for password in ("first secret", "second secret", "third secret", "fourth secret"):
            result = check(UNIQUE_POLICY, options, request_for(password, user=user))
            assert result.passing == (password not in refused), password


def test_unique_password_passes_when_there_is_no_user_yet(app):
    with app.app_context():
        assert check(UNIQUE_POLICY, {}, request_for(PASSWORD)).passing
        assert check(UNIQUE_POLICY, {}, request_for(PASSWORD, user=PolicyUser(id=999_999))).passing


def test_unique_password_stops_when_out_of_time(app):
    with app.app_context():
        user = policy_user(make_user())
        with answering_by(time.monotonic() - 1), pytest.raises(PolicyError, match="out of time"):
            check(UNIQUE_POLICY, {}, request_for(STRONG, user=user))


def test_zxcvbn_advice_is_given_in_the_visitors_language(app):
    options = {"zxcvbn_min_score": 3, "reject_repetitive_and_sequential": False}
    with app.test_request_context(headers={"Accept-Language": "de-DE,de;q=0.9"}):
        (message,) = messages_for("aaaaaaaaaa", options)
    assert message.startswith("Dieses Passwort ist zu leicht zu erraten.")
    assert "Wiederholungen wie „aaa“ sind leicht zu erraten." in message
    assert "Vermeiden Sie wiederholte Wörter und Zeichen." in message
    assert "easy to guess" not in message


def test_zxcvbn_advice_it_does_not_know_stays_as_zxcvbn_wrote_it(app):
    from idp.policies.password_advice import advice_in_words

    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert advice_in_words("Avoid sequences.") == "Évitez les suites."
        assert advice_in_words("A brand new piece of advice.") == "A brand new piece of advice."
