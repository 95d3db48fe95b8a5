"""Runs started outside a cassette block's context (plain threads, pools) still go through the block.

`Agent.override` keeps what it installs in context variables of the agent, so a run started in a
context that does not descend from the block's (a `threading.Thread`, a `ThreadPoolExecutor`
worker, a web framework's handler thread) would not see the block's model and toolsets and would
talk to the agent's own model: a real request escaping the cassette in replay, an unrecorded run
in record mode. So while at least one block names an agent, the three override variables a run
reads for its model and tools (`_override_model`, `_override_tools`, `_override_toolsets`) are
replaced on that agent by `OverrideFallback`s, which answer the way `agentkit.block_scope`
resolves agentkit's own blocks:

- this context has a block of its own naming the agent: its `Agent.override` is in force, as
  without this module (so concurrent tasks keep their own cassettes);
- otherwise (a user's own `agent.override(...)` in this context is kept as it is): the blocks
  naming the agent that are active in the process decide. One, or blocks nested in one another:
  the innermost one's override, so the run records or replays with that cassette, tools included.
  None: nothing, so the agent is the one the user wrote (a thread that outlives the block, or a
  context copied inside a block that has ended). Several that do not nest (opened in unrelated
  threads or tasks): `UserError`, since the run belongs to none of them clearly;
- the original context variables are put back when the last block naming the agent ends, even
  on error: the agent's attributes are then the very objects they were before.

These variables are private attributes of pydantic-ai's `Agent` (no public API reaches a run
started in another context); `tests/testing/pydantic_ai/test_pydantic_ai_threads.py` fails if
they are renamed or stop being context variables, and `install` refuses an agent without them
rather than leave its thread runs unguarded.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

from pydantic_ai import Agent
from pydantic_ai.toolsets import AbstractToolset

from agentkit import UserError
from agentkit.block_scope import BlockScopedStack
from agentkit_testing._exceptions import CassetteError

__all__ = ("OverrideFallback", "agent_toolsets", "route_other_contexts")

OVERRIDE_VARIABLES = ("_override_model", "_override_tools", "_override_toolsets")
"""The private context variables of `pydantic_ai.Agent` that hold `override(model=, tools=, toolsets=)`."""

_lock = threading.Lock()
_reading_own: ContextVar[bool] = ContextVar("agentkit_testing_pydantic_ai_reading_own", default=False)
_installed: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
"""id -> each value any block's override installed, while something (a context copied inside it) holds it.

Such a value met in a context whose block has ended is not the user's own override; it outlives the
agent's fallbacks (a later block installs new ones), so it is kept here, not per agent."""


@dataclass(frozen=True, eq=False)
class BlockOverride:
    """What one block's `Agent.override` put in force for one agent, read back in the block's context."""

    where: str
    """The block's cassette, for error messages."""
    values: dict[str, object]
    """Each of `OVERRIDE_VARIABLES` -> the value the override set (pydantic-ai's own option wrapper)."""


class _AgentRouting:
    """One agent's fallbacks while blocks name it: its original variables and the stack of its blocks."""

    def __init__(self, agent: Agent[Any, Any], originals: dict[str, ContextVar[Any]]) -> None:
        self.agent = agent
        self.originals = originals
        self.blocks: BlockScopedStack[BlockOverride] = BlockScopedStack("agentkit_testing_pydantic_ai_blocks")
        self.users = 0

    def ambiguous(self, candidates: Sequence[Sequence[BlockOverride]]) -> UserError:
        blocks = "; ".join(stack[-1].where for stack in candidates)
        return UserError(
            f"A run of pydantic-ai agent {self.agent.name!r} started in a context with no cassette block of its "
            f"own (e.g. a new thread), while {len(candidates)} cassette blocks that name the agent and do not nest "
            f"are open in other threads or tasks: {blocks}. agentkit_testing cannot tell which cassette the run "
            "belongs to. Start the run in the block's context (asyncio.to_thread and anyio.to_thread.run_sync copy "
            "it; for a thread use threading.Thread(target=contextvars.copy_context().run, args=(...))), open the "
            "cassette block in the thread that runs the agent, or do not keep two such blocks open at once."
        )


class OverrideFallback:
    """Stands in for one override context variable of an agent: see the module docstring for what it answers."""

    def __init__(self, name: str, variable: ContextVar[Any], routing: _AgentRouting) -> None:
        self.name = name
        self.variable = variable
        self.routing = routing

    def get(self) -> Any:
        own = self.variable.get()
        if _reading_own.get():
            return own
        resolution = self.routing.blocks.resolve()
        if resolution.source == "context":
            return own
        if own is not None and id(own) not in _installed:
            return own  # the user's own override in this context
        if resolution.source == "ambiguous":
            raise self.routing.ambiguous(resolution.candidates)
        if resolution.source == "none":
            return None
        return resolution.values[-1].values[self.name]

    def set(self, value: Any) -> Token[Any]:
        return self.variable.set(value)

    def reset(self, token: Token[Any]) -> None:
        self.variable.reset(token)


def agent_toolsets(agent: Agent[Any, Any]) -> Sequence[AbstractToolset[Any]]:
    """`agent.toolsets` as this context has them, never another block's (for the block about to wrap them)."""
    token = _reading_own.set(True)
    try:
        return agent.toolsets
    finally:
        _reading_own.reset(token)


@contextmanager
def route_other_contexts(agent: Agent[Any, Any], where: str) -> Iterator[None]:
    """Serve the override in force in this context to runs of `agent` in contexts with no block of their own.

    Enter it just inside the block's `agent.override(...)`, whose values it reads.
    """
    with _lock:
        routing = _install(agent)
        routing.users += 1
    try:
        block = BlockOverride(where, {name: routing.originals[name].get() for name in OVERRIDE_VARIABLES})
        with _lock:
            for value in block.values.values():
                _installed[id(value)] = value
        with routing.blocks.push(block):
            yield
    finally:
        with _lock:
            routing.users -= 1
            if routing.users == 0:
                for name, original in routing.originals.items():
                    setattr(agent, name, original)


def _install(agent: Agent[Any, Any]) -> _AgentRouting:
    """The agent's routing, its fallbacks installed by the first block that names it (the caller holds `_lock`)."""
    current = getattr(agent, OVERRIDE_VARIABLES[0], None)
    if isinstance(current, OverrideFallback):
        return current.routing
    originals = {name: getattr(agent, name, None) for name in OVERRIDE_VARIABLES}
    missing = [name for name, variable in originals.items() if not isinstance(variable, ContextVar)]
    if missing:
        raise CassetteError(
            f"pydantic-ai agent {agent.name!r} has no context variable {', '.join(missing)}: this pydantic-ai "
            "version stores Agent.override differently, so a cassette cannot keep runs started in other threads "
            "from reaching the agent's own model. Use a pydantic-ai version within the range agentkit[pydantic-ai] "
            "supports."
        )
    variables = {name: variable for name, variable in originals.items() if isinstance(variable, ContextVar)}
    routing = _AgentRouting(agent, variables)
    for name, variable in variables.items():
        setattr(agent, name, OverrideFallback(name, variable, routing))
    return routing
