"""authentik's Python expressions, translated (never run) and then run in Gatehouse's own sandbox
for several users and flow contexts: the verdicts and messages must be authentik's.

The snippets are real: authentik's blueprints and documentation (MIT), and public blueprints
and Terraform files found with the code search (their origin is named with each). Where
authentik decides from something Gatehouse keeps differently, the scenario gives Gatehouse's
form of the same fact (a proved user is `pending_user_id` in the plan, a mailed link that
continued the flow is `email_verified`).
"""

from dataclasses import dataclass
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idp.core.options import parse_options
from idp.policies import expression as sandbox
from idp.policies.expression import ExpressionOptions, ExpressionPolicy, run_for_request
from idp.policies.expression_facts import plan_view
from idp.policies.types import ANONYMOUS, PolicyError, PolicyRequest, PolicyUser
from idp.transfer.python_expressions import (
    NO_CONSTANT,
    NotTranslated,
    translate_policy,
    translate_value,
)
from idp.transfer.python_expressions.values import (
    MAX_EXPRESSION_LENGTH,
    TEXT_METHODS,
    jinja_string,
)

POLICY = ExpressionPolicy()


def person(user_id, username, groups=(), active=True, superuser=False, **attributes):
    return PolicyUser(
        id=user_id,
        username=username,
        email=f"{username}@example.org",
        name=username.title(),
        is_authenticated=True,
        is_active=active,
        is_superuser=superuser,
        groups=tuple(groups),
        attributes=MappingProxyType(attributes),
    )


ADA = person(1, "ada", groups=("admins", "media-users"), superuser=True, reset_password=True)
BOB = person(2, "bob", groups=("staff",))
MARIE = person(3, "marie")
IDLE = person(4, "idle", active=False)


def context(**data) -> dict:
    return data


NAMED = context(uid="ada")  # named at identification, nothing proved yet
PROVED = context(uid="ada", pending_user_id=1, auth_method="password")
PASSKEY = context(pending_user_id=1, auth_method="passkey", passkey_verified_for=1)
RESTORED = context(pending_user_id=1, email_verified=True)


def request_for(user=ANONYMOUS, data=None, ip="10.1.2.3") -> PolicyRequest:
    return PolicyRequest(
        user=user,
        ip=ip,
        context=MappingProxyType(dict(data or {})),
        flow_slug="flow",
        flow_designation="authentication",
    )


def verdict(python: str, user=ANONYMOUS, data=None, ip="10.1.2.3"):
    expression = translate_policy(python).expression
    options = parse_options(ExpressionOptions, {"expression": expression})
    result = POLICY.evaluate(request_for(user, data, ip), options)
    return result.passing, result.messages


@dataclass(frozen=True)
class Scenario:
    name: str
    user: PolicyUser = ANONYMOUS
    data: dict | None = None
    passing: bool = True
    messages: tuple = ()
    ip: str = "10.1.2.3"


@dataclass(frozen=True)
class Snippet:
    origin: str
    python: str
    scenarios: tuple

    def __str__(self):
        return self.origin


