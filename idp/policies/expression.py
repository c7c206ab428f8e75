"""Admin-written expressions, e.g. `'admins' in user.groups and request.ip != '10.0.0.9'`.

Why Jinja2's sandbox rather than CEL: it ships with Flask (no new runtime), compiles a single
expression (no statements, no loops beyond filters), and its sandbox already refuses private
and internal attributes. We tighten it further: attributes come from an allowlist, only a few
filters exist, `*` and `**` are bounded, every call checks a deadline, and unknown names raise.
Whatever raises becomes a PolicyError, and the engine fails closed on that.

An expression is compiled (and so validated) once per worker: compile_expression keeps the
code of the last expressions it compiled, keyed on their text, so an edited policy is simply
a new key; a binding of a cached flow holds its code itself (ExpressionPolicy.prepare). What is
kept is code, never a result: every evaluation runs it on that request's own variables. One
sandbox serves every expression; its deadline is the thread's policy deadline
(idp.policies.types.answering_by).

The expressions of one request run in one scope (a Jinja context made once, holding the
request's read-only views and the helpers): making a context for each was four fifths of an
expression's cost. Each assigns its `result` there and it is taken out at once, so no
expression can read another's.
"""

import functools
import ipaddress
import operator
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime
from types import MappingProxyType

from jinja2 import (
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
    Undefined,
    nodes,
    pass_eval_context,
)
from jinja2.filters import do_join
from jinja2.parser import Parser
from jinja2.runtime import Context, new_context
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from idp.core.i18n import N_
from idp.core.options import OptionsError, option
from idp.policies.base import PolicyType
from idp.policies.expression_facts import Denial, authenticator_check, deny, plan_view
from idp.policies.types import DEADLINE, FAILS, PASSES, PolicyError, PolicyResult
from idp.transfer.authentik_models import AuthentikModel

MAX_EXPRESSION_LENGTH = 2000
MAX_SEQUENCE = 10_000  # the most items (characters, elements) any value may hold, nested
MAX_EXPONENT = 64
MAX_INTEGER_BITS = 4096
REGEX_TIMEOUT = 0.1
MAX_PATTERN_LENGTH = 1000
MAX_ERROR_LENGTH = 300  # characters of an error's text kept for the log and the event

SAFE_METHODS = {
    str: {
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "startswith",
        "endswith",
        "split",
        "count",
        "find",
        "isdigit",
        "isalpha",
        "isalnum",
        "title",
        "capitalize",
        "casefold",
    },
    dict: {"get", "keys", "values", "items"},
    MappingProxyType: {"get", "keys", "values", "items"},
    list: {"index", "count"},
    tuple: {"index", "count"},
    datetime: {"year", "month", "day", "hour", "minute", "second", "weekday", "isoweekday"},
}
SAFE_FILTERS = (
    "abs",
    "default",
    "first",
    "last",
    "length",
    "lower",
    "upper",
    "trim",
    "int",
    "float",
    "string",
    "list",
    "join",
    "min",
    "max",
    "sort",
    "unique",
    "select",
    "reject",
    "selectattr",
    "rejectattr",
    "map",
    "capitalize",
    "title",
    "count",
    "bool",
)


SAFE_TESTS = ("defined", "none", "number", "string", "in", "eq", "ne", "lt", "gt", "le", "ge")


