"""Every word a visitor reads in a template goes through the translations: text between tags,
the attributes a screen reader or a tooltip shows, and string literals a template prints or
hands to a macro as a label. A literal left in English fails here with its file and line.
The operator's pages (the admin and the admin-only pieces of a stage or a provider) are held to
the same rule: the admin speaks the operator's language too.
"""

import re
from pathlib import Path

from jinja2 import Environment, nodes
from jinja2.ext import i18n

IDP = Path(__file__).resolve().parents[2] / "idp"
VISIBLE_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt", "aria-description")
# Macro arguments that end up on the page as words.
VISIBLE_ARGUMENTS = {"label", "submit_label", "help", "placeholder", "title", "text"}
TRANSLATING_CALLS = {"_", "gettext", "ngettext", "pgettext", "npgettext"}
LETTERS = re.compile(r"[^\W\d_]")


def user_templates() -> list[Path]:
    return [
        path for path in sorted(IDP.glob("**/templates/**/*")) if path.suffix in (".html", ".txt")
    ]


def _blank(match: re.Match, keep: str = "") -> str:
    """The match replaced by `keep`, its newlines kept so that line numbers stay right."""
    return keep + "\n" * match.group(0).count("\n")


def visible_text(source: str) -> str:
    """The template as a reader sees it, Jinja's parts and tags blanked out, lines kept."""
    text = re.sub(r"\{#.*?#\}", _blank, source, flags=re.S)
    # A block that fills in a class name (base.html's main_class) is no text.
    text = re.sub(r"\{%-?\s*block \w+_class\s*%\}.*?\{%-?\s*endblock", _blank, text, flags=re.S)
    text = re.sub(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", _blank, text, flags=re.S)
    text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", lambda m: _blank(m, "\x01"), text, flags=re.S)
    text = re.sub(r"<(script|style)\b.*?</\1>", _blank, text, flags=re.S | re.I)
    return text


def attribute_problems(text: str) -> list[tuple[int, str]]:
    problems = []
    names = "|".join(VISIBLE_ATTRIBUTES)
    pattern = rf"""\s({names})=(["'])(.*?)\2"""
    for match in re.finditer(pattern, text, flags=re.S):
        value = match.group(3).replace("\x01", "")
        if LETTERS.search(value):
            problems.append((text[: match.start()].count("\n") + 1, f"{match.group(1)}={value!r}"))
    return problems


def data_problems(text: str) -> list[tuple[int, str]]:
    without_tags = re.sub(r"<[^>]*>", lambda m: _blank(m, " "), text, flags=re.S)
    without_tags = re.sub(r"&#?\w+;", " ", without_tags)
    problems = []
    for number, line in enumerate(without_tags.splitlines(), start=1):
        words = line.replace("\x01", " ").strip()
        if LETTERS.search(words):
            problems.append((number, words))
    return problems


def _is_words(value) -> bool:
    """Capitalised, or several words: text for people, not a name for the code."""
    if not isinstance(value, str) or not LETTERS.search(value):
        return False
    return value[:1].isupper() or " " in value.strip()


def _printed_constants(expression) -> list[nodes.Const]:
    """String constants an output expression prints as they are."""
    if isinstance(expression, nodes.Const):
        return [expression]
    if isinstance(expression, nodes.CondExpr):
        return _printed_constants(expression.expr1) + _printed_constants(expression.expr2)
    if isinstance(expression, nodes.Concat):
        return [found for part in expression.nodes for found in _printed_constants(part)]
    if isinstance(expression, nodes.Or | nodes.And):
        return _printed_constants(expression.left) + _printed_constants(expression.right)
    if isinstance(expression, nodes.Filter) and expression.node is not None:
        return _printed_constants(expression.node)
    return []


def _is_translating(call: nodes.Call) -> bool:
    return isinstance(call.node, nodes.Name) and call.node.name in TRANSLATING_CALLS


def literal_problems(source: str) -> list[tuple[int, str]]:
    environment = Environment(extensions=[i18n], autoescape=True)
    tree = environment.parse(source)
    problems = []
    for output in tree.find_all(nodes.Output):
        for child in output.nodes:
            if isinstance(child, nodes.TemplateData):
                continue
            for constant in _printed_constants(child):
                # A lower-case word alone is a value for the markup ("alert"), not text.
                value = constant.value
                if isinstance(value, str) and (_is_words(value) or " " in value.strip()):
                    problems.append((constant.lineno, constant.value))
    for call in tree.find_all(nodes.Call):
        if _is_translating(call):
            continue
        for argument in call.args:
            if isinstance(argument, nodes.Const) and _is_words(argument.value):
                problems.append((argument.lineno, argument.value))
        for keyword in call.kwargs:
            value = keyword.value
            words = [c.value for c in _printed_constants(value) if isinstance(c.value, str)]
            if keyword.key in VISIBLE_ARGUMENTS and any(LETTERS.search(w) for w in words):
                problems.append((value.lineno, f"{keyword.key}={words}"))
    for assign in tree.find_all(nodes.Assign):
        if isinstance(assign.node, nodes.Const) and _is_words(assign.node.value):
            problems.append((assign.node.lineno, assign.node.value))
    return problems


def untranslated(path: Path) -> list[tuple[int, str]]:
    source = path.read_text()
    text = visible_text(source)
    found = attribute_problems(text) + data_problems(text) + literal_problems(source)
    return sorted(set(found))


def test_templates_have_no_untranslated_words():
    problems = [
        f"{path.relative_to(IDP.parent)}:{line}: {words}"
        for path in user_templates()
        for line, words in untranslated(path)
    ]
    assert not problems, "untranslated words in templates:\n" + "\n".join(problems)


def test_the_check_finds_each_kind_of_literal(tmp_path):
    template = tmp_path / "sample.html"
    template.write_text(
        '<p>{{ _("Fine") }}</p>\n'
        "<p>Plain words</p>\n"
        '<input placeholder="e.g. Work laptop">\n'
        '{{ field(f, label="Password") }}\n'
        '{{ "Sign out" if here else _("Sign out there") }}\n'
        "{% trans %}Translated words{% endtrans %}\n"
        '<a href="{{ url }}" class="button">{{ _("Go") }}</a> · {{ name or "the app" }}\n'
    )
    assert sorted({line for line, _words in untranslated(template)}) == [2, 3, 4, 5, 7]


def test_no_template_is_exempt():
    """The admin's pages and the admin-only pieces of stages and providers are checked too."""
    checked = {path.relative_to(IDP).as_posix() for path in user_templates()}
    assert checked == {
        path.relative_to(IDP).as_posix() for path in IDP.glob("**/templates/**/*.html")
    } | {path.relative_to(IDP).as_posix() for path in IDP.glob("**/templates/**/*.txt")}
    assert "admin/templates/admin/base.html" in checked
    assert "stages/prompt/templates/stages/prompt/admin_editor.html" in checked
    assert "providers/proxy/templates/providers/proxy/test_request.html" in checked
