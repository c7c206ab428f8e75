"""authentik's blueprint YAML: a safe loader with its tags, read with their line. A tag is
resolved later, once every entry and id is known (entries.py)."""

import operator
import re
from dataclasses import dataclass
from functools import partial, reduce

import yaml
from yaml.constructor import ConstructorError

from idp.transfer.document import MAX_FILE_BYTES, FlowFileError, TextLoader


@dataclass
class Tag:
    """A blueprint tag as read; it is resolved once every entry and id is known."""

    line: int


@dataclass
class KeyOf(Tag):
    id: str


@dataclass
class Find(Tag):
    model: object
    conditions: list  # of (field, value)


@dataclass
class Context(Tag):
    key: object
    default: object = None


@dataclass
class Env(Tag):
    key: object
    default: object = None


@dataclass
class Format(Tag):
    template: object
    arguments: list


@dataclass
class If(Tag):
    condition: object
    when_true: object = True
    when_false: object = False


@dataclass
class Condition(Tag):
    mode: object
    arguments: list


@dataclass
class Enumerate(Tag):
    iterable: object
    output: object  # SEQ (a list) or MAP (a mapping)
    body: object


@dataclass
class Index(Tag):
    """The index (or key) of the item an enclosing !Enumerate is at; `depth` 0 is the
    innermost."""

    depth: int


@dataclass
class Value(Tag):
    depth: int


@dataclass
class AtIndex(Tag):
    container: object
    key: object
    default: object = None
    has_default: bool = False


@dataclass
class ParseJSON(Tag):
    text: str


@dataclass
class Unsupported(Tag):
    """An authentik tag Gatehouse does not evaluate (or a value it cannot have here); an
    entry that needs one is skipped."""

    name: str
    reason: str = "which Gatehouse does not evaluate"


# Tags authentik knows that Gatehouse reads but does not evaluate. `!File` would read any file
# on this machine, which an imported document must not be able to do.
# `!FindObject` gives an authentik object's serialized form, which Gatehouse's objects do not have.
UNSUPPORTED_TAGS = ("!FindObject", "!File")
KNOWN_TAGS = (
    "!KeyOf",
    "!Find",
    "!Context",
    "!Env",
    "!Format",
    "!If",
    "!Condition",
    "!Enumerate",
    "!Index",
    "!Value",
    "!AtIndex",
    "!ParseJSON",
)


class _TagError(ConstructorError):
    pass


class _Mapping(dict):
    """A mapping that remembers its line, so entries can be named by place."""

    line: int | None = None


def _line(node) -> int:
    return node.start_mark.line + 1


def _refuse(node, message):
    raise _TagError(None, None, message, node.start_mark)


def _arguments(loader, node, tag, least, most=None) -> list:
    if not isinstance(node, yaml.SequenceNode):
        _refuse(node, f"{tag} takes a list")
    count = len(node.value)
    if count < least or (most is not None and count > most):
        expected = f"{least} to {most}" if most is not None else f"at least {least}"
        _refuse(node, f"{tag} takes {expected} values, not {count}")
    return [loader.construct_object(child, deep=True) for child in node.value]


def _construct_mapping(loader, node):
    data = _Mapping()
    data.line = _line(node)
    yield data
    data.update(loader.construct_mapping(node))


def _construct_key_of(loader, node):
    if not isinstance(node, yaml.ScalarNode):
        _refuse(node, "!KeyOf takes the id of another entry")
    return KeyOf(_line(node), loader.construct_scalar(node))


def _construct_with_default(tag_class, tag, loader, node):
    if isinstance(node, yaml.ScalarNode):
        return tag_class(_line(node), loader.construct_scalar(node))
    key, default = _arguments(loader, node, tag, 2, 2)
    return tag_class(_line(node), key, default)


def _construct_find(loader, node):
    usage = "!Find takes [model, [field, value], ...]"
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        _refuse(node, usage)
    model = loader.construct_object(node.value[0], deep=True)
    conditions = []
    for child in node.value[1:]:
        if not isinstance(child, yaml.SequenceNode) or len(child.value) != 2:
            _refuse(child, usage)
        conditions.append(tuple(loader.construct_object(part, deep=True) for part in child.value))
    return Find(_line(node), model, conditions)


def _construct_format(loader, node):
    template, *arguments = _arguments(loader, node, "!Format", 1)
    return Format(_line(node), template, arguments)


def _construct_if(loader, node):
    values = _arguments(loader, node, "!If", 1, 3)
    if len(values) == 2:
        _refuse(node, "!If takes [condition] or [condition, when true, when false]")
    return If(_line(node), *values)


