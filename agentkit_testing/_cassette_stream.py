"""Replaying a streamed response chunk by chunk, with the recorded chunk boundaries."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator

from agentkit import ModelResponseStreamEvent, PartDeltaEvent, PartStartEvent, Usage
from agentkit.models import StreamedResponse
from agentkit_testing._cassette_records import RecordedRequest

__all__ = ("ReplayStreamedResponse",)


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
                self._parts[event.index] = event.delta.apply(self._parts[event.index])
                yield PartDeltaEvent(event.index, copy.deepcopy(event.delta))
        self._usage = copy.copy(recorded.usage)

    def usage(self) -> Usage:
        return self._usage
