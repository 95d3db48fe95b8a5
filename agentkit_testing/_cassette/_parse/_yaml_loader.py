"""The YAML loader of cassettes: plain data only; no code tags, aliases or merge keys; bounded depth and numbers.

Parsing is PyYAML's safe loader (`yaml.CSafeLoader` when libyaml is present, else
`yaml.SafeLoader`). Before anything is built, the composed node graph is checked: a node reached
twice (an alias), a merge key (`<<`), a tag other than the plain data tags, or nesting deeper
than `MAX_DEPTH` is refused, so a small file can never expand into a huge one. Scalars are then
built directly (strings, null, booleans, integers, finite floats, and `!!binary` bytes as the data
of a binary prompt item); unquoted dates and `=` stay text, as in YAML 1.2 and JSON. Duplicate
keys are refused.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import yaml

from agentkit_testing._cassette._parse._limits import (
    MAX_DEPTH,
    MAX_INTEGER_DIGITS,
    has_lone_surrogate,
    may_hold_surrogates,
    no_gc,
    refuse,
    shorten,
)

__all__ = ("SAFE_LOADER", "load_yaml")

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when it is installed, else PyYAML's own."""
_C_LOADER = SAFE_LOADER is not yaml.SafeLoader

_PREFIX = "tag:yaml.org,2002:"
_STR, _NULL, _BOOL, _INT, _FLOAT, _BINARY = (
    _PREFIX + name for name in ("str", "null", "bool", "int", "float", "binary")
)
_MERGE, _SEQ, _MAP = _PREFIX + "merge", _PREFIX + "seq", _PREFIX + "map"
_AS_TEXT = frozenset({_PREFIX + "timestamp", _PREFIX + "value"})
"""Tags the YAML 1.1 resolver gives to plain scalars that JSON and YAML 1.2 read as text."""
_SCALAR_TAGS = frozenset({_STR, _NULL, _BOOL, _INT, _FLOAT, _BINARY})
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLEANS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_INTEGER_LIMIT = 10**MAX_INTEGER_DIGITS
_FORMS: dict[str, re.Pattern[str]] = {
    tag: pattern for rules in SAFE_LOADER.yaml_implicit_resolvers.values() for tag, pattern in rules
}
"""The resolver's pattern of each tag: what an `!!int` or `!!float` value must look like (YAML 1.1)."""
_KEY_TYPES = (str, int, float, bool, type(None))
_TOO_DEEP = f"lists and mappings nest more than {MAX_DEPTH} levels deep; a cassette never does: is it corrupt?"
_SURROGATE = "a string holds a lone surrogate escape (such as \\ud800), which is no character"


def _line(mark: Any) -> int | None:
    """The 1-based line of a mark, if there is one."""
    return mark.line + 1 if mark is not None else None


def _foreign(node: yaml.Node) -> bool:
    """Whether the node's tag is not one of plain data."""
    if isinstance(node, yaml.ScalarNode):
        return node.tag not in _SCALAR_TAGS
    return node.tag != (_MAP if isinstance(node, yaml.MappingNode) else _SEQ)


def _shown(tag: str) -> str:
    return "!!" + tag.removeprefix(_PREFIX) if tag.startswith(_PREFIX) else tag