CORPUS = (
    Snippet(
        "authentik blueprints/default/flow-default-authentication-flow.yaml (password stage)",
        """flow_plan = request.context.get("flow_plan")
if not flow_plan:
    return True
# If the user does not have a backend attached to it, they haven't
# been authenticated yet and we need the password stage
return not hasattr(flow_plan.context.get("pending_user"), "backend")
""",
        (
            Scenario("a name typed only", ADA, NAMED, True),
            Scenario("password checked on the identification page", ADA, PROVED, False),
            Scenario("signed in with a passkey", ADA, PASSKEY, False),
        ),
    ),
    Snippet(
        "authentik's later default authentication flow (MFA skipped after a passkey)",
        """flow_plan = request.context.get("flow_plan")
if not flow_plan:
    return True
return not (flow_plan.context.get("auth_method") == "auth_webauthn_pwl")
""",
        (
            Scenario("password", ADA, PROVED, True),
            Scenario("passkey", ADA, PASSKEY, False),
            Scenario("nothing yet", ADA, NAMED, True),
        ),
    ),
    Snippet(
        "authentik blueprints/default/flow-default-source-enrollment.yaml",
        """# Check if we''ve not been given a username by the external IdP
# and trigger the enrollment flow
return 'username' not in context.get('prompt_data', {})
""",
        (
            Scenario("no prompt data", data={}, passing=True),
            Scenario("email only", data={"prompt_data": {"email": "a@b.c"}}, passing=True),
            Scenario("username given", data={"prompt_data": {"username": "ada"}}, passing=False),
        ),
    ),
    Snippet(
        "authentik blueprints/example/flows-login-2fa.yaml",
        'return context.get("auth_method") != "app_password"\n',
        (
            Scenario("password", ADA, PROVED, True),
            Scenario("not signed in", ADA, NAMED, True),
        ),
    ),
    Snippet(
        "authentik blueprints/example/flows-recovery-email-verification.yaml (2023)",
        "return request.context.get('is_restored', False)\n",
        (
            Scenario("back from the mailed link", ADA, RESTORED, True),
            Scenario("first visit", ADA, NAMED, False),
        ),
    ),
    Snippet(
        "authentik blueprints/example/flows-recovery-email-verification.yaml (2024)",
        "return bool(request.context.get('is_restored', True))\n",
        (
            Scenario("back from the mailed link", ADA, RESTORED, True),
            Scenario("first visit", ADA, NAMED, True),
        ),
    ),
    Snippet(
        "authentik docs customize/policies/types/expression",
        """if request.context["pending_user"].username == "marie":
    return True
return False
""",
        (Scenario("marie", MARIE, passing=True), Scenario("other", ADA, passing=False)),
    ),
    Snippet(
        "authentik docs flows-stages/stages/deny",
        """pending_user = request.context.get("pending_user")
return bool(pending_user and pending_user.pk and not pending_user.is_active)
""",
        (
            Scenario("inactive", IDLE, passing=True),
            Scenario("active", ADA, passing=False),
            Scenario("nobody", ANONYMOUS, passing=False),
        ),
    ),
    Snippet(
        "authentik docs flows-stages/stages/prompt (password repeat)",
        """if request.context["prompt_data"]["password"] == request.context["prompt_data"]["password_repeat"]:
    return True

ak_message("Passwords don't match.")
return False
""",  # noqa: E501
        (
            Scenario("match", data={"prompt_data": {"password": "a", "password_repeat": "a"}}),
            Scenario(
                "mismatch",
                data={"prompt_data": {"password": "a", "password_repeat": "b"}},
                passing=False,
                messages=("Passwords don't match.",),
            ),
        ),
    ),
    Snippet(
        "authentik docs users-sources/user/password_reset_on_login",
        """if request.context["pending_user"].attributes.get("reset_password") == True:
    return True
return False
""",
        (Scenario("flagged", ADA, passing=True), Scenario("not flagged", BOB, passing=False)),
    ),
    Snippet(
        "authentik docs flows-stages/flow/snippets",
        "return not request.user.is_authenticated\n",
        (Scenario("anonymous", ANONYMOUS, passing=True), Scenario("user", ADA, passing=False)),
    ),
    Snippet(
        "authentik docs policies (numeric usernames)",
        """import re
if not re.match('^[0-9]+$', request.context["prompt_data"]["username"]):
  return True
ak_message("All numeric usernames are not allowed.")
return False
""",
        (
            Scenario("letters", data={"prompt_data": {"username": "ada1"}}),
            Scenario(
                "digits",
                data={"prompt_data": {"username": "1234"}},
                passing=False,
                messages=("All numeric usernames are not allowed.",),
            ),
        ),
    ),
    Snippet(
        "authentik docs stages/deny, expression reference (client IP)",
        """from ipaddress import ip_network

return ak_client_ip in ip_network("10.0.0.0/24")
""",
        (Scenario("inside", ip="10.0.0.5"), Scenario("outside", ip="192.0.2.1", passing=False)),
    ),
    Snippet(
        "authentik docs customize/policies/expression/whitelist_email (without the source)",
        """allowed_domains = ["example.org", "example.net", "example.com"]
current_domain = request.user.email.split("@")[1] if hasattr(request.user, 'email') and request.user.email else None
if current_domain in allowed_domains:
    return True
else:
    ak_message("Authentication denied for this email domain")
    return False
""",  # noqa: E501
        (
            Scenario("allowed domain", ADA),
            Scenario(
                "nobody",
                ANONYMOUS,
                passing=False,
                messages=("Authentication denied for this email domain",),
            ),
        ),
    ),
    Snippet(
        "Terraform, authentik_policy_expression media_users_required (code search)",
        'return ak_is_group_member(request.user, name="media-users")\n',
        (Scenario("member", ADA), Scenario("not a member", BOB, passing=False)),
    ),
    Snippet(
        "generated blueprint, policy-<group> (code search)",
        """return (ak_is_group_member(request.user, name="platform-admins")
        or ak_is_group_member(request.user, name="staff"))
""",
        (Scenario("staff", BOB), Scenario("neither", MARIE, passing=False)),
    ),
    Snippet(
        "username prefixes, a tuple as Python's startswith takes it",
        'return request.user.username.startswith(("ad", "ro")) or request.user.pk in (2,)\n',
        (Scenario("ada", ADA), Scenario("bob", BOB), Scenario("marie", MARIE, passing=False)),
    ),
    Snippet(
        "sync script, group policy (code search)",
        'return request.user.ak_groups.filter(name="admins").exists()\n',
        (Scenario("admin", ADA), Scenario("not an admin", BOB, passing=False)),
    ),
    Snippet(
        "API client, create_group_policy (code search)",
        "return request.user.is_authenticated and "
        'request.user.ak_groups.filter(name="staff").exists()\n',
        (
            Scenario("staff", BOB),
            Scenario("other", ADA, passing=False),
            Scenario("anonymous", passing=False),
        ),
    ),
    Snippet(
        "Nix module, allow-openhab-users (code search)",
        """# "user" is provided in context
return user is not None and "media-users" in [g.name for g in user.groups.all()]
""",
        (
            Scenario("member", ADA),
            Scenario("other", BOB, passing=False),
            Scenario("anonymous", passing=False),
        ),
    ),
    Snippet(
        "Terraform, google enrollment (code search)",
        """prompt_data = request.context.get("prompt_data", {})
email = str(prompt_data.get("email", "")).lower().strip()
allowed = ["ada@example.org", "bob@example.org"]
if email in allowed:
    return True
ak_message(f"{email} may not sign up here")
return False
""",
        (
            Scenario("listed, other case", data={"prompt_data": {"email": " Ada@Example.org"}}),
            Scenario(
                "not listed",
                data={"prompt_data": {"email": "eve@example.org"}},
                passing=False,
                messages=("eve@example.org may not sign up here",),
            ),
        ),
    ),
)

