"""Cassette file text: safe YAML (or JSON) parsing and readable dumping (atomic writes: `_cassette_write`).

Cassettes are untrusted input: YAML is loaded with `yaml.CSafeLoader` when libyaml is present,
else `yaml.SafeLoader`, which build only plain data (no Python objects); aliases are refused.
This is the only module of the harness that imports `yaml`.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, TypeAlias

import yaml

from agentkit_testing._exceptions import CassetteFormatError

__all__ = (
    "FileFormat",
    "FlowDict",
    "FlowList",
    "dump_document",
    "file_format_for",
    "find_line",
    "parse_document",
    "to_yaml_text",
)

FileFormat: TypeAlias = Literal["yaml", "json"]

_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SafeDumperBase: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_MERGE = "tag:yaml.org,2002:merge"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_BOOLEANS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")


class _CassetteLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """The safe loader, with a faster resolver and constructor for the plain data a cassette holds.

    Parsing is the safe loader's own. Tags are resolved by its resolver, except that plain
    scalars whose first character no implicit rule looks at are strings without running the
    rules. Common scalars (strings, null, booleans, decimal integers) are built directly and
    anything else is handed to the safe constructor. Aliases of mappings and lists are refused:
    cassettes never need them, and expanding them is how a small hostile file becomes huge.
    """

    _rule_characters = frozenset(key for key in _SafeLoader.yaml_implicit_resolvers if key is not None)
    _has_wildcard_rules = None in _SafeLoader.yaml_implicit_resolvers

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> str:
        if (
            kind is yaml.ScalarNode
            and not self._has_wildcard_rules
            and not self.yaml_path_resolvers
            and (not implicit[0] or (value and value[0] not in self._rule_characters))
        ):
            return _STR
        tag: str = super().resolve(kind, value, implicit)
        return tag

    def construct_document(self, node: yaml.Node) -> Any:
        return self._plain(node, set())

    def _plain(self, node: yaml.Node, seen: set[int]) -> Any:
        kind = type(node)
        if kind is yaml.ScalarNode:
            tag, value = node.tag, node.value
            if tag == _STR:
                return value
            if tag == _NULL:
                return None
            if tag == _BOOL and value in _BOOLEANS:
                return _BOOLEANS[value]
            if tag == _INT and _DECIMAL.fullmatch(value):
                return int(value)
            return self.construct_object(node, deep=True)
        if id(node) in seen:
            raise yaml.constructor.ConstructorError(
                None, None, "aliases (*name) of mappings and lists are not allowed in cassettes", node.start_mark
            )
        seen.add(id(node))
        if kind is yaml.SequenceNode and node.tag == _SEQ:
            return [self._plain(item, seen) for item in node.value]
        if kind is yaml.MappingNode and node.tag == _MAP:
            mapping: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE:
                    return self.construct_object(node, deep=True)
                key = self._plain(key_node, seen)
                if not isinstance(key, str | int | float | bool | None):
                    raise yaml.constructor.ConstructorError(
                        None, None, f"mapping keys must be scalars, found {type(key).__name__}", key_node.start_mark
                    )
                mapping[key] = self._plain(value_node, seen)
            return mapping
        return self.construct_object(node, deep=True)


class FlowList(list[Any]):
    """A list written on one line in YAML (`[a, b]`): node kinds, tool names."""


class FlowDict(dict[str, Any]):
    """A mapping written on one line in YAML (`{a: 1, b: 2}`): usage, stream chunks."""


class _Dumper(_SafeDumperBase):  # type: ignore[misc, valid-type]
    """Safe dumper: literal blocks for multi-line text, flow style for `FlowList`/`FlowDict`, no aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


def _represent_flow_list(dumper: yaml.SafeDumper, value: FlowList) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


_Dumper.add_representer(str, _represent_str)


def _represent_flow_dict(dumper: yaml.SafeDumper, value: FlowDict) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=True)


_Dumper.add_representer(FlowList, _represent_flow_list)
_Dumper.add_representer(FlowDict, _represent_flow_dict)


def file_format_for(path: Path) -> FileFormat:
    """JSON for `.json` files, YAML for anything else."""
    return "json" if path.suffix.lower() == ".json" else "yaml"


