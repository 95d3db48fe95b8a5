"""Saving without noise: re-recorded runs that did not change keep their text, and the file is spliced.

Two things make a re-recorded cassette differ from its last version when nothing changed: the
values that are new on every run (the volatile values, `VOLATILE_KEYS`), and a whole-file dump
that re-serializes every run. Here a re-recorded run is compared with the run it re-records
modulo the volatile values (`same_recording`); when they are equal the recorded run is written,
as it was. A YAML file is then written by splicing (`splice_yaml`): the header, the text of each
kept run exactly as loaded, the YAML of each new or changed run, the end marker.
"""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentkit import ToolDefinition
from agentkit_testing._cassette._codec import ToolCatalog, encode_run
from agentkit_testing._cassette._io import dump_header, to_yaml_text
from agentkit_testing._cassette._lazy import LoadedRun, RunSource
from agentkit_testing._cassette._parse._layout import END_MARKER
from agentkit_testing._cassette._parse._limits import check_savable
from agentkit_testing._cassette._records import CASSETTE_FORMAT, CASSETTE_VERSION, RecordedRun
from agentkit_testing._cassette._stream import scrub_document
from agentkit_testing._exceptions import CassetteFormatError
from agentkit_testing._secrets import Scrubber

__all__ = ("VOLATILE_KEYS", "pair_rerecorded", "same_recording", "splice_yaml", "without_volatile_values")

VOLATILE_KEYS = {
    "timestamp": "left out",
    "provider_response_id": "left out",
    "tool_call_id": "renamed in order of appearance",
}
"""Values that differ on every recording of the same conversation, and how a comparison treats them.

Besides these, the run's own `id` (`run-3`) is left out. Tool-call ids are renamed consistently
(the first id seen is `#1` wherever it appears, ...), so a run whose calls are paired differently
is still a change.
"""


def without_volatile_values(plain_run: dict[str, Any]) -> Any:
    """A run's plain data (`encode_run`) as compared: volatile values left out or renamed."""
    names: dict[str, str] = {}

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            for key, item in value.items():
                if key in ("timestamp", "provider_response_id"):
                    continue
                if key == "tool_call_id" and isinstance(item, str):
                    item = names.setdefault(item, f"#{len(names) + 1}")
                out[key] = strip(item)
            return out
        if isinstance(value, list | tuple):
            return [strip(item) for item in value]
        return value

    content = {key: value for key, value in plain_run.items() if key != "id"}
    return strip(content)


def same_recording(new: RecordedRun, recorded: RecordedRun, scrubber: Scrubber) -> bool:
    """Whether `new`, as it would be written (scrubbed), records what `recorded` holds, volatile values aside."""
    written = scrub_document({"runs": [encode_run(new)]}, scrubber)["runs"][0]
    return bool(without_volatile_values(written) == without_volatile_values(encode_run(recorded)))


def pair_rerecorded(
    new_runs: Sequence[RecordedRun], recorded: Sequence[RecordedRun], scrubber: Scrubber
) -> list[RecordedRun | None]:
    """For each new run, the recorded run it re-records unchanged (each used once, first come first served)."""
    waiting: dict[tuple[Any, ...], list[RecordedRun]] = {}
    for run in recorded:
        waiting.setdefault(_identity(run), []).append(run)
    pairs: list[RecordedRun | None] = []
    for run in new_runs:
        candidates = waiting.get(_identity(run), [])
        match = next((old for old in candidates if _readable(old) and same_recording(run, old, scrubber)), None)
        if match is not None:
            candidates.remove(match)
        pairs.append(match)
    return pairs


def _readable(run: RecordedRun) -> bool:
    """Whether a run of the file can be read; one that cannot (a broken hand edit) is never kept."""
    try:
        run.requests  # noqa: B018 - reading a lazily loaded run's details decodes it
    except CassetteFormatError:
        return False  # it is being recorded again: the new recording replaces it
    return True


def _identity(run: RecordedRun) -> tuple[Any, ...]:
    return (run.agent, run.model, run.user_prompt, run.streamed, run.deps, run.label, run.runtime)