CASES = [(snippet, scenario) for snippet in CORPUS for scenario in snippet.scenarios]


@pytest.mark.parametrize(
    ("snippet", "scenario"),
    CASES,
    ids=[f"{snippet.origin} / {scenario.name}" for snippet, scenario in CASES],
)
def test_real_expressions_decide_in_gatehouse_as_in_authentik(snippet, scenario):
    result = verdict(snippet.python, scenario.user, scenario.data, scenario.ip)
    assert result == (scenario.passing, scenario.messages)


def test_the_default_sign_in_expressions_read_as_gatehouse_facts():
    password_stage, mfa_stage = CORPUS[0].python, CORPUS[1].python
    assert translate_policy(password_stage).expression == "not plan.is_user_proved"
    assert translate_policy(mfa_stage).expression == 'not (plan.auth_method == "passkey")'


# -- what is refused, and where ---------------------------------------------------------------

REFUSED = (
    (
        "authentik blueprints/default/flow-default-source-enrollment.yaml",
        "return ak_is_sso_flow",
        "line 1: ak_is_sso_flow: Gatehouse has no federation sources",
    ),
    (
        "authentik blueprints/default/flow-oobe.yaml",
        'akadmin = ak_user_by(username="akadmin")\nreturn not akadmin.has_usable_password()',
        "line 1: ak_user_by: a policy does not look other users up",
    ),
    (
        "authentik blueprints/default/flow-oobe.yaml (sets the flow's authentication)",
        "from authentik.flows.models import Flow, FlowAuthenticationRequirement\n"
        'Flow.objects.filter(slug="initial-setup").update(\n'
        "    authentication=FlowAuthenticationRequirement.REQUIRE_SUPERUSER,\n)\nreturn True",
        "line 1: imports are not translated",
    ),
    (
        "authentik blueprints/default/flow-default-user-settings-flow.yaml",
        "from authentik.core.models import (\n    USER_ATTRIBUTE_CHANGE_EMAIL,\n)\n"
        'prompt_data = request.context.get("prompt_data")\n'
        "if not request.user.group_attributes(request.http_request).get(\n"
        "    USER_ATTRIBUTE_CHANGE_EMAIL, request.http_request.tenant.default_user_change_email\n"
        "):\n"
        '    if prompt_data.get("email") != request.user.email:\n'
        '        ak_message("Not allowed to change email address.")\n'
        "        return False\nreturn True",
        "line 5: the user's group_attributes() has no Gatehouse equivalent",
    ),
    (
        "authentik blueprints/scribe/scribe-enrollment-policies.yaml",
        'email = request.context["prompt_data"]["email"]\n'
        'request.context["prompt_data"]["email"] = email.lower()\nreturn True',
        "line 2: it writes to an object; Gatehouse's policies only read",
    ),
    (
        "authentik docs providers/oauth2/machine_to_machine",
        'return request.context["oauth_jwt"]["iss"] == "https://my.issuer"',
        "line 1: the flow context's 'oauth_jwt' has no Gatehouse equivalent",
    ),
    (
        "authentik docs users-sources/user/invitations",
        "return context.get('invitation_in_effect', False)",
        "line 1: the flow context's 'invitation_in_effect' has no Gatehouse equivalent",
    ),
    (
        "authentik docs flows-stages/stages/authenticator_sms",
        'phone_number = regex_replace(request.context["prompt_data"]["phone"], r"\\s+", "")\n'
        'if phone_number.startswith("+1234"):\n    return True\nreturn False',
        "line 1: regex_replace: Gatehouse's expressions have no regex_replace",
    ),
    (
        "email allow-list with any() (code search)",
        'email = request.context["prompt_data"]["email"]\naccepted = ["a@b.c"]\n'
        "return any(user in email for user in accepted)",
        "line 3: calls to any() are not translated",
    ),
)


