"""A fast reader for the YAML the writer writes: one run's text to plain data, or `None` for the safe loader.

Loading every run of a big cassette through PyYAML costs ~0.3 ms a run even with libyaml, most
of it in building and resolving a Python node per scalar. The writer emits a small subset of
YAML (`_layout`): block mappings and sequences indented by two, one-line plain, single- or
double-quoted scalars, one-line flow lists and mappings, and literal blocks for multi-line text.
`read_run` reads exactly that subset, line by line, and gives the same plain data as
`_yaml_loader.load_yaml` would: plain scalars are resolved by the safe loader's own rules, and a
value the loader would refuse or build differently is never guessed at. Whatever falls outside
the subset (a tag, an anchor, a comment, a tab, a blank line outside a literal block, a
duplicate key, an unusual number...) makes it give up with `None`, and the caller parses that
run with the safe loader, which also names any problem. So this module never reports errors: it
is a shortcut that is taken only where its result is certain.
"""

from __future__ import annotations

import math
import re
from typing import Any, TypeAlias

from agentkit_testing._cassette._parse._limits import has_lone_surrogate
from agentkit_testing._cassette._parse._yaml_loader import SAFE_LOADER

__all__ = ("read_run",)

_PREFIX = "tag:yaml.org,2002:"
_RULES: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    key: list(rules) for key, rules in SAFE_LOADER.yaml_implicit_resolvers.items() if key is not None
}
"""The safe loader's implicit rules by a plain scalar's first character: which tag it resolves to."""
_TEXT_TAGS = frozenset({_PREFIX + "str", _PREFIX + "timestamp", _PREFIX + "value"})
"""Tags the cassette loader reads as text (`_yaml_loader` keeps unquoted dates and `=` as text)."""
_INT, _NULL, _BOOL, _FLOAT = (_PREFIX + name for name in ("int", "null", "bool", "float"))
_NULLS = frozenset({"~", "null", "Null", "NULL"})
_BOOLEANS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_SIMPLE_FLOAT = re.compile(r"[-+]?[0-9]+\.[0-9]*(?:[eE][-+][0-9]+)?")
_MAX_DIGITS = 100
"""Longer integers are left to the loader, which owns the digit limit."""
_MAX_KEY = 500
"""Longer keys are left to the loader (YAML refuses an implicit key of over 1,024 characters)."""
_MAX_DEPTH = 50
"""Deeper nesting is left to the loader, which owns the depth limit (100)."""