def splice_yaml(
    runs: Sequence[RecordedRun], source: RunSource | None, comment: str | None, scrubber: Scrubber, path: Path
) -> list[bytes | memoryview]:
    """The YAML file for `runs` in pieces: runs loaded from `source` (not changed) as their text, others dumped.

    The result is byte for byte what a whole-document dump gives for runs written by this harness.
    A kept run is written as it is, unless the scrubber now finds a secret in it (a secret variable
    set, or a pattern added, since it was written): then it is written from its data, scrubbed.
    The file's own runs at the head of `runs` are one piece, a view of the bytes it was loaded from
    when it has them (`RunSource.data`): appending to a big file copies none of its text, and
    (with no secret variables or patterns to look for) looks at none of those runs.
    """
    head, texts = _kept_texts(runs, source, scrubber)
    tail = runs[head:]
    catalog = ToolCatalog()
    if source is not None:
        catalog.seed(_catalog_kept_runs_name(source, runs[:head], tail, texts))
    seeded = {identity: dict(entry) for identity, entry in catalog.entries.items()}
    encoded = [encode_run(run, catalog) for run, text in zip(tail, texts, strict=True) if text is None]
    entries = catalog.entries
    document = scrub_document({"tool_definitions": entries, "runs": encoded}, scrubber)
    check_savable(document, path)
    header_fields: dict[str, Any] = {"format": CASSETTE_FORMAT, "version": CASSETTE_VERSION}
    if document["tool_definitions"]:
        header_fields["tool_definitions"] = document["tool_definitions"]
    if source is not None and document["tool_definitions"] == seeded and comment == source.comment:
        header = source.layout.header
    else:
        header = dump_header(header_fields, comment)
    pieces: list[bytes | memoryview] = [header.encode()]
    if source is not None and source.data is not None and head:
        start = len(source.layout.header)  # the file's text is ASCII: a character is a byte
        pieces.append(memoryview(source.data)[start : start + _length_of_runs(source, source.data, head)])
    fresh = iter(document["runs"])
    body = [text if text is not None else to_yaml_text([next(fresh)]) for text in texts]
    pieces.append(("".join(body) + END_MARKER).encode())
    return pieces


def _kept_texts(
    runs: Sequence[RecordedRun], source: RunSource | None, scrubber: Scrubber
) -> tuple[int, list[str | None]]:
    """How many runs at the head of `runs` are written as one piece of `source`'s bytes, and for each
    run after them its text in `source` when it is kept as it is (`None`: it is dumped).

    The head is the runs, from the first, that are the file's own in its order (all of them, when
    runs were only added), up to the first one in which the scrubber now finds a secret; it is
    looked at run by run only when there is something to look for, and is empty when `source`
    has not kept the file's bytes (a file that is not ASCII), whose runs are then joined as texts.
    """
    if source is None:
        return 0, [None] * len(runs)
    kept = source.kept_prefix(runs)
    after: list[str | None] = [run.text_in(source) if isinstance(run, LoadedRun) else None for run in runs[kept:]]
    if source.data is not None and not scrubber.refresh().has_context_rules:
        return kept, after
    texts: list[str | None] = [text.text for text in source.layout.runs[:kept]]
    texts.extend(after)
    _drop_texts_with_secrets(texts, scrubber)
    if source.data is None:
        return 0, texts
    with contextlib.suppress(ValueError):
        kept = texts.index(None, 0, kept)  # a kept run holding a secret now ends the piece before it
    return kept, texts[kept:]


def _length_of_runs(source: RunSource, data: bytes, count: int) -> int:
    """How many characters (bytes of `data`, the file's) the first `count` runs of `source` take."""
    if count == len(source.layout.runs):  # all of them: the file between its header and end marker
        return len(data) - len(source.layout.header) - len(END_MARKER)
    return sum(len(text.text) for text in source.layout.runs[:count])


def _catalog_kept_runs_name(
    source: RunSource, head: Sequence[RecordedRun], tail: Sequence[RecordedRun], texts: Sequence[str | None]
) -> dict[str, ToolDefinition]:
    """The entries of `source`'s catalog that the kept runs (`head`, and those of `tail` that have a
    text in `texts`) name, in the file's order.

    All of them while a kept run has not been decoded (its text may name any), or when the file
    gives one definition two ids.
    """
    names = ToolCatalog()
    if not names.seed(source.catalog):
        return source.catalog
    kept = [*head, *(run for run, text in zip(tail, texts, strict=True) if text is not None)]
    for run in kept:
        if isinstance(run, LoadedRun) and not run.decoded:
            return source.catalog
        for request in run.requests:
            for tool in (*request.function_tools, *request.result_tools):
                names.id_for(tool)
    return {identity: definition for identity, definition in source.catalog.items() if identity in names.used}


def _drop_texts_with_secrets(texts: list[str | None], scrubber: Scrubber) -> None:
    """Forget the kept texts in which the scrubber finds a secret now, so those runs are written scrubbed."""
    if not scrubber.refresh().has_context_rules:
        return  # only secret variables and your patterns find what the scrubber did not find when writing
    kept = [index for index, text in enumerate(texts) if text is not None]
    if not kept:
        return
    starts: list[int] = []
    offset = 0
    for index in kept:
        starts.append(offset)
        offset += len(texts[index] or "")
    joined = "".join(texts[index] or "" for index in kept)
    for start, _ in scrubber.find_context_secrets(joined):
        texts[kept[bisect.bisect_right(starts, start) - 1]] = None