@pytest.mark.parametrize(("origin", "python", "problem"), REFUSED, ids=[r[0] for r in REFUSED])
def test_real_expressions_outside_the_subset_are_named_with_their_line(origin, python, problem):
    with pytest.raises(NotTranslated) as refused:
        translate_policy(python)
    assert any(line.startswith(problem) for line in refused.value.problems), refused.value.problems


@pytest.mark.parametrize(
    ("python", "problem"),
    [
        ("import os\nreturn True", "line 1: imports are not translated (only re and ipaddress)"),
        ("from django.db import models\nreturn True", "line 1: imports are not translated"),
        ("x = 1\nreturn launch(x)", "line 2: calls to launch() are not translated (launch(x))"),
        ("for group in request.user.ak_groups.all():\n    pass\nreturn True", "line 1: loops"),
        ("while True:\n    pass", "line 1: loops are not translated"),
        ("check = lambda user: True\nreturn check(request.user)", "line 1: lambda functions"),
        ("def check():\n    return True\nreturn check()", "line 1: definitions are not"),
        ("return request.user.__class__", "line 1: private attributes such as .__class__"),
        ("return ''.__class__.__mro__", "line 1: private attributes such as .__mro__"),
        ("return exec('import os')", "line 1: exec() runs or reads arbitrary code"),
        ("\n\nreturn eval('1 + 1')", "line 3: eval() runs or reads arbitrary code"),
        ("return getattr(request.user, 'password')", "line 1: getattr reaches into objects"),
        ("return __import__('os')", "line 1: __import__() runs or reads arbitrary code"),
        ("return request.http_request.path == '/'", "line 1: .http_request is not translated"),
        ("return request.user.password == 'x'", "line 1: the user's password has no Gatehouse"),
        ("try:\n    return True\nexcept:\n    return False", "line 1: try/except is not"),
        ("return '%s' % request.user.username", "line 1: % formatting is not translated"),
        ("return True if", "line 1: not valid Python"),
    ],
)
def test_constructs_outside_the_subset_are_named_with_their_line(python, problem):
    with pytest.raises(NotTranslated) as refused:
        translate_policy(python)
    assert any(line.startswith(problem) for line in refused.value.problems), refused.value.problems


def test_every_problem_of_an_expression_is_named_at_once():
    python = "import os\nfor x in []:\n    pass\nreturn eval('x') or nope()"
    with pytest.raises(NotTranslated) as refused:
        translate_policy(python)
    lines = [problem.split(":")[0] for problem in refused.value.problems]
    assert lines == ["line 1", "line 2", "line 4", "line 4"]


def test_dead_code_is_refused_too():
    with pytest.raises(NotTranslated):
        translate_policy("return True\nimport os")


# -- prompt values --------------------------------------------------------------------------------


def value_of(python: str, user=ANONYMOUS, data=None):
    translated = translate_value(python)
    return run_for_request(translated.expression, request_for(user, data))


@pytest.mark.parametrize(
    ("python", "user", "expected"),
    [
        # authentik blueprints/default/flow-default-user-settings-flow.yaml, each prompt
        ("try:\n    return user.username\nexcept:\n    return ''", ADA, "ada"),
        ("try:\n    return user.name\nexcept:\n    return ''", BOB, "Bob"),
        ("try:\n    return user.email\nexcept:\n    return ''", ADA, "ada@example.org"),
        (
            'try:\n    return user.attributes.get("settings", {}).get("locale", "")\n'
            "except:\n    return ''",
            person(9, "cy", settings={"locale": "cy"}),
            "cy",
        ),
        (
            'try:\n    return user.attributes.get("settings", {}).get("locale", "")\n'
            "except:\n    return ''",
            ADA,
            "",
        ),
        ("return request.user.email", MARIE, "marie@example.org"),
        ("return f'{user.name} <{user.email}>'", BOB, "Bob <bob@example.org>"),
    ],
)
def test_prompt_values_written_as_python_give_the_same_value(python, user, expected):
    assert value_of(python, user) == expected