class _CassetteLoader(SAFE_LOADER):  # type: ignore[misc, valid-type]
    """The safe loader, checking the node graph before construction and building plain data only.

    Parsing and composing are the safe loader's own. Plain scalars whose first character no
    implicit rule looks at resolve to strings without running the rules.
    """

    _rule_characters = frozenset(key for key in SAFE_LOADER.yaml_implicit_resolvers if key is not None)
    _plain_rules = None not in SAFE_LOADER.yaml_implicit_resolvers and not SAFE_LOADER.yaml_path_resolvers
    """Whether a scalar's first character tells which implicit rules may apply (true of the safe loader)."""

    def __init__(self, text: str, path: Path) -> None:
        super().__init__(text)
        self.text = text
        self.path = path
        self.check_surrogates = may_hold_surrogates(text)
        self.root: yaml.Node | None = None
        self.resolved = 0
        """Nodes composed without an explicit tag: each such node is resolved once, an alias never."""
        self.merge_resolved = False
        self.binary_nodes: list[yaml.Node] = []

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> str:
        self.resolved += 1
        if (
            kind is yaml.ScalarNode
            and self._plain_rules
            and (not implicit[0] or (value and value[0] not in self._rule_characters))
        ):
            return _STR
        tag: str = super().resolve(kind, value, implicit)
        if tag == _MERGE:
            self.merge_resolved = True
        return _STR if tag in _AS_TEXT else tag

    def get_single_node(self) -> yaml.Node | None:
        node: yaml.Node | None = super().get_single_node()
        if node is not None:
            self.root = node
            self._check_graph(node)
        return node

    def _check_graph(self, root: yaml.Node) -> None:
        """Refuse aliases, merge keys, foreign tags and deep nesting, before anything is built.

        The walk visits collections only, level by level, and counts the references to nodes.
        When every node was resolved once (no explicit tag, no alias) and no `<<` resolved to a
        merge key, the count matches and the scalars need no visit; otherwise every node is
        checked (`_check_every_node`), which names the problem.
        """
        if type(root) is yaml.ScalarNode:
            self._check_every_node(root)
            return
        scalar, mapping = yaml.ScalarNode, yaml.MappingNode
        seen: set[int] = set()
        add = seen.add
        references, depth = 1, 1
        level = [root]
        while level:
            if depth > MAX_DEPTH:
                self._refuse_graph()
            below: list[yaml.Node] = []
            push = below.append
            for node in level:
                if id(node) in seen:
                    self._refuse_graph()
                add(id(node))
                value = node.value
                if type(node) is mapping:
                    if node.tag != _MAP:
                        self._refuse_graph()
                    references += 2 * len(value)
                    for key, item in value:
                        if type(item) is not scalar:
                            push(item)
                        if type(key) is not scalar:
                            push(key)
                else:
                    if node.tag != _SEQ:
                        self._refuse_graph()
                    references += len(value)
                    below += [item for item in value if type(item) is not scalar]
            level = below
            depth += 1
        if references != self.resolved or self.merge_resolved:
            self._check_every_node(root)

    def _check_every_node(self, root: yaml.Node) -> None:
        """The check of `_check_graph`, visiting every node: for files with explicit tags or problems.

        Collections are checked for a second visit as they are reached, so the walk is linear
        even for an alias bomb; scalars are counted, and a scalar reached twice shows at the end.
        The walk goes in no particular order; the error names the first problem of the file.
        """
        scalar, mapping, scalar_tags = yaml.ScalarNode, yaml.MappingNode, _SCALAR_TAGS
        seen: set[int] = set()
        add = seen.add
        references = 1
        stack: list[tuple[yaml.Node, int]] = [(root, 1)]
        pop, push = stack.pop, stack.append
        while stack:
            node, depth = pop()
            kind = type(node)
            if kind is scalar:
                if node.tag not in scalar_tags:
                    self._refuse_graph()
                add(id(node))
                continue
            if id(node) in seen:
                self._refuse_graph()
            add(id(node))
            if depth > MAX_DEPTH:
                self._refuse_graph()
            depth += 1
            if kind is mapping:
                if node.tag != _MAP:
                    self._refuse_graph()
                references += 2 * len(node.value)
                for key, value in node.value:
                    if type(key) is scalar:
                        if key.tag not in scalar_tags:
                            self._refuse_graph()
                        add(id(key))
                    else:
                        push((key, depth))
                    if type(value) is scalar:
                        if value.tag not in scalar_tags:
                            self._refuse_graph()
                        add(id(value))
                    else:
                        push((value, depth))
            else:
                if node.tag != _SEQ:
                    self._refuse_graph()
                references += len(node.value)
                for item in node.value:
                    if type(item) is scalar:
                        if item.tag not in scalar_tags:
                            self._refuse_graph()
                        add(id(item))
                    else:
                        push((item, depth))
        if len(seen) != references:
            self._refuse_graph()

    def construct_document(self, node: yaml.Node) -> Any:
        data = self._plain(node)
        if self.binary_nodes:
            self._check_binary_places()
        # Free the node graph now, while the garbage collector is paused (see `no_gc`): kept until
        # the loader goes, its objects would be scanned by the next collection for nothing.
        self.root, self.binary_nodes = None, []
        return data

    def _check_binary_places(self) -> None:
        """Refuse `!!binary` data anywhere but where the writer puts it: a binary prompt item's `data`.

        Elsewhere (a result, a tool return) the bytes would be written back as text: not a round trip.
        """
        allowed: set[int] = set()
        for node, _, _ in self._walk():
            if isinstance(node, yaml.MappingNode):
                fields = {key.value: value for key, value in node.value if isinstance(key, yaml.ScalarNode)}
                kind = fields.get("kind")
                if isinstance(kind, yaml.ScalarNode) and kind.value == "binary" and "data" in fields:
                    allowed.add(id(fields["data"]))
        for node in self.binary_nodes:
            if id(node) not in allowed:
                self._refuse(
                    node,
                    "!!binary data is only read as the 'data' of a prompt item of kind 'binary'; here it could "
                    "not be written back: write text instead",
                )

    def _plain(self, node: yaml.Node) -> Any:
        """The data of a checked node: a tree, at most `MAX_DEPTH` deep, of plain tags only."""
        kind = type(node)
        if kind is yaml.ScalarNode:
            tag, value = node.tag, node.value
            if tag == _STR:
                if self.check_surrogates and has_lone_surrogate(value):
                    self._refuse(node, _SURROGATE)
                return value
            if tag == _INT and len(value) <= MAX_INTEGER_DIGITS and _DECIMAL.fullmatch(value):
                return int(value)
            if tag == _NULL and value in _NULLS:
                return None
            if tag == _BOOL and value in _BOOLEANS:
                return _BOOLEANS[value]
            return self._other_scalar(node)
        if kind is yaml.SequenceNode:
            return [self._plain(item) for item in node.value]
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self._plain(key_node)
            if not isinstance(key, _KEY_TYPES):
                kind_name = type(key).__name__
                self._refuse(key_node, f"a mapping key must be a string, number, boolean or null, not {kind_name}")
            mapping[key] = self._plain(value_node)
        if len(mapping) != len(node.value):
            self._refuse_duplicate_key(node)
        return mapping

    def _other_scalar(self, node: yaml.Node) -> Any:
        tag, value = node.tag, node.value
        if tag == _INT:
            return self._integer(node)
        if tag == _FLOAT:
            try:
                if not (_FORMS[_FLOAT].match(value) or _DECIMAL.fullmatch(value)):
                    raise ValueError(value)
                number: float = self.construct_yaml_float(node)
            except ValueError:
                self._refuse(node, f"{shorten(value)} is not a number (tag !!float)")
            if not math.isfinite(number):
                self._refuse(
                    node, f"{shorten(value)} is not a finite number: cassettes hold JSON numbers (no NaN/infinity)"
                )
            return number
        if tag == _BOOL and value.lower() in self.bool_values:
            return self.bool_values[value.lower()]
        if tag == _BINARY:
            self.binary_nodes.append(node)
            try:
                return base64.b64decode("".join(value.split()), validate=True)
            except (binascii.Error, ValueError):  # ValueError: non-ASCII text
                self._refuse(node, "a !!binary value is not valid base64 text")
        self._refuse(node, f"{shorten(value)} is not a valid {_shown(tag)} value")

    def _integer(self, node: yaml.Node) -> int:
        digits = sum(character.isdigit() for character in node.value)
        if digits > 4 * MAX_INTEGER_DIGITS:  # refused before converting: conversion time grows with length
            self._refuse(node, f"an integer of {digits} digits; cassettes hold up to {MAX_INTEGER_DIGITS} digits")
        try:
            if not _FORMS[_INT].match(node.value):
                raise ValueError(node.value)
            number: int = self.construct_yaml_int(node)
        except ValueError:
            self._refuse(node, f"{shorten(node.value)} is not an integer (tag !!int)")
        if not -_INTEGER_LIMIT < number < _INTEGER_LIMIT:
            self._refuse(node, f"an integer of more than {MAX_INTEGER_DIGITS} digits; cassettes hold no larger ones")
        return number

    def _refuse(self, node: yaml.Node, detail: str, location: list[str | int] | None = None) -> NoReturn:
        place = self._location_of(node) if location is None else location
        refuse(self.path, node.start_mark.line + 1, place, detail)

    def _refuse_graph(self) -> NoReturn:
        """Name the first alias, foreign tag or too deep collection of the file, in document order."""
        for node, location, again in self._walk():
            if again:
                self._refuse_alias(location)
            if _foreign(node):
                self._refuse_tag(node, location)
            if not isinstance(node, yaml.ScalarNode) and len(location) >= MAX_DEPTH:
                self._refuse(node, _TOO_DEEP, location)
        raise AssertionError("the node graph check found a problem that the walk does not")  # pragma: no cover

    def _refuse_tag(self, node: yaml.Node, location: list[str | int]) -> NoReturn:
        tag = node.tag
        if tag == _MERGE:
            self._refuse(
                node,
                "YAML merge key '<<' refused: cassettes hold no merge keys, anchors or aliases; write the keys out "
                "in full (or quote '<<' to mean the text)",
                location,
            )
        if tag.startswith(_PREFIX + "python/"):
            detail = f"tag {_shown(tag)!r} refused: cassettes are data, never code; write plain data instead"
            self._refuse(node, detail, location)
        self._refuse(
            node,
            f"tag {_shown(tag)!r} refused: cassettes hold only strings, numbers, booleans, null, lists, mappings "
            "and !!binary data; write the value without the tag",
            location,
        )

    def _refuse_alias(self, location: list[str | int]) -> NoReturn:
        """Name the alias with its anchor and line (only the event stream has the line of an alias)."""
        anchor, line, anchored_line = "?", None, None
        for event in yaml.parse(self.text, Loader=SAFE_LOADER):
            if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
                if isinstance(event, yaml.AliasEvent):
                    anchor, line = event.anchor, _line(event.start_mark)
                    break
                anchored_line = anchored_line or _line(event.start_mark)
        refuse(
            self.path,
            line,
            location,
            f"YAML alias *{anchor} refused (anchor at line {anchored_line}): cassettes hold no anchors or aliases, "
            "which can make a small file expand without bound; write the value out in full",
        )

    def _refuse_duplicate_key(self, node: yaml.Node) -> NoReturn:
        first_lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self._plain(key_node)
            if key in first_lines:
                self._refuse(
                    key_node,
                    f"duplicate key {key!r} (first at line {first_lines[key]}): a mapping holds each key once; "
                    "remove or rename one",
                )
            first_lines[key] = key_node.start_mark.line + 1
        self._refuse(node, "duplicate keys in one mapping")  # pragma: no cover - the loop finds it

    def _walk(self) -> Iterator[tuple[yaml.Node, list[str | int], bool]]:
        """(node, place, reached before) in document order, not entering a node twice; for error messages."""
        seen: set[int] = set()
        stack: list[tuple[yaml.Node, list[str | int]]] = [(self.root, [])] if self.root is not None else []
        while stack:
            node, location = stack.pop()
            if id(node) in seen:
                yield node, location, True
                continue
            seen.add(id(node))
            yield node, location, False
            if isinstance(node, yaml.MappingNode):
                for key, value in reversed(node.value):
                    label = key.value if isinstance(key, yaml.ScalarNode) else "?"
                    stack.extend([(value, [*location, label]), (key, [*location, label])])
            elif isinstance(node, yaml.SequenceNode):
                stack.extend((item, [*location, index]) for index, item in reversed(list(enumerate(node.value))))

    def _location_of(self, target: yaml.Node) -> list[str | int]:
        return next((location for node, location, _ in self._walk() if node is target), [])


