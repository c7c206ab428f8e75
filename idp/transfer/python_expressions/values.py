"""The pieces of a translation: what Python names mean in Gatehouse, the translated values, and
how they are written in Gatehouse's expression syntax (Jinja's)."""

import ast
from dataclasses import dataclass

# Gatehouse's limit on an expression's length (idp.policies.expression.MAX_EXPRESSION_LENGTH;
# a test keeps the two equal, this module imports nothing of Gatehouse's).
MAX_EXPRESSION_LENGTH = 2000
MAX_SOURCE_LENGTH = 20_000
POLICY, VALUE = "policy", "value"

# What a translated value is, as far as the translation needs to know.
USER, PLAN, CONTEXT, REQUEST = "user", "plan", "context", "request"
MAPPING, GROUPS, GROUP_FILTER = "mapping", "groups", "group filter"
AUTH_METHOD, CLIENT_IP, MODULE_RE, MODULE_IP, REGEX_FUNCTION, REGEX_FLAG = (
    "auth method",
    "client ip",
    "module re",
    "module ipaddress",
    "re function",
    "re flag",
)
BOOL, TEXT, NUMBER, LIST, NONE, ANY = "bool", "text", "number", "list", "none", "any"
MATCH = "match"  # what re.match() gives: a match or None, translated as true or false
# Objects that stand for something Gatehouse has but that have no value of their own.
OBJECTS = {USER, PLAN, CONTEXT, REQUEST, GROUPS, GROUP_FILTER, CLIENT_IP, MODULE_RE, MODULE_IP}
OBJECTS |= {REGEX_FUNCTION, REGEX_FLAG, "ip_network", "ip_address"}

NO_CONSTANT = object()

USER_FIELDS = {
    "username": ("user.username", TEXT),
    "email": ("user.email", TEXT),
    "name": ("user.name", TEXT),
    "is_active": ("user.is_active", BOOL),
    "is_superuser": ("user.is_superuser", BOOL),
    "is_authenticated": ("user.is_authenticated", BOOL),
    "is_anonymous": ("(not user.is_authenticated)", BOOL),
    "pk": ("user.id", NUMBER),
    "id": ("user.id", NUMBER),
    "attributes": ("user.attributes", MAPPING),
}
# str methods the sandbox allows (idp.policies.expression.SAFE_METHODS[str]), with what they give.
TEXT_METHODS = {
    "lower": TEXT,
    "upper": TEXT,
    "strip": TEXT,
    "lstrip": TEXT,
    "rstrip": TEXT,
    "title": TEXT,
    "capitalize": TEXT,
    "casefold": TEXT,
    "startswith": BOOL,
    "endswith": BOOL,
    "isdigit": BOOL,
    "isalpha": BOOL,
    "isalnum": BOOL,
    "split": LIST,
    "count": NUMBER,
    "find": NUMBER,
}
MAPPING_METHODS = {"get": ANY, "keys": LIST, "values": LIST, "items": LIST}
REGEX_FUNCTIONS = {
    "search": "regex_match",
    "match": "regex_match_start",
    "fullmatch": "regex_fullmatch",
}
# authentik's device types, as the kinds Gatehouse's has_authenticator() takes.
DEVICE_TYPES = {"totp": "totp", "static": "recovery_codes", "webauthn": "webauthn"}
# authentik's auth_method values, as the values Gatehouse's plan.auth_method takes for the same
# sign-in. A second factor is named there once checked, so a password sign-in reads `totp`,
# `webauthn` or `recovery_code` after one; the others (app passwords, tokens, sources, LDAP,
# MFA as a first factor) are ways Gatehouse never signs anyone in.
AUTH_METHODS = {
    "password": ("password", "totp", "webauthn", "recovery_code"),
    "auth_webauthn_pwl": ("passkey",),
}
ALLOWED_IMPORTS = {"re": MODULE_RE, "ipaddress": MODULE_IP}
RUNS_CODE = {"exec", "eval", "compile", "__import__", "open", "breakpoint", "input"}
REACHES_OBJECTS = {"getattr", "setattr", "delattr", "globals", "locals", "vars", "type", "dir"}
# Helpers authentik has and Gatehouse has no equivalent for, with why.
NO_EQUIVALENT = {
    "ak_is_sso_flow": "Gatehouse has no federation sources, so no flow runs from one",
    "ak_call_policy": "Gatehouse policies do not call each other",
    "ak_user_by": "a policy does not look other users up in Gatehouse",
    "ak_create_event": "a policy does not write events in Gatehouse",
    "requests": "a policy makes no HTTP requests in Gatehouse",
    "resolve_dns": "a policy makes no DNS lookups in Gatehouse",
    "regex_replace": "Gatehouse's expressions have no regex_replace",
    "list_flatten": "Gatehouse's expressions have no list_flatten",
}
IGNORED_CALLS = {"print"}  # output for authentik's logs only
IGNORED_OBJECTS = {"ak_logger"}
STRUCTURES = (
    ((ast.For, ast.AsyncFor, ast.While), "loops are not translated"),
    ((ast.Lambda,), "lambda functions are not translated"),
    ((ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef), "definitions are not translated"),
    ((ast.With, ast.AsyncWith), "with blocks are not translated"),
    ((ast.Global, ast.Nonlocal), "global names are not translated"),
    ((ast.Delete,), "del is not translated"),
    ((ast.Raise,), "raise is not translated"),
    ((ast.Assert,), "assert is not translated"),
    ((ast.Yield, ast.YieldFrom, ast.Await), "generators and await are not translated"),
    ((ast.NamedExpr,), "assignment expressions (:=) are not translated"),
    ((ast.Starred,), "* unpacking is not translated"),
    ((ast.Match,), "match statements are not translated"),
)


