"""Loading YAML cassettes run by run: runs indexed by identity at load, the rest of each decoded on first use.

A cassette in the writer's layout (`_layout`) is loaded without parsing its runs
whole: the header (format, version, tool catalog) is parsed and checked, and the identity lines
of every run (`id`, `agent`, `model`, `user_prompt`, ...) are parsed together in one small
document. Each run becomes a `LoadedRun`: a `RecordedRun` whose identity is known and whose
requests, tool calls, nodes and result are parsed, checked and validated from its own text the
first time they are read (replaying it, showing it, comparing it). Runs with a message history,
or whose text does not follow the writer's key order, are decoded at once. The same safe loader
and limits apply to every piece, and an error names the file, the line and the field as a whole
parse would. A file that does not follow the layout, or whose identity lines do not parse, is
left to the whole-file loader (`None`), which reports its errors.

Each `LoadedRun` keeps its text, so a save can write an unchanged run back byte for byte.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pydantic

from agentkit import ToolDefinition
from agentkit_testing._cassette._decode import check_header, decode_catalog, decode_one_run
from agentkit_testing._cassette._io import header_comment
from agentkit_testing._cassette._parse._layout import (
    END_MARKER,
    IDENTITY_KEYS,
    RUNS_LINE,
    Layout,
    RunText,
    split_layout,
)
from agentkit_testing._cassette._parse._yaml_loader import load_yaml
from agentkit_testing._cassette._records import RecordedRun
from agentkit_testing._exceptions import CassetteFormatError

__all__ = (
    "LoadedRun",
    "RunSource",
    "answered",
    "answered_runs",
    "header_catalog",
    "keep_texts",
    "load_lazily",
    "run_fields",
)

_FIELDS = tuple(field.name for field in dataclasses.fields(RecordedRun))
_DECODED_FIELDS = tuple(name for name in _FIELDS if name not in IDENTITY_KEYS and name != "message_history")
"""The fields of a `LoadedRun` read from its text on first use."""


class _Identity(pydantic.BaseModel, extra="forbid", defer_build=True):
    """The identity lines of a run, as the whole-run validation would read them.

    Its schema is built at first use (`defer_build`), like the adapter's, not when this module is imported.
    """

    id: str
    agent: str | None
    model: str
    user_prompt: str
    label: str | None = None
    streamed: bool = False
    deps: str | None = None
    concurrent: bool = False
    runtime: str | None = None


@functools.cache
def _identities_adapter() -> pydantic.TypeAdapter[list[_Identity]]:
    return pydantic.TypeAdapter(list[_Identity])


_COMPLETE = operator.attrgetter("complete")
_HAS_ERROR = operator.attrgetter("has_error")

_IDENTITY_DEFAULTS: dict[str, Any] = {
    "label": None,
    "streamed": False,
    "deps": None,
    "concurrent": False,
    "runtime": None,
}


class RunSource:
    """One loaded YAML cassette in the writer's layout: its header, its catalog and the text of each run."""

    def __init__(self, path: Path, layout: Layout, catalog: dict[str, ToolDefinition], comment: str | None) -> None:
        self.path = path
        self.layout = layout
        self.catalog = catalog
        self.comment = comment
        self.lock = threading.RLock()
        self.runs: tuple[RecordedRun, ...] = ()
        """The runs loaded from the file, in its order."""
        self.data: bytes | None = None
        """The file's bytes, when they are its text character for character (ASCII): a save writes the
        runs it keeps straight from them."""

    def kept_prefix(self, runs: Sequence[RecordedRun]) -> int:
        """How many of `runs`, from the first, are the file's own runs in the file's order (not replaced)."""
        # Compared by identity in C (`map(is_, ...)`): a save of a big file asks this twice, and a
        # loop in Python touching every run costs about a millisecond per 10,000 runs each time.
        same = list(map(operator.is_, runs, self.runs))
        try:
            return same.index(False)
        except ValueError:
            return len(same)

    def decode(self, index: int) -> RecordedRun:
        """Run `index`, parsed and validated from its text; errors name the file's line and `runs[index]`."""
        run = self.layout.runs[index]
        text = RUNS_LINE + run.text
        try:
            return self._decode_text(text, 0)
        except CassetteFormatError:
            # Again, with the run at its own line and index, so the error points into the file.
            padding = "\n" * max(run.line - 2 - index, 0)
            self._decode_text(padding + RUNS_LINE + "- {}\n" * index + run.text, index)
            raise

    def _decode_text(self, text: str, index: int) -> RecordedRun:
        document = load_yaml(text, self.path)
        assert isinstance(document, dict)  # `runs:` then a sequence item
        return decode_one_run(document, index, self.catalog, self.path, text.encode())


