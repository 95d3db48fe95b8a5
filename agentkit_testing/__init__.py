"""agentkit_testing: record agent runs to cassettes, replay them offline, and test them."""

from __future__ import annotations

__all__: tuple[str, ...] = ()
