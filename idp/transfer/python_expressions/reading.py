"""Python expressions, read one node at a time into Gatehouse values (see the package)."""

import ast
import math

from idp.transfer.python_expressions.values import (
    ANY,
    ARITHMETIC,
    AUTH_METHOD,
    AUTH_METHODS,
    BOOL,
    CLIENT_IP,
    COMPARISONS,
    CONTEXT,
    DEVICE_TYPES,
    FALSE,
    FOLDED,
    GROUP_FILTER,
    GROUPS,
    LIST,
    MAPPING,
    MAPPING_METHODS,
    MATCH,
    MODULE_IP,
    MODULE_RE,
    NO_EQUIVALENT,
    NONE,
    NOTHING,
    NUMBER,
    OBJECTS,
    PLAN,
    POLICY,
    REACHES_OBJECTS,
    REGEX_FLAG,
    REGEX_FUNCTION,
    REGEX_FUNCTIONS,
    REQUEST,
    RUNS_CODE,
    TEXT,
    TEXT_METHODS,
    TRUE,
    USER,
    USER_FIELDS,
    VALUE,
    Value,
    compare_constants,
    conditional,
    function_name,
    is_name,
    jinja_string,
    literal,
    negation,
    structure_message,
    truth,
)


class ExpressionReading:
    """The translation's (`_Translation`) methods for expressions; they name what they refuse
    with `self.refuse` and go on, so that one reading names every problem."""

    def expr(self, node, env: dict) -> Value:
        method = getattr(self, f"_expr_{type(node).__name__}", None)
        if method is None:
            message = structure_message(node)
            return self.refuse(node, message or f"{type(node).__name__} is not translated")
        return self._grow(method(node, env))

    def _expr_Constant(self, node, env) -> Value:
        value = node.value
        if isinstance(value, float) and not math.isfinite(value):
            return self.refuse(node, "this number is not translated")
        if value is None or isinstance(value, bool | int | float | str):
            return literal(value)
        return self.refuse(node, f"{type(value).__name__} literals are not translated")

    def _expr_Name(self, node, env) -> Value:
        name = node.id
        if name in env:
            return env[name]
        if name in ("request", "context", "user"):
            if name == "context" and self.mode != POLICY:
                return self.refuse(node, "context is for policies; a value has prompt_context")
            return Value(name, {"request": REQUEST, "context": CONTEXT, "user": USER}[name])
        if name == "prompt_context" and self.mode == VALUE:
            return Value('context.get("prompt_data", {})', MAPPING)
        if name == "ak_client_ip":
            return Value("request.ip", CLIENT_IP)
        if name in NO_EQUIVALENT:
            return self.refuse(node, f"{name}: {NO_EQUIVALENT[name]}")
        if name in RUNS_CODE or name in REACHES_OBJECTS or name.startswith("__"):
            return Value("none", ANY)  # named by _screen already
        return self.refuse(node, f"unknown name {name}")

    def _expr_Attribute(self, node, env) -> Value:
        if node.attr.startswith("_"):
            return Value("none", ANY)  # named by _screen already
        base = self.expr(node.value, env)
        name = node.attr
        if base.kind == USER:
            if name in USER_FIELDS:
                code, kind = USER_FIELDS[name]
                return Value(code, kind)
            if name in ("ak_groups", "groups"):
                return Value("user.groups", GROUPS)
            return self.refuse(node, f"the user's {name} has no Gatehouse equivalent")
        if base.kind == REQUEST and name == "user":
            return Value("user", USER)
        if base.kind in (REQUEST, PLAN) and name == "context" and self.mode == POLICY:
            return Value("context", CONTEXT)
        if base.kind in (MODULE_RE, MODULE_IP):
            return self._module_member(base, name, node)
        if base.kind == ANY and base.code == "none":
            return base  # its base was refused already
        return self.refuse(node, f".{name} is not translated here")

    def _module_member(self, module: Value, name: str, node) -> Value:
        if module.kind == MODULE_RE and name in REGEX_FUNCTIONS:
            return Value(name, REGEX_FUNCTION, detail=REGEX_FUNCTIONS[name])
        if module.kind == MODULE_RE and name in ("I", "IGNORECASE"):
            return Value(name, REGEX_FLAG)
        if module.kind == MODULE_IP and name in ("ip_network", "ip_address"):
            return Value(name, name)
        return self.refuse(node, f"{module.code}.{name} is not translated")

    def _expr_Subscript(self, node, env) -> Value:
        base = self.expr(node.value, env)
        if isinstance(node.slice, ast.Slice):
            return self.refuse(node, "slices are not translated")
        key = self.expr(node.slice, env)
        if base.kind == CONTEXT:
            if not isinstance(key.constant, str):
                return self.refuse(node, "the context is read by fixed keys only")
            return self._context_key(key.constant, node, subscript=True)
        if base.kind in (MAPPING, LIST, TEXT, ANY) and key.kind not in OBJECTS:
            return Value(f"{base.code}[{key.code}]", TEXT if base.kind == TEXT else ANY)
        return self.refuse(node, "this item is not translated")

    def _context_key(self, key: str, node, subscript=False, default: Value | None = None) -> Value:
        """A flow-context key, read with [key] or .get(key, default)."""
        if key == "prompt_data":
            if subscript:
                return Value('context["prompt_data"]', MAPPING)
            fallback = default.code if default is not None else "none"
            return Value(f'context.get("prompt_data", {fallback})', MAPPING)
        if key == "pending_user":
            return Value("user", USER)
        if key == "flow_plan":
            return Value("plan", PLAN)
        if key == "auth_method":
            return Value("plan.auth_method", AUTH_METHOD)
        if key == "is_restored":
            # authentik sets it (to the link's token) when a mailed link restored the plan.
            if default is None or (default.is_constant and not default.constant):
                return Value("plan.is_restored", BOOL)
            return conditional(Value("plan.is_restored", BOOL), TRUE, default)
        return self.refuse(node, f"the flow context's {key!r} has no Gatehouse equivalent")

    def _expr_Call(self, node, env) -> Value:
        if any(keyword.arg is None for keyword in node.keywords):
            return self.refuse(node, "** arguments are not translated")
        if isinstance(node.func, ast.Name) and node.func.id not in env:
            return self._function_call(node, node.func.id, env)
        if isinstance(node.func, ast.Attribute):
            return self._method_call(node, env)
        function = self.expr(node.func, env)
        if function.kind == REGEX_FUNCTION:
            return self._regex(node, function, env)
        return self.refuse(node, "this call is not translated")

    def _function_call(self, node, name: str, env) -> Value:
        arguments = node.args
        if name == "ak_is_group_member":
            return self._group_member(node, env)
        if name == "ak_user_has_authenticator":
            return self._has_authenticator(node, env)
        if name == "regex_match" and len(arguments) == 2 and not node.keywords:
            value, pattern = (self.expr(argument, env) for argument in arguments)
            return Value(f"regex_match({value.code}, {pattern.code})", BOOL)
        if name in ("len", "str", "bool") and len(arguments) == 1 and not node.keywords:
            value = self.expr(arguments[0], env)
            if name == "bool":
                as_bool = conditional(value, TRUE, FALSE)
                return Value(as_bool.code, BOOL, as_bool.constant, detail=("bool", value))
            if value.kind in OBJECTS:
                return self.refuse(node, f"{name}() of an object is not translated")
            if name == "len":
                return Value(f"({value.code} | length)", NUMBER)
            return Value(f"({value.code} | string)", TEXT)
        if name == "hasattr" and len(arguments) == 2:
            return self._hasattr(node, env)
        if name == "ak_message":
            return self.refuse(node, "ak_message is translated as a statement or a return only")
        if name in ("ip_network", "ip_address"):
            return self.refuse(node, f"{name}() is translated in `ak_client_ip in ip_network(...)`")
        if name in NO_EQUIVALENT:
            return self.refuse(node, f"{name}: {NO_EQUIVALENT[name]}")
        if name in RUNS_CODE or name in REACHES_OBJECTS:
            return Value("none", ANY)  # named by _screen already
        return self.refuse(node, f"calls to {name}() are not translated")

    def _user_argument(self, node, env) -> bool:
        if not node.args:
            self.refuse(node, "it names no user")
            return False
        if self.expr(node.args[0], env).kind != USER:
            self.refuse(node, "only the flow's user is translated here")
            return False
        return True

    def _group_member(self, node, env) -> Value:
        if not self._user_argument(node, env):
            return NOTHING
        keywords = {keyword.arg: keyword.value for keyword in node.keywords}
        if len(node.args) != 1 or set(keywords) != {"name"}:
            return self.refuse(node, "groups are matched by name= only")
        name = self.expr(keywords["name"], env)
        return Value(f"({name.code} in user.groups)", BOOL)

    def _has_authenticator(self, node, env) -> Value:
        if not self._user_argument(node, env):
            return NOTHING
        keywords = {keyword.arg: keyword.value for keyword in node.keywords}
        if (
            len(node.args) > 2
            or set(keywords) - {"device_type"}
            or (len(node.args) == 2 and keywords)
        ):
            return self.refuse(node, "it takes a user and a device_type")
        given = node.args[1] if len(node.args) == 2 else keywords.get("device_type")
        device_type = self.expr(given, env) if given is not None else NOTHING
        if device_type.constant is None:
            return Value("has_authenticator(user)", BOOL)
        if not isinstance(device_type.constant, str):
            return self.refuse(node, "the device_type must be written out")
        if device_type.constant not in DEVICE_TYPES:
            self.notes.append(
                (f"device_type {device_type.constant}", "Gatehouse has none, so this is false")
            )
            return FALSE
        kind = jinja_string(DEVICE_TYPES[device_type.constant])
        return Value(f"has_authenticator(user, {kind})", BOOL)

    def _hasattr(self, node, env) -> Value:
        target = self.expr(node.args[0], env)
        name = node.args[1]
        if target.kind != USER or not isinstance(name, ast.Constant):
            return self.refuse(node, "hasattr() is translated on the flow's user only")
        if name.value == "backend":
            # authentik's password (or passkey) check marks the pending user with the backend
            # that authenticated it: the user is proved in this flow.
            return Value("plan.is_user_proved", BOOL)
        if name.value in USER_FIELDS:
            return Value("user.is_authenticated", BOOL)  # every user has them, nobody else
        return self.refuse(node, f"the user's {name.value} has no Gatehouse equivalent")

    def _regex(self, node, function: Value, env) -> Value:
        keywords = {keyword.arg: keyword.value for keyword in node.keywords}
        arguments = list(node.args)
        if set(keywords) - {"flags"} or len(arguments) + len(keywords) > 3 or len(arguments) < 2:
            return self.refuse(node, "it takes a pattern, a text and re.IGNORECASE at most")
        flags = keywords.get("flags", arguments[2] if len(arguments) == 3 else None)
        pattern, value = (self.expr(argument, env) for argument in arguments[:2])
        if value.kind in OBJECTS or pattern.kind in OBJECTS:
            return self.refuse(node, "it matches texts only")
        options = ""
        if flags is not None:
            if self.expr(flags, env).kind != REGEX_FLAG:
                return self.refuse(node, "re.IGNORECASE is the only flag translated")
            options = ", ignore_case=true"
        return Value(f"{function.detail}({value.code}, {pattern.code}{options})", MATCH)

    def _method_call(self, node, env) -> Value:
        name = node.func.attr
        if name.startswith("_"):
            return Value("none", ANY)  # named by _screen already
        base = self.expr(node.func.value, env)
        if base.kind in (MODULE_RE, MODULE_IP, REGEX_FUNCTION):
            function = self._module_member(base, name, node)
            if function.kind == REGEX_FUNCTION:
                return self._regex(node, function, env)
            return self.refuse(node, f"{base.code}.{name}() is translated in ip_network(...)")
        if base.kind == GROUPS:
            return self._groups_call(node, name, env)
        if base.kind == USER:
            return self.refuse(node, f"the user's {name}() has no Gatehouse equivalent")
        if base.kind == GROUP_FILTER and name == "exists" and not node.args:
            return Value(f"({base.detail.code} in user.groups)", BOOL)
        if base.kind == CONTEXT and name == "get":
            return self._context_get(node, env)
        arguments = [self.expr(argument, env) for argument in node.args]
        if node.keywords or any(argument.kind in OBJECTS for argument in arguments):
            return self.refuse(node, f".{name}() is not translated with these arguments")
        listed = ", ".join(argument.code for argument in arguments)
        if base.kind in (TEXT, ANY) and name in TEXT_METHODS:
            return Value(f"{base.code}.{name}({listed})", TEXT_METHODS[name])
        if base.kind in (MAPPING, ANY) and name in MAPPING_METHODS and len(arguments) <= 2:
            return Value(f"{base.code}.{name}({listed})", MAPPING_METHODS[name])
        if base.kind == ANY and base.code == "none":
            return base  # its base was refused already
        return self.refuse(node, f".{name}() is not translated")

    def _context_get(self, node, env) -> Value:
        if node.keywords or not 1 <= len(node.args) <= 2:
            return self.refuse(node, "context.get takes a key and a default")
        key = self.expr(node.args[0], env)
        if not isinstance(key.constant, str):
            return self.refuse(node, "the context is read by fixed keys only")
        default = self.expr(node.args[1], env) if len(node.args) == 2 else None
        return self._context_key(key.constant, node, default=default)

    def _groups_call(self, node, name: str, env) -> Value:
        keywords = {keyword.arg: keyword.value for keyword in node.keywords}
        if name == "filter" and not node.args and set(keywords) == {"name"}:
            return Value("", GROUP_FILTER, detail=self.expr(keywords["name"], env))
        if name == "all" and not node.args and not keywords:
            return Value("user.groups", GROUPS)
        return self.refuse(node, f"groups.{name}() is translated as .filter(name=...) only")

    def _expr_Compare(self, node, env) -> Value:
        left = node.left
        parts = []
        for operator, right in zip(node.ops, node.comparators, strict=True):
            parts.append(self._comparison(left, operator, right, env))
            left = right
        if len(parts) == 1:
            return parts[0]
        return Value("(" + " and ".join(part.code for part in parts) + ")", BOOL)

    def _comparison(self, left_node, operator, right_node, env) -> Value:
        if isinstance(operator, ast.In | ast.NotIn):
            special = self._membership(left_node, right_node, env)
            if special is not None:
                return negation(special) if isinstance(operator, ast.NotIn) else special
        left, right = self.expr(left_node, env), self.expr(right_node, env)
        if AUTH_METHOD in (left.kind, right.kind):
            return self._auth_method_comparison(left, operator, right, right_node)
        if isinstance(operator, ast.Is | ast.IsNot | ast.Eq | ast.NotEq) and NONE in (
            left.kind,
            right.kind,
        ):
            other = right if left.kind == NONE else left
            is_none = self._is_none(other, right_node)
            return negation(is_none) if isinstance(operator, ast.IsNot | ast.NotEq) else is_none
        if isinstance(operator, ast.Is | ast.IsNot):
            return self.refuse(right_node, "`is` is translated with None only")
        if left.kind in OBJECTS or right.kind in OBJECTS:
            return self.refuse(right_node, "comparing objects is not translated")
        if left.is_constant and right.is_constant and type(operator) in FOLDED:
            return literal(compare_constants(operator, left.constant, right.constant))
        symbol = COMPARISONS[type(operator)]
        return Value(f"({left.code} {symbol} {right.code})", BOOL)

    def _is_none(self, value: Value, node) -> Value:
        if value.kind == MATCH:
            return negation(value)
        if value.kind == USER:
            return negation(Value("user.is_authenticated", BOOL))
        if value.kind == PLAN:
            return FALSE
        if value.kind in OBJECTS:
            return self.refuse(node, "comparing objects is not translated")
        if value.is_constant:
            return literal(value.constant is None)
        return Value(f"({value.code} is none)", BOOL)

    def _membership(self, left_node, right_node, env) -> Value | None:
        """`x in ...` forms with a meaning of their own, or None for a plain one."""
        if isinstance(right_node, ast.Call) and function_name(right_node) == "ip_network":
            return self._in_network(left_node, right_node, env)
        if isinstance(right_node, ast.ListComp | ast.GeneratorExp | ast.SetComp):
            if self._group_names(right_node, env):
                member = self.expr(left_node, env)
                return Value(f"({member.code} in user.groups)", BOOL)
            return None
        right = self.expr(right_node, env)
        if right.kind == CONTEXT:
            key = self.expr(left_node, env)
            if not isinstance(key.constant, str):
                return self.refuse(left_node, "the context is read by fixed keys only")
            return self._context_has(key.constant, left_node)
        return None

    def _context_has(self, key: str, node) -> Value:
        if key == "prompt_data":
            return Value('("prompt_data" in context)', BOOL)
        if key == "pending_user":
            return Value("user.is_authenticated", BOOL)
        if key == "flow_plan":
            return TRUE
        if key == "is_restored":
            return Value("plan.is_restored", BOOL)
        if key == "auth_method":
            return Value('(plan.auth_method != "")', BOOL)
        return self.refuse(node, f"the flow context's {key!r} has no Gatehouse equivalent")

    def _in_network(self, left_node, call: ast.Call, env) -> Value:
        if len(call.args) != 1 or call.keywords:
            return self.refuse(call, "ip_network() takes one network")
        network = self.expr(call.args[0], env)
        address = self.expr(left_node, env)
        if address.kind == CLIENT_IP:
            return Value(f"ip_in_network(request.ip, {network.code})", BOOL)
        if isinstance(left_node, ast.Call) and function_name(left_node) == "ip_address":
            inner = self.expr(left_node.args[0], env) if len(left_node.args) == 1 else NOTHING
            if inner.kind not in OBJECTS:
                return Value(f"ip_in_network({inner.code}, {network.code})", BOOL)
        return self.refuse(left_node, "only ak_client_ip or ip_address(...) is translated here")

    def _group_names(self, node, env) -> bool:
        """`[group.name for group in user.ak_groups.all()]`: the user's group names."""
        if len(node.generators) != 1:
            return False
        generator = node.generators[0]
        if generator.ifs or generator.is_async or not isinstance(generator.target, ast.Name):
            return False
        element = node.elt
        if not (
            isinstance(element, ast.Attribute)
            and element.attr == "name"
            and is_name(element.value, generator.target.id)
        ):
            return False
        return self.expr(generator.iter, env).kind == GROUPS

    def _auth_method_comparison(self, left, operator, right, node) -> Value:
        other = right if left.kind == AUTH_METHOD else left
        if isinstance(operator, ast.Is | ast.IsNot | ast.Eq | ast.NotEq) and other.kind == NONE:
            unset = Value('(plan.auth_method == "")', BOOL)
            return negation(unset) if isinstance(operator, ast.IsNot | ast.NotEq) else unset
        names = other.constant
        if isinstance(names, str) and isinstance(operator, ast.Eq | ast.NotEq):
            names = [names]
        elif not (
            left.kind == AUTH_METHOD
            and isinstance(operator, ast.In | ast.NotIn)
            and isinstance(names, list)
            and all(isinstance(name, str) for name in names)
        ):
            return self.refuse(node, "auth_method is compared with written-out methods only")
        values = [value for name in names for value in AUTH_METHODS.get(name, ())]
        for name in names:
            if name not in AUTH_METHODS:
                self.notes.append((f"auth_method {name}", "Gatehouse never signs in that way"))
        if not values:
            found = FALSE
        elif len(values) == 1:
            found = Value(f"(plan.auth_method == {jinja_string(values[0])})", BOOL)
        else:
            listed = ", ".join(jinja_string(value) for value in values)
            found = Value(f"(plan.auth_method in [{listed}])", BOOL)
        return negation(found) if isinstance(operator, ast.NotEq | ast.NotIn) else found

    def _expr_BoolOp(self, node, env) -> Value:
        values = [self.expr(value, env) for value in node.values]
        kinds = {value.kind for value in values}
        if len(kinds) == 1 and kinds <= OBJECTS:
            return values[0]  # `pending_user or request.user`: the same user here
        values = [truth(value) if value.kind in OBJECTS else value for value in values]
        is_and = isinstance(node.op, ast.And)
        kept = []
        for value in values:
            # `x and True and y` is `x and y`; nothing after `x and False` is ever read.
            if value.is_constant and bool(value.constant) == is_and and value is not values[-1]:
                continue
            kept.append(value)
            if value.is_constant:
                break
        if len(kept) == 1:
            return kept[0]
        kind = BOOL if {value.kind for value in kept} == {BOOL} else ANY
        word = " and " if is_and else " or "
        return Value("(" + word.join(value.code for value in kept) + ")", kind)

    def _expr_UnaryOp(self, node, env) -> Value:
        operand = self.expr(node.operand, env)
        if isinstance(node.op, ast.Not):
            return negation(operand)
        if isinstance(node.op, ast.USub | ast.UAdd) and operand.kind in (NUMBER, ANY):
            sign = "-" if isinstance(node.op, ast.USub) else "+"
            if isinstance(operand.constant, int | float) and not isinstance(operand.constant, bool):
                return literal(-operand.constant if sign == "-" else operand.constant)
            return Value(f"({sign}{operand.code})", NUMBER)
        return self.refuse(node, "this operator is not translated")

    def _expr_IfExp(self, node, env) -> Value:
        return conditional(
            self.expr(node.test, env), self.expr(node.body, env), self.expr(node.orelse, env)
        )

    def _expr_BinOp(self, node, env) -> Value:
        symbol = ARITHMETIC.get(type(node.op))
        left, right = self.expr(node.left, env), self.expr(node.right, env)
        if symbol is None or left.kind in OBJECTS or right.kind in OBJECTS:
            return self.refuse(node, "this operator is not translated")
        if symbol == "%" and TEXT in (left.kind, right.kind):
            return self.refuse(node, "% formatting is not translated; use an f-string")
        kind = TEXT if left.kind == right.kind == TEXT else left.kind
        return Value(f"({left.code} {symbol} {right.code})", kind if kind != NONE else ANY)

    def _expr_List(self, node, env) -> Value:
        items = [self.expr(item, env) for item in node.elts]
        listed = ", ".join(item.code for item in items)
        if isinstance(node, ast.Tuple):  # a tuple stays one: str.startswith takes no list
            code = f"({listed},)" if len(items) == 1 else f"({listed})"
        else:
            code = f"[{listed}]"
        if all(item.is_constant for item in items):
            return Value(code, LIST, [item.constant for item in items])
        if any(item.kind in OBJECTS for item in items):
            return self.refuse(node, "lists of objects are not translated")
        return Value(code, LIST)

    _expr_Tuple = _expr_List
    _expr_Set = _expr_List

    def _expr_Dict(self, node, env) -> Value:
        pairs = []
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            key = self.expr(key_node, env) if key_node is not None else NOTHING
            value = self.expr(value_node, env)
            if not isinstance(key.constant, str) or value.kind in OBJECTS:
                return self.refuse(node, "dictionaries with written-out text keys only")
            pairs.append(f"{key.code}: {value.code}")
        return Value("{" + ", ".join(pairs) + "}", MAPPING)

    def _expr_JoinedStr(self, node, env) -> Value:
        parts = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(literal(part.value).code)
                continue
            if part.conversion != -1 or part.format_spec is not None:
                return self.refuse(node, "f-string conversions and formats are not translated")
            value = self.expr(part.value, env)
            if value.kind in OBJECTS:
                return self.refuse(node, "f-strings of objects are not translated")
            parts.append(value.code)
        if not parts:
            return literal("")
        if len(parts) == 1:
            return Value(f"({parts[0]} | string)", TEXT)
        return Value("(" + " ~ ".join(parts) + ")", TEXT)

    def _expr_ListComp(self, node, env) -> Value:
        if self._group_names(node, env):
            return Value("user.groups", LIST)
        return self.refuse(node, "comprehensions are not translated")

    _expr_GeneratorExp = _expr_ListComp
    _expr_SetComp = _expr_ListComp