_OUTSIDE = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
"""Characters the subset leaves out: tabs, carriage returns and YAML's other line breaks, control
characters, the byte order mark, and whatever YAML refuses to read."""
_PLAIN_START = frozenset("-?:,[]{}#&*!|>'\"%@`= ")
"""First characters of a block plain scalar that the subset does not read ('-' before a digit aside)."""
_DOUBLE_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_SINGLE_QUOTED = re.compile(r"'((?:[^']|'')*)'")
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)")
_ESCAPES = {
    "0": "\0",
    "a": "\x07",
    "b": "\x08",
    "t": "\t",
    "n": "\n",
    "v": "\x0b",
    "f": "\x0c",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_FLOW_PLAIN = re.compile(r"(?:[^ ,\[\]{}:#?'\"&*!|>%@`=\-]|-(?=[0-9]))[^,\[\]{}:#?]*")
"""A plain scalar in a flow collection: no flow indicator, colon or comment sign anywhere in it."""
_LITERAL_HEADERS = {"|": "clip", "|-": "strip", "|+": "keep"}


_SHARED, _LIST, _DICT, _BLOCK = range(4)
"""How a remembered line's value is handed out: as it is (a scalar), copied (a flow list or
mapping of scalars), or read from the lines below (a bare `key:`)."""
LinesRead: TypeAlias = dict[str, tuple[Any, Any, int]]
"""`key: value` and `key:` lines by their text (indentation aside): the key, the value, how to hand it out."""

_MAX_LINES_READ = 200_000
"""Lines remembered at most, in case every line of a huge file is different."""
_SCALARS = (str, int, float, bool, type(None))


def _remember(lines_read: LinesRead, content: str, key: Any, value: Any) -> None:
    """Remember the line `content` read as `key: value`, if the value can be handed out again safely."""
    kind = type(value)
    if kind is list:
        if all(type(item) in _SCALARS for item in value):
            lines_read[content] = (key, value, _LIST)
    elif kind is dict:
        if all(type(item) in _SCALARS for item in value.values()):
            lines_read[content] = (key, value, _DICT)
    else:
        lines_read[content] = (key, value, _SHARED)


class _Unsupported(Exception):
    """The text uses YAML beyond the writer's subset: the safe loader reads it instead."""


def read_run(text: str, lines_read: LinesRead | None = None) -> dict[str, Any] | None:
    """The plain data of one run's text (`- id: ...` to its last line, newline included), or `None`.

    `None` means only that the text is not in the writer's subset; it may still be valid YAML.
    `lines_read`: the `key: value` lines read before (the runs of one file repeat many), to reuse.
    """
    if not text.endswith("\n") or _OUTSIDE.search(text) is not None:
        return None
    reader = _Reader(text, {} if lines_read is None else lines_read)
    try:
        items = reader.sequence(0, 2)
    except _Unsupported:
        return None
    if len(items) != 1 or reader.index != len(reader.lines) or not isinstance(items[0], dict):
        return None
    run: dict[str, Any] = items[0]
    return run


def _unsupported() -> _Unsupported:
    return _Unsupported()


class _Reader:
    """The lines of one run's text, read from `index` on as nested block collections."""

    def __init__(self, text: str, lines_read: LinesRead) -> None:
        self.lines_read = lines_read
        self.lines = text.split("\n")
        self.lines.pop()  # the text ends with a newline
        self.contents = [line.lstrip(" ") for line in self.lines]
        self.indents = [len(line) - len(content) for line, content in zip(self.lines, self.contents, strict=True)]
        self.index = 0

    def sequence(self, indent: int, depth: int) -> list[Any]:
        """The block sequence whose `- ` entries stand at column `indent`, from the current line."""
        if depth > _MAX_DEPTH:
            raise _unsupported()
        items: list[Any] = []
        contents, indents, count = self.contents, self.indents, len(self.lines)
        while self.index < count:
            at = indents[self.index]
            if at < indent:
                break
            if at > indent:
                raise _unsupported()  # a continuation line, or not YAML
            content = contents[self.index]
            if content == "-":
                self.index += 1
                items.append(self.block_value(indent, depth + 1, indentless=False))
            elif content.startswith("- "):
                items.append(self.entry(content[2:], indent + 2, depth + 1))
            else:
                break  # the next key of the mapping that holds an indentless sequence
        return items

    def entry(self, content: str, column: int, depth: int) -> Any:
        """The node that starts on the current line at `column` with `content`: a compact collection or a value."""
        first = content[:1]
        if first == "-" and (content == "-" or content[1] == " "):
            self._restart(content, column)
            return self.sequence(column, depth)
        if first not in ("[", "{", "|", "") and (content in self.lines_read or self._key(content) is not None):
            self._restart(content, column)
            return self.mapping(column, depth)
        self.index += 1
        return self.value(content, column - 2, depth)

    def _restart(self, content: str, column: int) -> None:
        """Read the rest of the current line as a line of its own at `column` (`- - a`, `- key: a`)."""
        self.contents[self.index] = content
        self.indents[self.index] = column

    def mapping(self, indent: int, depth: int) -> dict[Any, Any]:
        """The block mapping whose keys stand at column `indent`, from the current line."""
        if depth > _MAX_DEPTH:
            raise _unsupported()
        mapping: dict[Any, Any] = {}
        pairs = 0
        contents, indents, count, lines_read = self.contents, self.indents, len(self.lines), self.lines_read
        index = self.index  # kept in a local in this hot loop; `self.index` is set before any call that reads on
        while index < count:
            at = indents[index]
            if at != indent:
                if at < indent:
                    break
                raise _unsupported()
            content = contents[index]
            known = lines_read.get(content)
            if known is not None:
                key, value, shape = known
                index += 1
                if shape is _SHARED:
                    mapping[key] = value
                elif shape is _BLOCK:
                    self.index = index
                    mapping[key] = self.block_value(indent, depth + 1, indentless=True)
                    index = self.index
                else:
                    mapping[key] = list(value) if shape is _LIST else dict(value)
                pairs += 1
                continue
            if content[:2] == "- " or content == "-":
                break  # a sequence entry where a key belongs: the caller decides
            split = self._key(content)
            if split is None:
                raise _unsupported()
            key, rest = split
            self.index = index + 1
            if rest is None:
                lines_read[content] = (key, None, _BLOCK)
                mapping[key] = self.block_value(indent, depth + 1, indentless=True)
            else:
                value = mapping[key] = self.value(rest, indent, depth + 1)
                if rest[0] != "|" and len(lines_read) < _MAX_LINES_READ:
                    _remember(lines_read, content, key, value)
            index = self.index
            pairs += 1
        self.index = index
        if len(mapping) != pairs:
            raise _unsupported()  # a duplicate key: the loader names it
        return mapping

    def block_value(self, parent: int, depth: int, *, indentless: bool) -> Any:
        """The value of a `key:` or `-` with nothing after it: a collection on the next lines, else null."""
        if self.index >= len(self.lines):
            return None
        at, content = self.indents[self.index], self.contents[self.index]
        if content == "" or content[0] == "#":
            raise _unsupported()
        is_entry = content[:2] == "- " or content == "-"
        if at > parent:
            if is_entry:
                return self.sequence(at, depth)
            if self._key(content) is None:
                raise _unsupported()  # a multi-line scalar
            return self.mapping(at, depth)
        if at == parent and indentless and is_entry:
            return self.sequence(at, depth)
        return None

    def _key(self, content: str) -> tuple[Any, str | None] | None:
        """(key, the text after `: ` or `None` after a bare `key:`) if `content` is a `key: ...` line."""
        if not content:
            return None
        first = content[0]
        if first == "'" or first == '"':
            match = (_SINGLE_QUOTED if first == "'" else _DOUBLE_QUOTED).match(content)
            if match is None:
                raise _unsupported()
            end = match.end()
            if content[end : end + 1] != ":":
                return None
            if end > _MAX_KEY:
                raise _unsupported()
            key: Any = _single(match.group(1)) if first == "'" else _double(match.group(1))
            rest = content[end + 1 :]
        else:
            colon = content.find(": ")
            if colon < 0:
                if not content.endswith(":"):
                    return None
                colon, rest = len(content) - 1, ""
            else:
                rest = content[colon + 1 :]
            if colon > _MAX_KEY:
                raise _unsupported()  # YAML reads keys of at most 1,024 characters
            key = _plain(content[:colon])
        if rest == "":
            return key, None
        if rest[0] != " " or rest[1:2] in (" ", ""):
            raise _unsupported()
        return key, rest[1:]

    def value(self, text: str, column: int, depth: int) -> Any:
        """The scalar or flow collection `text` of a node whose key or dash stands at `column`."""
        if not text:
            raise _unsupported()
        first = text[0]
        if first == "'":
            match = _SINGLE_QUOTED.fullmatch(text)
            if match is None:
                raise _unsupported()
            return _single(match.group(1))
        if first == '"':
            match = _DOUBLE_QUOTED.fullmatch(text)
            if match is None:
                raise _unsupported()
            return _double(match.group(1))
        if first == "[" or first == "{":
            flow = _Flow(text)
            found = flow.node(depth)
            if flow.position != len(text):
                raise _unsupported()
            return found
        if first == "|":
            return self.literal(text, column + 1)
        return _plain(text)

    def literal(self, header: str, least: int) -> str:
        """A literal block (`|`, `|-`, `|+`) on the lines below, indented at least `least` columns."""
        chomping = _LITERAL_HEADERS.get(header)
        if chomping is None or self.index >= len(self.lines):
            raise _unsupported()  # an indentation indicator, a comment: the loader reads it
        indent = self.indents[self.index]
        if indent < least or self.contents[self.index] == "":
            raise _unsupported()
        parts: list[str] = []
        lines, contents, indents, count = self.lines, self.contents, self.indents, len(self.lines)
        position = self.index
        while position < count:
            if contents[position] == "":
                if len(lines[position]) > indent:
                    raise _unsupported()  # spaces past the indentation on an empty line
                parts.append("")
            elif indents[position] >= indent:
                parts.append(lines[position][indent:])
            else:
                break
            position += 1
        self.index = position
        trailing = 0
        while parts[-1 - trailing] == "":
            trailing += 1
        body = "\n".join(parts[: len(parts) - trailing])
        if chomping == "strip":
            return body
        return body + "\n" * (trailing + 1 if chomping == "keep" else 1)


class _Flow:
    """A one-line flow collection (`[a, b]`, `{a: 1, b: [c]}`) read from `position` on."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0

    def node(self, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise _unsupported()
        text = self.text
        first = text[self.position : self.position + 1]
        if first == "[":
            items: list[Any] = []
            self.position += 1
            if self._take("]"):
                return items
            while True:
                items.append(self.node(depth + 1))
                if self._take("]"):
                    return items
                self._separator()
        if first == "{":
            mapping: dict[Any, Any] = {}
            pairs = 0
            self.position += 1
            if self._take("}"):
                return mapping
            while True:
                start = self.position
                key = self.scalar()
                if self.position - start > _MAX_KEY:
                    raise _unsupported()
                if not text.startswith(": ", self.position):
                    raise _unsupported()
                self.position += 2
                mapping[key] = self.node(depth + 1)
                pairs += 1
                if self._take("}"):
                    if len(mapping) != pairs:
                        raise _unsupported()
                    return mapping
                self._separator()
        return self.scalar()

    def scalar(self) -> Any:
        text, position = self.text, self.position
        first = text[position : position + 1]
        if first == "'" or first == '"':
            match = (_SINGLE_QUOTED if first == "'" else _DOUBLE_QUOTED).match(text, position)
            if match is None:
                raise _unsupported()
            self.position = match.end()
            return _single(match.group(1)) if first == "'" else _double(match.group(1))
        match = _FLOW_PLAIN.match(text, position)
        if match is None or text[match.end() - 1] == " ":
            raise _unsupported()  # trailing spaces, or no scalar here
        self.position = match.end()
        return _resolved(match.group())

    def _take(self, closing: str) -> bool:
        if self.text.startswith(closing, self.position):
            self.position += 1
            return True
        return False

    def _separator(self) -> None:
        if not self.text.startswith(", ", self.position) or self.text[self.position + 2 : self.position + 3] in (
            " ",
            "]",
            "}",
            "",
        ):
            raise _unsupported()
        self.position += 2


def _single(inner: str) -> str:
    """The text of a single-quoted scalar's inside (`''` is one quote)."""
    if "'" in inner:
        if "'" in inner.replace("''", ""):
            raise _unsupported()
        return inner.replace("''", "'")
    return inner


def _double(inner: str) -> str:
    """The text of a double-quoted scalar's inside, its escapes decoded."""
    if "\\" not in inner:
        return inner
    decoded = _ESCAPE.sub(_unescape, inner)
    if has_lone_surrogate(decoded):
        raise _unsupported()  # the loader refuses it, naming the place
    return decoded


def _unescape(match: re.Match[str]) -> str:
    escape = match.group(1)
    if len(escape) == 1:
        replacement = _ESCAPES.get(escape)
        if replacement is None:
            raise _unsupported()
        return replacement
    code = int(escape[1:], 16)
    if code > 0x10FFFF:
        raise _unsupported()
    return chr(code)


def _plain(text: str) -> Any:
    """A plain scalar of block context, resolved; only forms whose reading is certain."""
    first = text[:1]
    if (
        first == ""
        or (first in _PLAIN_START and not (first == "-" and text[1:2].isdigit()))
        or " #" in text
        or ": " in text
        or text.endswith((" ", ":"))
    ):
        raise _unsupported()
    return _resolved(text)


def _resolved(text: str) -> Any:
    """A plain scalar's value by the safe loader's rules, as `_yaml_loader` builds it."""
    rules = _RULES.get(text[0])
    if rules is None:
        return text
    tag = next((tag for tag, pattern in rules if pattern.match(text)), None)
    if tag is None:
        return text
    if tag in _TEXT_TAGS:
        return text
    if tag == _INT:
        if len(text) <= _MAX_DIGITS and _DECIMAL.fullmatch(text):
            return int(text)
    elif tag == _NULL:
        if text in _NULLS:
            return None
    elif tag == _BOOL:
        if text in _BOOLEANS:
            return _BOOLEANS[text]
    elif tag == _FLOAT and _SIMPLE_FLOAT.fullmatch(text):
        number = float(text)
        if math.isfinite(number):
            return number
    raise _unsupported()