def to_yaml_text(value: Any) -> str:
    """`value` (plain data) as block-style YAML, for diffs and error messages."""
    text: str = yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1_000_000)
    return text.removesuffix("...\n")


def dump_document(document: dict[str, Any], file_format: FileFormat, comment: str | None) -> bytes:
    """The bytes of a cassette file holding `document`, with `comment` as its header."""
    if file_format == "json":
        body = dict(document)
        if comment:
            body = {"comment": comment, **body}
        return (json.dumps(body, indent=2, ensure_ascii=False, default=_json_bytes) + "\n").encode()
    header = "".join(f"# {line}".rstrip() + "\n" for line in comment.splitlines()) if comment else ""
    return (header + to_yaml_text(document)).encode()


def _json_bytes(value: Any) -> str:
    """Bytes in a JSON cassette (a prompt's binary content) as base64 text; YAML has `!!binary` for them."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a large tree of new objects.

    Loading a big cassette creates hundreds of thousands of containers; each collection pass
    rescans them all, which made loading 1,000 runs five times slower. None of them is garbage.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_document(data: bytes, path: Path, file_format: FileFormat) -> tuple[dict[str, Any], str | None]:
    """The top-level mapping of a cassette file, and its header comment."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CassetteFormatError(
            f"{path}:{line}: cassette is not UTF-8 text (byte {error.start}); is it corrupt?", path=path, line=line
        ) from None
    comment: str | None
    if file_format == "json":
        try:
            with _no_gc():
                document = json.loads(text)
        except json.JSONDecodeError as error:
            raise CassetteFormatError(
                f"{path}:{error.lineno}: cassette is not valid JSON ({error.msg}, column {error.colno}); "
                "is it truncated or corrupt?",
                path=path,
                line=error.lineno,
            ) from None
        comment = document.pop("comment", None) if isinstance(document, dict) else None
    else:
        comment = _header_comment(text)
        try:
            with _no_gc():
                document = yaml.load(text, Loader=_CassetteLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            error_line = mark.line + 1 if mark is not None else None
            where = f"{path}:{error_line}" if error_line is not None else str(path)
            raise CassetteFormatError(
                f"{where}: cassette is not valid YAML ({error.problem or error.context}); is it truncated or corrupt?",
                path=path,
                line=error_line,
            ) from None
        except yaml.YAMLError as error:
            raise CassetteFormatError(f"{path}: cassette is not valid YAML ({error})", path=path) from None
        except RecursionError:
            raise CassetteFormatError(f"{path}: cassette is nested too deeply to be a cassette", path=path) from None
    if document is None:
        raise CassetteFormatError(f"{path}: cassette is empty (truncated?)", path=path, line=1)
    if not isinstance(document, dict):
        raise CassetteFormatError(
            f"{path}:1: a cassette must be a mapping with 'format', 'version' and 'runs', "
            f"got a {type(document).__name__}",
            path=path,
            line=1,
        )
    return document, comment if isinstance(comment, str) else None


def _header_comment(text: str) -> str | None:
    lines: list[str] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[2:] if line.startswith("# ") else line[1:])
    return "\n".join(lines) if lines else None


def find_line(data: bytes, location: Sequence[str | int]) -> tuple[int | None, list[str | int]]:
    """The 1-based line of the deepest node of the file found along `location`, and the path to it.

    Elements of `location` that are not keys or indices in the file (e.g. union tags from a
    validator) are skipped. Only called on the error path, so it may re-parse the file.
    """
    try:
        node = yaml.compose(data, Loader=_SafeLoader)
    except yaml.YAMLError:
        return None, []
    found: list[str | int] = []
    line = node.start_mark.line + 1 if node is not None else None
    for element in location:
        child = _child(node, element)
        if child is None:
            continue
        node = child
        found.append(element)
        line = node.start_mark.line + 1
    return line, found


def _child(node: yaml.Node | None, element: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == element and isinstance(value, yaml.Node):
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(element, int) and 0 <= element < len(node.value):
        child = node.value[element]
        return child if isinstance(child, yaml.Node) else None
    return None