class LoadedRun(RecordedRun):
    """A run loaded from a cassette file: identity at hand, the rest decoded from its text when first read.

    It is a `RecordedRun` in every way (equal to the same run built in memory, same `repr`); a
    copy made with `dataclasses.replace` is a new run, written from its data.
    """

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RecordedRun):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _FIELDS)

    __hash__ = RecordedRun.__hash__

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS)
        return f"RecordedRun({shown})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Copies and pickles are plain runs: the text and its lock stay with the loaded one.
        return (RecordedRun, tuple(getattr(self, name) for name in _FIELDS))

    def text_in(self, source: RunSource) -> str | None:
        """The run's text in `source`'s file, if it was loaded from there (and not replaced since)."""
        if self.__dict__.get("_source") is not source:
            return None
        index: int = self.__dict__["_index"]
        text: str = source.layout.runs[index].text
        return text

    @property
    def decoded(self) -> bool:
        """Whether the run's details have been read from its text (always, for a copy)."""
        return self.__dict__.get("_decoded", True) is True

    def answered(self) -> bool:
        """Whether a model answered the run (it holds a request) or it ended without an error, read cheaply."""
        if self.decoded:
            return bool(self.requests) or self.error is None
        text: RunText = self.__dict__["_source"].layout.runs[self.__dict__["_index"]]
        return (text.has_requests and self.runtime is None) or not text.has_error

    def _load_details(self) -> None:
        source: RunSource = self.__dict__["_source"]
        with source.lock:
            if self.decoded:
                return
            run = source.decode(self.__dict__["_index"])
            _check_same_identity(self, run, source)
            for name in _DECODED_FIELDS:
                self.__dict__[name] = getattr(run, name)
            self.__dict__["_decoded"] = True


class _Details:
    """A field of `LoadedRun` decoded from the run's text the first time it is read."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, run: LoadedRun | None, owner: type | None = None) -> Any:
        if run is None:
            return getattr(RecordedRun, self.name, None)
        try:
            return run.__dict__[self.name]
        except KeyError:
            run._load_details()
            return run.__dict__[self.name]

    def __set__(self, run: LoadedRun, value: Any) -> None:
        run.__dict__[self.name] = value


for _name in _DECODED_FIELDS:
    setattr(LoadedRun, _name, _Details(_name))


def _check_same_identity(loaded: LoadedRun, run: RecordedRun, source: RunSource) -> None:
    for name in (*IDENTITY_KEYS, "message_history"):
        if loaded.__dict__[name] != getattr(run, name):
            raise CassetteFormatError(
                f"{source.path}: run {loaded.id!r} reads differently whole than by its identity lines (field "
                f"{name!r}); the file does not follow the writer's layout: record it again, or save it with "
                "`agentkit cassette` tools that rewrite it whole",
                path=source.path,
                field=name,
            )


def answered(run: RecordedRun) -> bool:
    """Whether a model answered the run or it ended without an error (without decoding a `LoadedRun`)."""
    if isinstance(run, LoadedRun):
        return run.answered()
    return bool(run.requests) or run.error is None


def answered_runs(runs: Sequence[RecordedRun], source: RunSource | None) -> list[RecordedRun]:
    """The runs that are `answered`, in order: the file's own runs whose text has no `error` key, without a look."""
    kept = source.kept_prefix(runs) if source is not None else 0
    found: list[RecordedRun] = []
    if source is not None:
        texts = source.layout.runs[:kept]
        if all(map(_COMPLETE, texts)) and not any(map(_HAS_ERROR, texts)):
            found = list(runs[:kept])  # the usual file: every run indexed and none failed, seen in C
        else:
            found = [
                run
                for run, text in zip(runs[:kept], texts, strict=True)
                if (text.complete and not text.has_error) or answered(run)
            ]
    found.extend(run for run in runs[kept:] if answered(run))
    return found