@dataclass(frozen=True)
class Value:
    code: str
    kind: str = ANY
    constant: object = NO_CONSTANT
    detail: object = None  # what an object kind carries (a group filter's name, a re function)

    @property
    def is_constant(self) -> bool:
        return self.constant is not NO_CONSTANT


# -- Gatehouse's expression syntax -------------------------------------------------------------


def jinja_string(text: str) -> str:
    """A Jinja string literal that reads back as `text` (Jinja decodes its escapes)."""
    escapes = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    characters = []
    for character in text:
        if character in escapes:
            characters.append(escapes[character])
        elif ord(character) < 32 or ord(character) == 127:
            characters.append(f"\\x{ord(character):02x}")
        else:
            characters.append(character)
    return '"' + "".join(characters) + '"'


def literal(value) -> Value:
    if value is None:
        return Value("none", NONE, None)
    if isinstance(value, bool):
        return Value("true" if value else "false", BOOL, value)
    if isinstance(value, int):
        return Value(str(value), NUMBER, value)
    if isinstance(value, float):
        return Value(repr(value), NUMBER, value)
    if isinstance(value, str):
        return Value(jinja_string(value), TEXT, value)
    raise TypeError(value)


TRUE, FALSE, NOTHING = literal(True), literal(False), literal(None)


def truth(value: Value) -> Value:
    """The value where only its truth counts (`if`, `not`, a verdict)."""
    if isinstance(value.detail, tuple) and value.detail[0] == "bool":
        return truth(value.detail[1])  # bool(x) where only its truth counts is x
    if value.kind == PLAN:
        return TRUE  # there is always a plan while a flow runs
    if value.kind == USER:
        return Value("user.is_authenticated", BOOL)
    if value.kind == GROUP_FILTER:  # a queryset is true when it finds a group
        return Value(f"({value.detail.code} in user.groups)", BOOL)
    if value.is_constant:
        return literal(bool(value.constant))
    return value


def negation(value: Value) -> Value:
    value = truth(value)
    if value.is_constant:
        return literal(not value.constant)
    if isinstance(value.detail, tuple) and value.detail[0] == "not":
        return value.detail[1]
    return Value(f"(not {value.code})", BOOL, detail=("not", value))


def conditional(condition: Value, when_true: Value, when_false: Value, verdict=False) -> Value:
    condition = truth(condition)
    if condition.is_constant:
        return when_true if condition.constant else when_false
    if when_true.code == when_false.code:
        return when_true
    if verdict and when_true.constant is True and when_false.constant is False:
        return condition
    if verdict and when_true.constant is False and when_false.constant is True:
        return negation(condition)
    kind = when_true.kind if when_true.kind == when_false.kind else ANY
    return Value(f"({when_true.code} if {condition.code} else {when_false.code})", kind)


def deny(messages: list[Value]) -> Value:
    return Value(f"deny({', '.join(message.code for message in messages)})", BOOL)


def without_outer_parentheses(code: str) -> str:
    if not (code.startswith("(") and code.endswith(")")):
        return code
    depth, quote, escaped = 0, "", False
    for index, character in enumerate(code):
        if quote:
            if escaped:
                escaped = False
            elif character == "\\":
                escaped = True
            elif character == quote:
                quote = ""
            continue
        if character in "\"'":
            quote = character
        elif character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
            if depth == 0 and index < len(code) - 1:
                return code
    return code[1:-1]


COMPARISONS = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//"}
ARITHMETIC[ast.Mod] = "%"


FOLDED = {ast.Eq, ast.NotEq, ast.In, ast.NotIn}


def compare_constants(operator, left, right) -> bool:
    match operator:
        case ast.Eq():
            return left == right
        case ast.NotEq():
            return left != right
        case ast.In():
            return isinstance(right, list | str) and left in right
        case _:
            return not (isinstance(right, list | str) and left in right)


def structure_message(node) -> str | None:
    for types, message in STRUCTURES:
        if isinstance(node, types):
            return message
    return None


def called_name(call: ast.Call) -> str | None:
    return call.func.id if isinstance(call.func, ast.Name) else None


def function_name(call: ast.Call) -> str | None:
    """The name of the function called, also as `ipaddress.name`."""
    if isinstance(call.func, ast.Attribute) and is_name(call.func.value, "ipaddress"):
        return call.func.attr
    return called_name(call)


def called_object(call: ast.Call) -> str | None:
    function = call.func
    if isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name):
        return function.value.id
    return None


def is_name(node, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def is_empty_constant(node) -> bool:
    return node is None or (isinstance(node, ast.Constant) and node.value in ("", None))
