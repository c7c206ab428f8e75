"""authentik's Python expressions as Gatehouse expressions: read with `ast`, never run.

authentik runs an expression policy's Python as the body of a function. Gatehouse does not run
Python: it translates a well-defined subset into its own sandboxed expression language
(idp/policies/expression.py) and refuses the rest, naming each construct with its line, so the
reader leaves the entry out and the flows it gates fail closed.

The subset: comparisons, `and`/`or`/`not`, `x if c else y`, literals, f-strings, local names
assigned once along a path, `return` under `if`/`elif`/`else` (a chain of them becomes one
conditional expression), and what Gatehouse has an equivalent for:

- `request.user` (also `user`, `request.context["pending_user"]`): username, email, name,
  is_active, is_superuser, is_authenticated, pk, attributes[...] and group membership
  (`ak_is_group_member(user, name=...)`, `user.ak_groups.filter(name=...).exists()`);
- `request.context` (also `context`, `flow_plan.context`): `prompt_data`, `pending_user`,
  `flow_plan` (there is always one while a flow runs), `auth_method`, `is_restored`;
- `ak_message(...)` (the denial's message), `ak_user_has_authenticator(user[, device_type])`,
  `regex_match`, `re.match`/`re.search`/`re.fullmatch` (with `re.IGNORECASE`),
  `ak_client_ip in ip_network(...)`, `len`, `str`, `bool`, and text methods such as `lower`,
  `startswith` and `split`; `import re` and `import ipaddress` are allowed and do nothing.

The same reader translates a prompt's `initial_value` or choices written as an expression
(`translate_value`): there the result is a value, not a verdict, and a `try` whose `except`
gives an empty value is read as its body, since a prompt's expression that fails leaves the
field empty in Gatehouse too.
"""

import ast
from dataclasses import dataclass, field

from idp.transfer.python_expressions.reading import ExpressionReading
from idp.transfer.python_expressions.values import (
    ALLOWED_IMPORTS,
    ANY,
    BOOL,
    FALSE,
    IGNORED_CALLS,
    IGNORED_OBJECTS,
    MATCH,
    MAX_EXPRESSION_LENGTH,
    MAX_SOURCE_LENGTH,
    NO_CONSTANT,
    NOTHING,
    OBJECTS,
    POLICY,
    REACHES_OBJECTS,
    RUNS_CODE,
    TEXT,
    VALUE,
    Value,
    called_name,
    called_object,
    conditional,
    deny,
    is_empty_constant,
    is_name,
    structure_message,
    truth,
    without_outer_parentheses,
)

__all__ = ["NO_CONSTANT", "NotTranslated", "Translated", "translate_policy", "translate_value"]


class NotTranslated(Exception):
    """The expression leaves the subset; `problems` names each place, with its line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Translated:
    expression: str  # in Gatehouse's expression language
    # The Python value when the expression is a literal (choices written as a list, say).
    constant: object = NO_CONSTANT
    notes: tuple[tuple[str, str], ...] = ()  # (what, why) of what is dropped or differs


def translate_policy(source: str) -> Translated:
    """An expression policy: its verdict, with `ak_message` as the denial's message."""
    return _Translation(source, POLICY).run()


def translate_value(source: str) -> Translated:
    """A prompt's initial value or choices: the value the expression returns."""
    return _Translation(source, VALUE).run()


MAX_PROBLEMS = 10


class _TooLong(Exception):
    pass


def _line_of(item) -> int:
    (line, _), _ = item
    return line


# -- the translation ---------------------------------------------------------------------------


