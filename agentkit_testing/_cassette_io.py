"""Reading and writing cassette files: safe YAML (or JSON) parsing, readable dumping, atomic writes.

Cassettes are untrusted input: YAML is loaded with `yaml.CSafeLoader` when libyaml is present,
else `yaml.SafeLoader`, which build only plain data (no Python objects). This is the only
module of the harness that imports `yaml`.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, TypeAlias

import yaml

from agentkit_testing._exceptions import CassetteFormatError

__all__ = (
    "FileFormat",
    "FlowList",
    "atomic_write",
    "dump_document",
    "file_format_for",
    "find_line",
    "parse_document",
    "to_yaml_text",
)

FileFormat: TypeAlias = Literal["yaml", "json"]

_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SafeDumperBase: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class FlowList(list[Any]):
    """A list written on one line in YAML (`[a, b]`): node kinds, tool names."""


class _Dumper(_SafeDumperBase):  # type: ignore[misc, valid-type]
    """Safe dumper: literal blocks for multi-line text, flow style for `FlowList`, no aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


def _represent_flow_list(dumper: yaml.SafeDumper, value: FlowList) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(FlowList, _represent_flow_list)


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
        return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode()
    header = "".join(f"# {line}".rstrip() + "\n" for line in comment.splitlines()) if comment else ""
    return (header + to_yaml_text(document)).encode()


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
                document = yaml.load(text, Loader=_SafeLoader)
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


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never a mix.

    The bytes go to a temporary file in the same directory, which is flushed, fsynced and then
    renamed over `path`; an interruption at any point leaves the previous file as it was.
    """
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; not every platform can open a directory, which is fine."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
