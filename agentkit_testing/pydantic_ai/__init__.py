"""agentkit_testing.pydantic_ai: record and replay agents built on pydantic-ai itself, with agentkit cassettes.

The only part of agentkit_testing that imports `pydantic_ai`; importing `agentkit_testing` alone
never loads it. Install with `pip install 'agentkit[pydantic-ai]'`.

- `cassette(path, agents=[agent, ...], record_mode=...)`: record or replay every run of the named
  agents in a block, in the same cassette format as agentkit runs (`runtime: pydantic-ai <version>`).
- `agentkit_testing.pydantic_ai.strategies` (needs `hypothesis`): scripted model behaviour for
  property tests of a pydantic-ai agent's tool-call flows, and the invariants every run keeps.
"""

from __future__ import annotations

from agentkit_testing._exceptions import RuntimeMismatch, UnrecordableMessage
from agentkit_testing.pydantic_ai._models import CassetteModel, CassetteToolset
from agentkit_testing.pydantic_ai._session import PydanticAISession, cassette

__all__ = (
    "CassetteModel",
    "CassetteToolset",
    "PydanticAISession",
    "RuntimeMismatch",
    "UnrecordableMessage",
    "cassette",
)