def load_lazily(text: str, path: Path) -> tuple[list[RecordedRun], str | None, RunSource] | None:
    """The runs, header comment and source of a YAML cassette in the writer's layout; `None` if it is not.

    Errors in the header, in the identity lines or in a run decoded at once are raised here, as
    `CassetteFormatError` naming the place; a file whose pieces do not parse is `None`, so that the
    whole-file loader names the problem.
    """
    layout = split_layout(text)
    if layout is None:
        return None
    catalog = header_catalog(layout, path)
    if catalog is None:
        return None
    identities = _identities(layout.runs, path)
    if identities is None:
        return None
    source = RunSource(path, layout, catalog, header_comment(layout.header))
    runs: list[RecordedRun] = []
    seen: set[str] = set()
    for index, identity in enumerate(identities):
        if identity is None:
            decoded = source.decode(index)
            state = {name: getattr(decoded, name) for name in _FIELDS}
            state["_decoded"] = True
        else:
            state = dict(identity)
            state["message_history"] = None
            state["_decoded"] = False
        if state["id"] in seen:
            return None  # the whole-file loader names both places
        seen.add(state["id"])
        run = LoadedRun.__new__(LoadedRun)
        run.__dict__.update(state, _source=source, _index=index)
        runs.append(run)
    source.runs = tuple(runs)
    return runs, source.comment, source


def header_catalog(layout: Layout, path: Path) -> dict[str, ToolDefinition] | None:
    """The header of a file in the writer's layout, checked: its catalog of tools; `None` if it is not a mapping.

    A header that breaks a rule raises `CassetteFormatError` naming its line and field.
    """
    header_text = layout.header[: -len(RUNS_LINE)] + "runs: []\n" + END_MARKER
    header = load_yaml(header_text, path)
    if not isinstance(header, dict):
        return None
    header_data = header_text.encode()
    check_header(header, path, header_data)
    return decode_catalog(header.get("tool_definitions"), path, header_data)


def keep_texts(
    runs: list[RecordedRun], text: str, document: dict[str, Any], path: Path, comment: str | None
) -> tuple[list[RecordedRun], RunSource | None]:
    """Runs decoded from the whole file, as `LoadedRun`s keeping their texts when the file follows the layout."""
    layout = split_layout(text)
    if layout is None or len(layout.runs) != len(runs):
        return runs, None
    for run, run_text in zip(runs, layout.runs, strict=True):
        if run_text.text.startswith("- id: ") and not run_text.text.startswith(f"- id: {run.id}\n"):
            return runs, None  # the cut does not fall where the parser's runs begin: keep nothing
    header = document.get("tool_definitions")
    catalog = decode_catalog(header, path, text.encode()) if header is not None else {}
    source = RunSource(path, layout, catalog, comment)
    loaded: list[RecordedRun] = []
    for index, run in enumerate(runs):
        copy = LoadedRun.__new__(LoadedRun)
        copy.__dict__.update(run_fields(run), _source=source, _index=index)
        loaded.append(copy)
    source.runs = tuple(loaded)
    return loaded, source


def run_fields(run: RecordedRun) -> dict[str, Any]:
    """The fields of `run` by name: what a `LoadedRun` made from it holds."""
    return {name: getattr(run, name) for name in _FIELDS}


def _identities(runs: tuple[RunText, ...], path: Path) -> list[dict[str, Any] | None] | None:
    """The identity fields of each run whose identity lines are complete (`None` for the others).

    Lines read straight off the text (`RunText.fields`) are taken as they are; the others are
    parsed together as one YAML document and validated.
    """
    complete = [run for run in runs if run.complete and run.fields is None]
    parsed: list[_Identity] = []
    if complete:
        try:
            document = load_yaml(RUNS_LINE + "".join(run.identity for run in complete), path)
            parsed = _identities_adapter().validate_python(document["runs"])
        except (CassetteFormatError, pydantic.ValidationError, TypeError, KeyError):
            return None  # not as the writer writes it: the whole-file loader reports what is wrong
    from_yaml = iter(parsed)
    identities: list[dict[str, Any] | None] = []
    for run in runs:
        if not run.complete:
            identities.append(None)
        elif run.fields is not None:
            identities.append({**_IDENTITY_DEFAULTS, **run.fields})
        else:
            identities.append(next(from_yaml).model_dump())
    return identities