def test_prompt_values_from_the_prompt_context():
    data = {"prompt_data": {"email": "ada@example.org"}}
    assert value_of("return prompt_context.get('email', '')", ADA, data) == "ada@example.org"
    assert value_of("return prompt_context.get('email', '')", ADA, {}) == ""


def test_literal_prompt_values_are_known_without_running_them():
    assert translate_value('return ["Free", "Team"]').constant == ["Free", "Team"]
    assert translate_value("return 'hello'").constant == "hello"
    assert translate_value("return user.username").constant is NO_CONSTANT


def test_a_prompt_value_cannot_carry_a_message_or_an_object():
    with pytest.raises(NotTranslated):
        translate_value('ak_message("x")\nreturn 1')
    with pytest.raises(NotTranslated):
        translate_value("return request.user")


# -- what the sandbox gained for the translations -----------------------------------------------


def run(expression: str, user=ADA, data=None):
    options = parse_options(ExpressionOptions, {"expression": expression})
    return POLICY.evaluate(request_for(user, data), options)


def test_plan_facts_come_from_the_flow_context():
    assert plan_view({}) == plan_view({"uid": "ada"})
    assert plan_view(PROVED).is_user_proved and plan_view(PROVED).auth_method == "password"
    assert plan_view(RESTORED).is_restored
    assert plan_view({"sign_in_proved_for": "ada"}).is_restored
    assert not plan_view(NAMED).is_user_proved and plan_view(NAMED).auth_method == ""
    assert run("plan.is_restored", data=RESTORED).passing
    assert not run("plan.is_user_proved or plan.auth_method", data=NAMED).passing


def test_deny_fails_with_its_own_messages():
    result = run("deny('No, ' ~ user.username, 'and no again')")
    assert (result.passing, result.messages) == (False, ("No, ada", "and no again"))
    with_message = parse_options(
        ExpressionOptions, {"expression": "user.is_superuser and false", "message": "static"}
    )
    assert POLICY.evaluate(request_for(ADA), with_message).messages == ("static",)
    with pytest.raises(PolicyError):
        run("deny('x' * 600)")


@pytest.mark.parametrize(
    ("expression", "passing"),
    [
        ("regex_match_start(user.email, 'ada@')", True),
        ("regex_match_start(user.email, 'example')", False),
        ("regex_match(user.email, 'example')", True),
        ("regex_fullmatch(user.username, 'ad')", False),
        ("regex_fullmatch(user.username, 'ADA', ignore_case=true)", True),
        ("regex_match(user.username, 'ADA')", False),
    ],
)
def test_regex_helpers_match_as_python_does(expression, passing):
    assert run(expression).passing is passing


@pytest.mark.parametrize(
    "expression",
    [
        "regex_match_start(none, 'x')",  # Python's re.match refuses None too
        "regex_fullmatch(user.username, 'a' * 1001)",
        # Runaway backtracking times out. (The regex module answers (a+)+$ in quadratic time,
        # about the timeout for 5,000 characters; (a|aa)+$ stays exponential.)
        "regex_match_start('a' * 40 + '!', '(a|aa)+$')",
        "regex_fullmatch(user.username, '(')",
    ],
)
def test_regex_helpers_refuse_what_they_cannot_answer_safely(expression):
    with pytest.raises(PolicyError):
        run(expression)


def test_a_runaway_pattern_is_stopped_by_its_timeout():
    with pytest.raises(PolicyError, match="a regular expression took too long"):
        run("regex_match('a' * 40 + '!', '(a|aa)+$')")


def test_the_translation_tables_match_the_sandbox():
    assert set(TEXT_METHODS) <= sandbox.SAFE_METHODS[str]
    assert MAX_EXPRESSION_LENGTH == sandbox.MAX_EXPRESSION_LENGTH


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_text_survives_the_way_into_an_expression(text):
    assert run_for_request(jinja_string(text), request_for()) == text


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="rtun().[]'\"=!<>+-*/ \nabcdefgimpsx0123:_", max_size=60))
def test_any_text_is_translated_to_a_valid_expression_or_refused_by_name(text):
    try:
        translated = translate_policy(text)
    except NotTranslated as refused:
        assert refused.problems
        return
    parse_options(ExpressionOptions, {"expression": translated.expression})
