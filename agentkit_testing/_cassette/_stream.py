"""Streamed responses in cassettes: scrubbing their chunks as one text, and replaying them chunk by chunk."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

from agentkit import ModelResponseStreamEvent, PartDeltaEvent, PartStartEvent, Usage
from agentkit.messages import ToolCallPartDelta
from agentkit.models import StreamedResponse
from agentkit_testing._cassette._records import RecordedRequest
from agentkit_testing._secrets import Scrubber

__all__ = ("ReplayStreamedResponse", "scrub_document", "scrub_stream")

_TEXT_FIELDS = (("part", "content"), ("part", "args"), ("delta", "content_delta"), ("delta", "args_delta"))
"""Where an encoded stream event holds a piece of its part's text: a text part's content, a tool call's JSON."""


def scrub_document(document: dict[str, Any], scrubber: Scrubber) -> dict[str, Any]:
    """A cassette document scrubbed: each request's stream as whole texts (see `scrub_stream`), then every string."""
    scrubber.refresh()  # secret variables set since the cassette was opened (e.g. in the test body) count too
    for run in document.get("runs", ()):
        for request in run.get("requests", ()):
            if isinstance(request.get("stream"), list):
                request["stream"] = scrub_stream(request["stream"], scrubber)
    scrubbed: dict[str, Any] = scrubber.scrub(document)
    return scrubbed


def scrub_stream(events: list[Any], scrubber: Scrubber) -> list[Any]:
    """Encoded stream events with the secrets of each part's joined text removed, chunk boundaries kept.

    The text pieces of one part (its start event, then its deltas) are scrubbed together with
    `Scrubber.scrub_chunks`: a secret split across chunks is found; its marker goes to the chunk
    where it begins and the following chunks lose its remainder, so the replayed part is the
    scrubbed text. Events are changed in place; the list is returned.
    """
    slots: dict[Any, list[tuple[dict[str, Any], str]]] = {}
    for event in events:
        if not isinstance(event, dict):
            continue
        for holder_key, field in _TEXT_FIELDS:
            holder = event.get(holder_key)
            if isinstance(holder, dict) and isinstance(holder.get(field), str):
                slots.setdefault(event.get("index"), []).append((holder, field))
    for places in slots.values():
        pieces = scrubber.scrub_chunks([holder[field] for holder, field in places])
        for (holder, field), piece in zip(places, pieces, strict=True):
            holder[field] = piece
    return events


class ReplayStreamedResponse(StreamedResponse):
    """Yields the recorded events of a streamed request, one per recorded chunk.

    A request recorded without streaming is streamed as one start event per part, the way
    models without streaming support do it.
    """

    def __init__(self, recorded: RecordedRequest) -> None:
        super().__init__(recorded.response.model_name or "", recorded.response.timestamp)
        self._recorded = recorded

    async def _events(self) -> AsyncIterator[ModelResponseStreamEvent]:
        recorded = self._recorded
        events = recorded.stream
        if events is None:
            events = tuple(PartStartEvent(index, part) for index, part in enumerate(recorded.response.parts))
        for event in events:
            if isinstance(event, PartStartEvent):
                part = copy.deepcopy(event.part)
                if event.index < len(self._parts):
                    self._parts[event.index] = part
                else:
                    self._parts.append(part)
                yield PartStartEvent(event.index, part)
            elif isinstance(event, PartDeltaEvent):
                current = self._parts[event.index]
                assert not isinstance(current, ToolCallPartDelta), "a recorded delta follows its part's start event"
                self._parts[event.index] = event.delta.apply(current)
                yield PartDeltaEvent(event.index, copy.deepcopy(event.delta))
        self._usage = copy.copy(recorded.usage)

    def usage(self) -> Usage:
        return self._usage