def _construct_condition(loader, node):
    mode, *arguments = _arguments(loader, node, "!Condition", 2)
    return Condition(_line(node), mode, arguments)


def _construct_enumerate(loader, node):
    iterable, output, body = _arguments(loader, node, "!Enumerate", 3, 3)
    if not isinstance(output, str) or output.upper() not in ("SEQ", "MAP"):
        _refuse(node, "!Enumerate takes [iterable, SEQ or MAP, item]")
    return Enumerate(_line(node), iterable, output.upper(), body)


def _construct_depth(tag_class, tag, loader, node):
    text = loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None
    if not isinstance(text, str) or not text.strip().isdigit():
        _refuse(node, f"{tag} takes a depth, a whole number (0 for the innermost !Enumerate)")
    return tag_class(_line(node), int(text))


def _construct_at_index(loader, node):
    values = _arguments(loader, node, "!AtIndex", 2, 3)
    if len(values) == 3:
        return AtIndex(_line(node), values[0], values[1], values[2], has_default=True)
    return AtIndex(_line(node), values[0], values[1])


def _construct_parse_json(loader, node):
    if not isinstance(node, yaml.ScalarNode):
        _refuse(node, "!ParseJSON takes a text")
    return ParseJSON(_line(node), loader.construct_scalar(node))


def _construct_unsupported(name, loader, node):
    return Unsupported(_line(node), name)


def _construct_unknown(loader, node):
    _refuse(node, f"unknown tag {node.tag} (known: {', '.join(KNOWN_TAGS)})")


class BlueprintLoader(TextLoader):
    """Safe YAML (without lone surrogates) plus authentik's blueprint tags."""


BlueprintLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
BlueprintLoader.add_constructor("!KeyOf", _construct_key_of)
BlueprintLoader.add_constructor("!Find", _construct_find)
BlueprintLoader.add_constructor("!Context", partial(_construct_with_default, Context, "!Context"))
BlueprintLoader.add_constructor("!Env", partial(_construct_with_default, Env, "!Env"))
BlueprintLoader.add_constructor("!Format", _construct_format)
BlueprintLoader.add_constructor("!If", _construct_if)
BlueprintLoader.add_constructor("!Condition", _construct_condition)
BlueprintLoader.add_constructor("!Enumerate", _construct_enumerate)
BlueprintLoader.add_constructor("!Index", partial(_construct_depth, Index, "!Index"))
BlueprintLoader.add_constructor("!Value", partial(_construct_depth, Value, "!Value"))
BlueprintLoader.add_constructor("!AtIndex", _construct_at_index)
BlueprintLoader.add_constructor("!ParseJSON", _construct_parse_json)
for _name in UNSUPPORTED_TAGS:
    BlueprintLoader.add_constructor(_name, partial(_construct_unsupported, _name))
BlueprintLoader.add_constructor(None, _construct_unknown)


_BLUEPRINT_KEY = re.compile(rb"^entries[ \t]*:", re.MULTILINE)


def looks_like_blueprint(raw: bytes) -> bool:
    """A YAML file with a top-level `entries:`; its tags need BlueprintLoader to be read."""
    return _BLUEPRINT_KEY.search(raw) is not None


def is_blueprint(document) -> bool:
    return isinstance(document, dict) and "entries" in document and "flow" not in document


def load_blueprint(raw: bytes | str, source: str) -> dict:
    """Read blueprint YAML; a FlowFileError names the line of what is wrong."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_FILE_BYTES:
            raise FlowFileError([f"{source}: larger than {MAX_FILE_BYTES // 1024} KiB"])
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise FlowFileError([f"{source}: not UTF-8 text"]) from None
    loader = BlueprintLoader(raw)
    try:
        document = loader.get_single_data()
    except RecursionError:
        raise FlowFileError([f"{source}: nested too deeply"]) from None
    except _TagError as error:
        line = error.problem_mark.line + 1
        raise FlowFileError([f"{source}: line {line}: {error.problem}"]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        problem = (
            getattr(error, "problem", None) or getattr(error, "reason", None) or "cannot be parsed"
        )
        raise FlowFileError([f"{source}: not valid YAML{where}: {problem}"]) from None
    finally:
        loader.dispose()
    if not isinstance(document, dict):
        raise FlowFileError([f"{source}: a blueprint must be a mapping with version and entries"])
    return document


def _xor(values):
    return reduce(operator.xor, values)


CONDITION_MODES = {
    "AND": all,
    "OR": any,
    "NAND": lambda values: not all(values),
    "NOR": lambda values: not any(values),
    "XOR": _xor,
    "XNOR": lambda values: not _xor(values),
}