class ExpressionSandbox(SandboxedEnvironment):
    """Jinja's sandbox with an attribute allowlist, bounded operators and a deadline."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    MAX_RANGE = MAX_SEQUENCE

    def __init__(self):
        # Jinja's optimizer folds constants by trying every subtree at every level of the
        # code it writes: cubic in the depth, so `user.a.b.a.b…` of 2000 characters took
        # seconds of compiling, outside any deadline. An expression has few constants to fold.
        super().__init__(undefined=StrictUndefined, autoescape=False, optimized=False)
        kept = {
            name: _bounded_filter(
                _SIZED_FILTERS.get(name, self.filters[name]), self, name == "default"
            )
            for name in SAFE_FILTERS
            if name in self.filters
        }
        self.filters.clear()
        self.filters.update(kept)
        self.tests = {name: self.tests[name] for name in SAFE_TESTS}
        self.globals.clear()

    def is_safe_attribute(self, obj, attr, value) -> bool:
        if attr.startswith("_"):
            return False
        if is_dataclass(obj) and not isinstance(obj, type):
            return attr in _field_names(type(obj))
        return attr in SAFE_METHODS.get(type(obj), set())

    def unsafe_undefined(self, obj, attribute):
        # Jinja answers an unsafe attribute with an undefined that raises only when used:
        # collected unused (`user.groups | map(attribute='__class__') | list`), it made a
        # non-empty list, and so a passing policy. An escape attempt is refused at once.
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe."
        )

    def call(self, context, obj, *args, **kwargs):
        self.check_deadline()
        # What a method gives is counted like a filter's result: unchecked, each
        # (… ~ '').split("'") doubled a list, gigabytes in a few hundred characters.
        return _limit(super().call(context, obj, *args, **kwargs), self)

    def wrap_str_format(self, value):
        # Jinja hands out str.format and format_map before asking is_safe_attribute, and
        # '{:>2000000000}'.format(1) builds 2 GB before any size is checked: neither is
        # offered (SAFE_METHODS decides, and names neither).
        return None

    def getattr(self, obj, attribute):
        # No deadline check: reading an attribute takes constant time, and what can take long
        # (calls, filters, iteration, * and **) checks it.
        if attribute in _instance_fields(type(obj)):
            # A field of a dataclass instance (user.groups, request.ip): is_safe_attribute
            # would allow it, so skip the generic path (half the cost of an expression).
            try:
                return getattr(obj, attribute)
            except AttributeError:
                pass
        return super().getattr(obj, attribute)

    def call_binop(self, context, operator_name, left, right):
        self.check_deadline()
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponents above {MAX_EXPONENT} are not allowed")
            if isinstance(left, int) and isinstance(right, int):
                _check_bits(abs(left).bit_length() * max(right, 0))
            return operator.pow(left, right)
        if operator_name == "%":
            if isinstance(left, str):
                raise SecurityError("string formatting with % is not allowed")
            return operator.mod(left, right)
        if isinstance(left, int) and isinstance(right, int) and operator_name == "*":
            _check_bits(abs(left).bit_length() + abs(right).bit_length())
        if _result_size(operator_name, left, right) > MAX_SEQUENCE:
            raise SecurityError(f"results longer than {MAX_SEQUENCE} items are not allowed")
        return operator.add(left, right) if operator_name == "+" else operator.mul(left, right)

    def check_deadline(self) -> None:
        deadline = DEADLINE.value
        if deadline is not None and time.monotonic() > deadline:
            raise PolicyError(N_("the expression ran past its timeout"))


@functools.cache
def _field_names(dataclass_type: type) -> frozenset[str]:
    return frozenset(field.name for field in fields(dataclass_type))


@functools.cache
def _instance_fields(kind: type) -> frozenset[str]:
    """The fields of `kind` when its instances are dataclass instances, else none."""
    if not is_dataclass(kind):
        return frozenset()
    return frozenset(name for name in _field_names(kind) if not name.startswith("_"))


def _check_bits(bits: int) -> None:
    if bits > MAX_INTEGER_BITS:
        raise SecurityError(f"numbers above {MAX_INTEGER_BITS} bits are not allowed")


def _size(value, budget: int = MAX_SEQUENCE) -> int:
    """How many items a value holds, nested; stops counting past the budget. Raises for an
    undefined or a lazy sequence held inside: `[user.attributes.missing]` is a list of one,
    and so true."""
    total, pending = 0, [value]
    while pending and total <= budget:
        item = pending.pop()
        if isinstance(item, Undefined) and item is not value:
            str(item)  # a StrictUndefined raises here, naming what is missing
        elif isinstance(item, Iterator) and item is not value:
            raise SecurityError(LAZY_UNWEIGHED)  # [user.groups | select(…)] is a list of one
        elif isinstance(item, str):
            total += len(item)
        elif isinstance(item, list | tuple | set | frozenset):
            total += len(item)
            pending.extend(item)
        elif isinstance(item, dict | MappingProxyType):
            total += len(item)
            pending.extend(item.values())
    return total


def _result_size(operator_name, left, right) -> int:
    sequences = (str, list, tuple)
    if operator_name == "+":
        if isinstance(left, sequences) and isinstance(right, sequences):
            return _size(left) + _size(right)
        return 0
    if isinstance(left, sequences) and isinstance(right, int):
        return _size(left) * right
    if isinstance(right, sequences) and isinstance(left, int):
        return _size(right) * left
    return 0


_SCALARS = frozenset({bool, int, float, type(None)})


def _limit(value, environment):
    """Refuse values over the size limit; lazy results are counted as they are consumed."""
    if type(value) in _SCALARS:  # most results (a policy's True or False): nothing to count
        return value
    if isinstance(value, Iterator):
        return _CountedIterator(value, environment)
    if _size(value) > MAX_SEQUENCE:
        raise SecurityError(f"values longer than {MAX_SEQUENCE} items are not allowed")
    return value


LAZY_UNWEIGHED = "a lazy sequence (select, map, …) must go through | list first"


class _CountedIterator:
    def __init__(self, iterator, environment):
        self.iterator = iterator
        self.environment = environment
        self.count = 0
        self.ahead = []  # the item __bool__ read to answer, not yet given

    def __iter__(self):
        return self

    def __bool__(self):
        # A generator is true even when empty: `user.groups | select('eq', 'admins') and …`
        # let everyone through. Whether an item is left is the truth a sequence has.
        if not self.ahead:
            try:
                self.ahead.append(self._read())
            except StopIteration:
                return False
        return True

    def __eq__(self, other):
        # Always false for a generator, so `!=` always true: compared, it is refused.
        raise SecurityError(LAZY_UNWEIGHED)

    __hash__ = object.__hash__

    def __next__(self):
        return self.ahead.pop() if self.ahead else self._read()

    def _read(self):
        self.count += 1
        if self.count > MAX_SEQUENCE:
            raise SecurityError(f"sequences longer than {MAX_SEQUENCE} items are not allowed")
        self.environment.check_deadline()
        return _limit(next(self.iterator), self.environment)


@pass_eval_context
def _sized_join(eval_context, value, d="", attribute=None):
    """Jinja's join, refused before it joins when the separators alone would be too long:
    10,000 items with a 10,000-character separator is 100 million characters."""
    items = list(value)
    if len(items) * len(str(d)) > MAX_SEQUENCE:
        raise SecurityError(f"values longer than {MAX_SEQUENCE} items are not allowed")
    return do_join(eval_context, items, d, attribute)


_SIZED_FILTERS = {"join": _sized_join}


def _bounded_filter(function, environment, takes_undefined=False):
    """A filter that checks the deadline and the size of what it takes and gives."""

    @functools.wraps(function)
    def bounded(*args, **kwargs):
        environment.check_deadline()
        for argument in args:
            if isinstance(argument, Undefined):
                # Missing data raises at once (a lazy filter would put it off), except in
                # default(), which is for it.
                if not takes_undefined:
                    str(argument)
            elif not hasattr(argument, "environment"):  # skip Jinja's context/eval-context
                _limit(argument, environment)
        return _limit(function(*args, **kwargs), environment)

    return bounded


def regex_match(value, pattern, ignore_case=False) -> bool:
    """True when the pattern is found anywhere in the value (as text); runaway patterns time
    out."""
    return _regex("search", str(value), pattern, ignore_case)


def regex_match_start(value, pattern, ignore_case=False) -> bool:
    """True when the text starts with a match of the pattern (Python's re.match)."""
    return _regex("match", value, pattern, ignore_case)


def regex_fullmatch(value, pattern, ignore_case=False) -> bool:
    """True when the whole text matches the pattern (Python's re.fullmatch)."""
    return _regex("fullmatch", value, pattern, ignore_case)


def _regex(function_name, value, pattern, ignore_case) -> bool:
    import regex  # its tables load with the first expression that matches text

    if not isinstance(value, str) or not isinstance(pattern, str):
        raise PolicyError(N_("regular expressions match text with a text pattern"))
    if len(pattern) > MAX_PATTERN_LENGTH or len(value) > MAX_SEQUENCE:
        raise PolicyError(
            N_("patterns are at most %(pattern)s characters, texts %(text)s"),
            pattern=MAX_PATTERN_LENGTH,
            text=MAX_SEQUENCE,
        )
    flags = regex.IGNORECASE if ignore_case else 0
    try:
        function = getattr(regex, function_name)
        return function(pattern, value, flags=flags, timeout=REGEX_TIMEOUT) is not None
    except TimeoutError:
        raise PolicyError(N_("a regular expression took too long")) from None
    except regex.error as error:
        raise PolicyError(N_("bad regular expression: %(error)s"), error=error) from None


def ip_in_network(ip, network) -> bool:
    try:
        return ipaddress.ip_address(str(ip)) in ipaddress.ip_network(str(network), strict=False)
    except ValueError:
        return False


def now() -> datetime:
    return datetime.now(UTC)


HELPERS = {
    "regex_match": regex_match,
    "regex_match_start": regex_match_start,
    "regex_fullmatch": regex_fullmatch,
    "ip_in_network": ip_in_network,
    "now": now,
    "deny": deny,
}


@dataclass(frozen=True)
class RequestView:
    ip: str
    user_agent: str
    path: str
    args: MappingProxyType


@dataclass(frozen=True)
class FlowView:
    slug: str
    designation: str


COMPILED_EXPRESSIONS_KEPT = 1024


# The one sandbox, made at import (0.05 ms): compiled code keeps the environment it was
# compiled in, and the deadline is set on this one, so there must never be two.
SANDBOX = ExpressionSandbox()


@functools.lru_cache(maxsize=COMPILED_EXPRESSIONS_KEPT)
def compile_expression(source: str):
    """The compiled expression: a function of an expression scope that sets its `result`
    there. Raises OptionsError for a bad one (errors are not kept: a bad expression is
    compiled again, and refused again, each time)."""
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise OptionsError(
            "expression",
            N_("is longer than %(max_expression_length)s characters"),
            max_expression_length=MAX_EXPRESSION_LENGTH,
        )
    if not source.strip():
        raise OptionsError("expression", N_("must not be empty"))
    try:
        return _compiled(SANDBOX, source)
    except TemplateError as error:
        raise OptionsError(
            "expression", N_("is not a valid expression: %(error)s"), error=error
        ) from None
    except (RecursionError, MemoryError, SyntaxError):
        raise OptionsError("expression", N_("is too deeply nested")) from None


def _compiled(environment: ExpressionSandbox, source: str):
    """As Environment.compile_expression, which builds the same one-assignment template, but
    keeping its render function: TemplateExpression would make a new context for each call."""
    parser = Parser(environment, source, state="variable")
    expression = parser.parse_expression()
    if not parser.stream.eos:
        raise TemplateSyntaxError("chunk after expression", parser.stream.current.lineno)
    _refuse_unencodable_text(expression)
    _refuse_foreign_names(expression)
    expression.set_environment(environment)
    body = [nodes.Assign(nodes.Name(RESULT, "store"), expression, lineno=1)]
    return environment.from_string(nodes.Template(body, lineno=1)).root_render_func


def _refuse_unencodable_text(expression: nodes.Expr) -> None:
    # '\udcff' unescapes to half a UTF-16 pair, which no page, header or log line can
    # encode: deny('\udcff') made every visit of its flow a 500.
    for constant in _all_of(expression, nodes.Const):
        if isinstance(constant.value, str) and not constant.value.isascii():
            try:
                constant.value.encode()
            except UnicodeEncodeError:
                raise TemplateSyntaxError("text with half a surrogate pair", 1) from None


def _refuse_foreign_names(expression: nodes.Expr) -> None:
    # The compiled code holds a name in a Python variable, and Python reads identifiers
    # NFKC-normalised: `user` written with a fullwidth u is the same variable as `user`, so
    # one name silently stood for the other. Every name an expression may use is ASCII.
    for name in _all_of(expression, nodes.Name):
        if not name.name.isascii():
            raise TemplateSyntaxError(f"{name.name!r} is not a name expressions know", 1)


def _all_of(expression: nodes.Expr, kind: type) -> Iterator:
    """The nodes of this kind in the expression, itself included (find_all skips it)."""
    if isinstance(expression, kind):
        yield expression
    yield from expression.find_all(kind)


RESULT = "result"


def expression_scope(variables: dict) -> Context:
    """Where expressions run with these variables (read-only views: the expressions of one
    request share them) and the helpers."""
    return new_context(SANDBOX, None, {}, {**variables, **HELPERS}, shared=True)


EXPRESSION_HELP = (
    "One line in Jinja's expression syntax over user, request, context, flow and plan, e.g. "
    "'admins' in user.groups and has_authenticator(user). Helpers: regex_match, "
    "regex_match_start, regex_fullmatch, ip_in_network, has_authenticator, now, and "
    "deny('message') for a false result with its own message."
)


@dataclass(frozen=True)
class ExpressionOptions:
    expression: str = option("true", EXPRESSION_HELP, long_text=True)
    message: str = option(
        "",
        N_(
            "Shown when the expression is false (a denied flow shows it), unless deny() gave a "
            "message of its own."
        ),
    )

    def validate(self):
        compile_expression(self.expression)


SCOPE = "expression_scope"  # in PolicyRequest.memo


def _variables(request) -> dict:
    """What an expression sees; read-only views, so every expression of the request can be
    handed the same ones."""
    return {
        "user": request.user,
        "request": RequestView(
            request.ip, request.user_agent, request.path, MappingProxyType(dict(request.args))
        ),
        "context": MappingProxyType(dict(request.context)),
        "flow": FlowView(request.flow_slug, request.flow_designation),
        "plan": plan_view(request.context),
        "has_authenticator": authenticator_check(),
    }


def scope_for(request) -> Context:
    """The policy request's expression scope, made for its first expression."""
    scope = request.memo.get(SCOPE)
    if scope is None:
        scope = request.memo[SCOPE] = expression_scope(_variables(request))
    return scope


def run_for_request(source: str, request):
    """What the expression gives for this policy request; raises PolicyError when it cannot say
    (a bad expression, an error, an escape attempt, the request's deadline passed)."""
    return run_expression(source, scope_for(request))


def read_authentik_options(source, options: dict) -> None:
    """authentik's Python, translated into an expression and never run. An expression outside
    the subset leaves the policy out, and so the flows it gates (they fail closed)."""
    from idp.transfer.python_expressions import NotTranslated, translate_policy

    text = source.text("expression", required=True)
    if text is None:
        return
    try:
        translated = translate_policy(text)
    except NotTranslated as refused:
        source.skip("its Python cannot be translated: " + "; ".join(refused.problems))
        return
    options["expression"] = translated.expression
    options["message"] = ""
    for subject, why in translated.notes:
        source.note(subject, why)


AUTHENTIK = AuthentikModel(
    model="authentik_policies_expression.expressionpolicy",
    read_options=read_authentik_options,
    off_values={"execution_logging": (False,)},
)


class ExpressionPolicy(PolicyType):
    name = "expression"
    label = N_("Expression")
    description = N_("A sandboxed expression over user, request, context, flow and plan.")
    Options = ExpressionOptions
    authentik = AUTHENTIK

    def prepare(self, options: ExpressionOptions):
        """Compiled here, once for a cached binding, rather than looked up for each answer."""
        expression = compile_expression(options.expression)
        refusal = PolicyResult(False, (options.message,)) if options.message else FAILS

        def answer(request) -> PolicyResult:
            result = run_compiled(expression, scope_for(request))
            if isinstance(result, Denial) and result.messages:
                return PolicyResult(False, result.messages)
            return PASSES if result else refusal

        return answer

    def evaluate(self, request, options: ExpressionOptions) -> PolicyResult:
        try:
            answer = self.prepare(options)
        except OptionsError as error:  # options made without parse_options, never validated
            raise PolicyError(error.words) from None
        return answer(request)


def run_expression(source: str, scope: Context):
    """What an admin-written expression gives in `scope` (expression_scope), bounded by the
    thread's policy deadline (answering_by). Whatever goes wrong raises PolicyError: callers
    fail closed. A caller checks the time once it has the answer: an expression that only
    reads values never looks at the clock."""
    try:
        expression = compile_expression(source)
    except OptionsError as error:
        raise PolicyError(error.words) from None
    return run_compiled(expression, scope)


def run_compiled(expression, scope: Context):
    """run_expression, for an expression compile_expression has compiled."""
    try:
        next(expression(scope), None)  # runs the one assignment to its end
        result = scope.vars.pop(RESULT)
        if type(result) in _SCALARS:  # most results (True or False): nothing to check
            return result
        if isinstance(result, Undefined):
            str(result)  # a StrictUndefined raises here, naming what is missing
        if isinstance(result, Iterator):
            # A lazy filter's result (select, map) is a generator, true even when empty: read
            # it out, counted, so that it decides by what it holds.
            result = list(_limit(result, SANDBOX))
        return _limit(result, SANDBOX)
    except PolicyError:
        raise
    except SecurityError as error:
        raise PolicyError(N_("not allowed: %(reason)s"), reason=_cut(error)) from None
    except Exception as error:  # any failure of admin-written code fails closed
        raise PolicyError(f"{type(error).__name__}: {_cut(error)}") from None
    finally:
        scope.vars.pop(RESULT, None)


def _cut(error: Exception) -> str:
    """The error's text, cut short: it may quote a value the expression built, and the log
    and the event of every visit would carry it ({}['a' * 9999 ~ …] quoted 1.8 MB)."""
    text = str(error)
    return text if len(text) <= MAX_ERROR_LENGTH else text[:MAX_ERROR_LENGTH] + "…"