@dataclass
class _Translation(ExpressionReading):
    source: str
    mode: str
    problems: dict = field(default_factory=dict)  # (line, message) -> problem, in order found
    notes: list = field(default_factory=list)
    wrapped: str = ""  # the source as the body of a function, as authentik runs it

    def run(self) -> Translated:
        function = self._parse()
        if function is not None:
            for node in ast.walk(function):
                self._screen(node)
            try:
                result = self.block(function.body, {}, [])
            except _TooLong:
                self.problems.setdefault(
                    (0, "long"), f"longer than {MAX_EXPRESSION_LENGTH} characters once translated"
                )
            except RecursionError:
                self.problems.setdefault((0, "deep"), "nested too deeply")
        if self.problems:
            ordered = [problem for _, problem in sorted(self.problems.items(), key=_line_of)]
            if len(ordered) > MAX_PROBLEMS:
                more = len(ordered) - MAX_PROBLEMS
                ordered = [*ordered[:MAX_PROBLEMS], f"and {more} more"]
            raise NotTranslated(ordered)
        code = without_outer_parentheses(result.code)
        if len(code) > MAX_EXPRESSION_LENGTH:
            raise NotTranslated([f"longer than {MAX_EXPRESSION_LENGTH} characters once translated"])
        return Translated(code, result.constant, tuple(dict.fromkeys(self.notes)))

    def _parse(self) -> ast.FunctionDef | None:
        if len(self.source) > MAX_SOURCE_LENGTH:
            self.problems[(0, "size")] = f"longer than {MAX_SOURCE_LENGTH} characters"
            return None
        # As authentik does: the expression is the body of a function.
        lines = self.source.splitlines() or [""]
        self.wrapped = "def expression():\n" + "\n".join(f"    {line}" for line in lines)
        try:
            return ast.parse(self.wrapped).body[0]
        except SyntaxError as error:
            line = max((error.lineno or 1) - 1, 1)
            self.problems[(line, "syntax")] = f"line {line}: not valid Python ({error.msg})"
        except ValueError as error:  # a NUL character, say
            self.problems[(0, "syntax")] = f"not valid Python ({error})"
        except (RecursionError, MemoryError):
            self.problems[(0, "deep")] = "nested too deeply"
        return None

    # -- problems

    def refuse(self, node, message: str) -> Value:
        """Name what is not translated; the translation goes on, to name everything at once."""
        line = max(getattr(node, "lineno", 2) - 1, 1)
        snippet = ast.get_source_segment(self.wrapped, node) or ""
        snippet = " ".join(snippet.split())
        shown = f" ({snippet if len(snippet) <= 60 else snippet[:57] + '...'})" if snippet else ""
        self.problems.setdefault((line, message), f"line {line}: {message}{shown}")
        return Value("none", ANY)

    def _screen(self, node) -> None:
        """Constructs refused wherever they are, reachable or not."""
        message = structure_message(node)
        is_wrapper = isinstance(node, ast.FunctionDef) and node.lineno == 1
        if message and not is_wrapper:
            self.refuse(node, message)
        if isinstance(node, ast.Import | ast.ImportFrom):
            self._check_import(node)
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            self.refuse(node, f"private attributes such as .{node.attr} are not translated")
        elif isinstance(node, ast.Name) and node.id in RUNS_CODE:
            self.refuse(node, f"{node.id}() runs or reads arbitrary code and is never translated")
        elif isinstance(node, ast.Name) and (node.id in REACHES_OBJECTS or node.id[:2] == "__"):
            self.refuse(node, f"{node.id} reaches into objects and is not translated")

    def _check_import(self, node) -> dict:
        names = {}
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name not in ALLOWED_IMPORTS:
                    self.refuse(node, "imports are not translated (only re and ipaddress)")
                    return {}
                names[alias.asname or alias.name] = Value(alias.name, ALLOWED_IMPORTS[alias.name])
            return names
        if node.module not in ALLOWED_IMPORTS or node.level:
            self.refuse(node, "imports are not translated (only re and ipaddress)")
            return {}
        for alias in node.names:
            module = Value(node.module, ALLOWED_IMPORTS[node.module])
            names[alias.asname or alias.name] = self._module_member(module, alias.name, node)
        return names

    def _grow(self, value: Value) -> Value:
        if len(value.code) > 4 * MAX_EXPRESSION_LENGTH:
            raise _TooLong
        return value

    # -- statements

    def block(self, statements: list, env: dict, messages: list) -> Value:
        """What the function returns from here on: the rest of its statements, in order."""
        for index, statement in enumerate(statements):
            rest = statements[index + 1 :]
            if isinstance(statement, ast.Return):
                return self._grow(self.returned(statement, env, messages))
            if isinstance(statement, ast.If):
                return self._grow(self._if(statement, rest, env, messages))
            if isinstance(statement, ast.Try):
                return self._grow(self._try(statement, rest, env, messages))
            self.statement(statement, env, messages)
        return self.fall_off(messages)

    def _if(self, statement: ast.If, rest: list, env: dict, messages: list) -> Value:
        condition = truth(self.expr(statement.test, env))
        if condition.is_constant:
            branch = statement.body if condition.constant else statement.orelse
            return self.block(branch + rest, env, messages)
        when_true = self.block(statement.body + rest, dict(env), list(messages))
        when_false = self.block(statement.orelse + rest, dict(env), list(messages))
        return conditional(condition, when_true, when_false, verdict=self.mode == POLICY)

    def _try(self, statement: ast.Try, rest: list, env: dict, messages: list) -> Value:
        """In a prompt's value only: `try: ... except: return ''` is its body, as a failing
        expression leaves the field empty in Gatehouse too."""
        empty_handlers = all(
            (handler.type is None or is_name(handler.type, "Exception"))
            and all(
                isinstance(item, ast.Pass)
                or (isinstance(item, ast.Return) and is_empty_constant(item.value))
                for item in handler.body
            )
            for handler in statement.handlers
        )
        if self.mode != VALUE or statement.orelse or statement.finalbody or not empty_handlers:
            self.refuse(statement, "try/except is not translated: Gatehouse cannot catch errors")
            return NOTHING
        self.notes.append(("try/except", "an error leaves the field empty in Gatehouse"))
        return self.block(statement.body + rest, env, messages)

    def statement(self, statement, env: dict, messages: list) -> None:
        if isinstance(statement, ast.Pass):
            return
        if isinstance(statement, ast.Import | ast.ImportFrom):
            env.update(self._check_import(statement))
            return
        if isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            if statement.value is None:
                return
            if len(targets) != 1 or not isinstance(targets[0], ast.Name):
                written = targets[0]
                if isinstance(written, ast.Subscript | ast.Attribute):
                    self.refuse(statement, "it writes to an object; Gatehouse's policies only read")
                else:
                    self.refuse(statement, "only assignments to one name are translated")
                return
            env[targets[0].id] = self.expr(statement.value, env)
            return
        if isinstance(statement, ast.Expr):
            self._expression_statement(statement, env, messages)
            return
        if not structure_message(statement):
            self.refuse(statement, f"{type(statement).__name__} statements are not translated")

    def _expression_statement(self, statement: ast.Expr, env: dict, messages: list) -> None:
        node = statement.value
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return  # a docstring or a stray text
        if isinstance(node, ast.Call):
            name = called_name(node)
            if name == "ak_message":
                message = self._message(node, env)
                if message is not None:
                    messages.append(message)
                return
            if name in IGNORED_CALLS or called_object(node) in IGNORED_OBJECTS:
                self.notes.append((f"{name or 'ak_logger'}() calls", "they only write to logs"))
                return
        self.refuse(statement, "a statement whose value is not used is not translated")

    def _message(self, call: ast.Call, env: dict) -> Value | None:
        if self.mode != POLICY:
            self.refuse(call, "ak_message is for policies, not for values")
            return None
        if len(call.args) != 1 or call.keywords:
            self.refuse(call, "ak_message takes one message")
            return None
        message = self.expr(call.args[0], env)
        if message.kind not in (TEXT, ANY):
            return self.refuse(call, "ak_message takes a text")
        return message

    def returned(self, statement: ast.Return, env: dict, messages: list) -> Value:
        node = statement.value
        if self.mode == POLICY and isinstance(node, ast.Call) and called_name(node) == "ak_message":
            message = self._message(node, env)
            return self.fall_off(messages + ([message] if message is not None else []))
        value = NOTHING if node is None else self.expr(node, env)
        if self.mode == VALUE:
            if value.kind in OBJECTS or value.kind == MATCH:
                return self.refuse(node, "it returns an object, not a value")
            return value
        value = truth(value)
        if value.kind in OBJECTS:
            return self.refuse(node, "it returns an object, not a verdict")
        if not messages:
            return value
        if value.is_constant:
            return value if value.constant else deny(messages)
        # authentik shows a policy's messages only when it fails.
        return Value(f"({value.code} or {deny(messages).code})", BOOL)

    def fall_off(self, messages: list) -> Value:
        """The end of the function: None, a failing verdict (with its messages)."""
        if self.mode == POLICY:
            return deny(messages) if messages else FALSE
        return NOTHING

    # -- expressions