def load_yaml(text: str, path: Path) -> Any:
    """The plain data of a YAML cassette; `CassetteFormatError` naming the file and line if it cannot be."""
    loader: _CassetteLoader | None = None
    try:
        loader = _CassetteLoader(text, path)  # PyYAML's own reader checks the characters here
        with no_gc():
            return loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        _invalid(path, _line(error.problem_mark or error.context_mark), str(error.problem or error.context))
    except yaml.reader.ReaderError as error:
        # libyaml counts bytes of the UTF-8 text, PyYAML characters
        line = (text.encode()[: error.position].count(b"\n") if _C_LOADER else text[: error.position].count("\n")) + 1
        code = ord(error.character) if isinstance(error.character, str) else error.character
        _invalid(path, line, f"unacceptable character #x{code:04x}: {error.reason}")
    except yaml.YAMLError as error:
        _invalid(path, None, str(error))
    except RecursionError:  # the pure-Python composer recurses; libyaml stops at its own depth limit
        refuse(path, None, None, f"lists and mappings nest too deeply (more than {MAX_DEPTH} levels): is it corrupt?")
    finally:
        if loader is not None:
            loader.dispose()


def _invalid(path: Path, line: int | None, problem: str) -> NoReturn:
    refuse(path, line, None, f"cassette is not valid YAML ({problem}); is it truncated or corrupt?")
