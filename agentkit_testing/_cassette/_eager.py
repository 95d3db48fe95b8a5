"""Loading a whole YAML cassette in the writer's layout run by run: every run read and checked now, with little memory.

`Cassette.load` without `lazy` must read and check every run. Parsing the whole file as one
YAML document holds the node graph of every run at once (~60 KB of Python objects per 1.5 KB
run) and pays PyYAML's cost per node. Here the file is cut along the writer's layout
(`_layout`), its header is parsed and checked as the lazy loader does, and each run is read
from its own text (by `_run_reader` where the text is in the writer's subset, else by the safe
loader), then prepared and validated as `_decode` does for the whole document, and its plain
data dropped before the next run.

This is a shortcut for files that load: at the first problem of any kind it gives up (`None`)
and the caller loads the file whole, which refuses it with the same error as ever (the same
message, line and field: the first problem of the file in the whole-file loader's order).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from agentkit import ToolDefinition
from agentkit_testing._cassette._decode import decode_document, decode_one_run
from agentkit_testing._cassette._io import FileFormat, cassette_text, parse_document
from agentkit_testing._cassette._lazy import LoadedRun, RunSource, header_catalog, keep_texts, run_fields
from agentkit_testing._cassette._parse._layout import RUNS_LINE, Layout, split_layout
from agentkit_testing._cassette._parse._limits import no_gc
from agentkit_testing._cassette._parse._run_reader import LinesRead, read_run
from agentkit_testing._cassette._parse._yaml_loader import load_yaml
from agentkit_testing._cassette._records import RecordedRun
from agentkit_testing._exceptions import CassetteFormatError

__all__ = ("each_checked_run", "load_eagerly", "load_whole")


def load_eagerly(text: str, path: Path, comment: str | None) -> tuple[list[RecordedRun], RunSource] | None:
    """Every run of a YAML cassette in the writer's layout, checked, and its source; `None` otherwise.

    `None` also for a file with any problem, so that the whole-file loader reports it.
    """
    layout = split_layout(text)
    if layout is None:
        return None
    with no_gc():  # as in `load_yaml`: the runs are many new objects, none of them garbage
        return _checked_runs(layout, path, comment)


def _checked_runs(layout: Layout, path: Path, comment: str | None) -> tuple[list[RecordedRun], RunSource] | None:
    try:
        catalog = _catalog(layout, path)
        source = RunSource(path, layout, catalog, comment)
        runs: list[RecordedRun] = []
        for index, run in enumerate(_each_run(layout, catalog, path)):
            loaded = LoadedRun.__new__(LoadedRun)
            loaded.__dict__.update(run_fields(run), _source=source, _index=index)
            runs.append(loaded)
    except CassetteFormatError:
        return None
    source.runs = tuple(runs)
    return runs, source


def each_checked_run(path: Path, file_format: FileFormat) -> Iterator[RecordedRun]:
    """Every run of the cassette file, read and checked one at a time and kept by no one: for looking through it.

    The runs are those of `Cassette.load`, in order. A file that `Cassette.load` refuses raises
    the same `CassetteFormatError`, possibly after some runs were given: a caller that must not
    show a part of a refused file keeps what it makes of them until the end (`agentkit cassette
    verify` keeps counts, `show` the text of each run: far less than the runs).
    """
    data = path.read_bytes()
    text = cassette_text(data, path)
    layout = split_layout(text) if file_format == "yaml" else None
    given = 0
    if layout is not None:
        try:
            with no_gc():
                catalog = _catalog(layout, path)
            for run in _each_run(layout, catalog, path):
                yield run
                given += 1
            return
        except CassetteFormatError:
            pass  # a signal only: the whole-file load names the problem
    # The whole-file load raises the error; were it to read the file after all, its first runs are those given.
    yield from load_whole(data, text, path, file_format)[0][given:]


def _catalog(layout: Layout, path: Path) -> dict[str, ToolDefinition]:
    """The header of a file in the layout, checked as the lazy load checks it: its catalog of tools."""
    catalog = header_catalog(layout, path)
    if catalog is None:
        raise CassetteFormatError(f"{path}: the header is not a mapping", path=path)
    return catalog


def _each_run(layout: Layout, catalog: dict[str, ToolDefinition], path: Path) -> Iterator[RecordedRun]:
    """Each run of the layout, read and checked; `CassetteFormatError` at the first problem (errors are only a
    signal here: they name no line, and the caller loads the file whole to name the problem)."""
    seen: set[str] = set()
    lines_read: LinesRead = {}
    for run_text in layout.runs:
        with no_gc():  # as in `load_yaml`: a run is many new objects, none of them garbage
            data = read_run(run_text.text, lines_read)
            if data is None:
                document = load_yaml(RUNS_LINE + run_text.text, path)
                if not isinstance(document, dict) or len(document.get("runs") or ()) != 1:
                    raise CassetteFormatError(f"{path}: a run's text is not one run", path=path)
            else:
                document = {"runs": [data]}
            # Index 0: the document holds this run alone; b"" spares the search for a line.
            run = decode_one_run(document, 0, catalog, path, b"")
        if run.id in seen:
            raise CassetteFormatError(f"{path}: duplicate run id {run.id!r}", path=path)
        seen.add(run.id)
        yield run


def load_whole(
    data: bytes, text: str, path: Path, file_format: FileFormat
) -> tuple[list[RecordedRun], str | None, RunSource | None]:
    """The runs, header comment and source of a cassette parsed as one document: any file, any error."""
    document, comment = parse_document(data, path, file_format)
    runs, source = decode_document(document, path, data), None
    if file_format == "yaml":
        runs, source = keep_texts(runs, text, document, path, comment)
    return runs, comment, source
