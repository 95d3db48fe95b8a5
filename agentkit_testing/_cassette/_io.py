"""Cassette file text: safe YAML (or JSON) parsing and readable dumping (atomic writes: `_write`).

Cassettes are untrusted input: the loaders (`_yaml_loader`, `_json_loader`)
build only plain data and refuse tags, aliases, merge keys, duplicate keys and whatever exceeds
the limits of `_limits`. With the YAML loader, this is the only module of the harness
that imports `yaml`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, TypeAlias

import yaml

from agentkit_testing._cassette._parse._json_loader import load_json
from agentkit_testing._cassette._parse._limits import MAX_CASSETTE_BYTES
from agentkit_testing._cassette._parse._yaml_loader import SAFE_LOADER, load_yaml
from agentkit_testing._exceptions import CassetteFormatError

__all__ = (
    "FileFormat",
    "FlowDict",
    "FlowList",
    "cassette_text",
    "dump_document",
    "dump_header",
    "file_format_for",
    "find_line",
    "header_comment",
    "parse_document",
    "to_yaml_text",
)

FileFormat: TypeAlias = Literal["yaml", "json"]

_SafeDumperBase: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


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


def dump_header(document: dict[str, Any], comment: str | None) -> str:
    """The YAML text before the first run: `comment`, then `document`'s keys, then the `runs:` line.

    With the runs' own texts (`to_yaml_text([run])` each) and the end marker after it, it makes
    the same bytes as `dump_document` of the whole document.
    """
    header = "".join(f"# {line}".rstrip() + "\n" for line in comment.splitlines()) if comment else ""
    return header + (to_yaml_text(document) if document else "") + "runs:\n"


def _json_bytes(value: Any) -> str:
    """Bytes in a JSON cassette (a prompt's binary content) as base64 text; YAML has `!!binary` for them."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def parse_document(data: bytes, path: Path, file_format: FileFormat) -> tuple[dict[str, Any], str | None]:
    """The top-level mapping of a cassette file, and its header comment.

    `CassetteFormatError` naming the file, and the line and field where known, for anything a
    cassette may not hold (see `_yaml_loader`, `_json_loader`, `_limits`).
    """
    text = cassette_text(data, path)
    comment: str | None
    if file_format == "json":
        document = load_json(text, path)
        comment = document.pop("comment", None) if isinstance(document, dict) else None
    else:
        comment = header_comment(text)
        document = load_yaml(text, path)
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


def cassette_text(data: bytes, path: Path) -> str:
    """The text of a cassette file; `CassetteFormatError` if it is too big or not UTF-8."""
    if len(data) > MAX_CASSETTE_BYTES:
        raise CassetteFormatError(
            f"{path}: cassette is {len(data):,} bytes, over the {MAX_CASSETTE_BYTES:,}-byte limit; "
            "split its runs over several cassettes",
            path=path,
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CassetteFormatError(
            f"{path}:{line}: cassette is not UTF-8 text (byte {error.start}); is it corrupt?", path=path, line=line
        ) from None
    return text


def header_comment(text: str) -> str | None:
    """The comment lines at the top of a YAML cassette, without their `# `."""
    end = 0
    while text.startswith("#", end):  # only the comment block is split into lines, not a big file
        found = text.find("\n", end)
        end = len(text) if found < 0 else found + 1
    lines: list[str] = []
    for line in text[:end].splitlines():
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
        node = yaml.compose(data, Loader=SAFE_LOADER)
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
