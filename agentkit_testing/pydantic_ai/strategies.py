"""Hypothesis strategies for property tests of pydantic-ai agents (needs `hypothesis`, from the `testing` extra).

    from agentkit_testing.pydantic_ai.strategies import model_responses, run_scripted_sync, tool_arguments

The pydantic-ai form of `agentkit_testing.strategies`:

- `model_responses(agent)` — scripts of model behaviour (pydantic-ai `ModelResponse` lists) drawn from
  the tools and output tool the agent offers a model: valid and invalid tool calls, unknown tools,
  malformed JSON, text, structured output through the output tool, empty responses.
- `run_scripted(agent, script)` (async) / `run_scripted_sync` — run the agent on a `ScriptedModel`
  playing the script, put in place with `Agent.override`; `run.check()` asserts the invariants.
- `ScriptedModel`, `ScriptedRun`, `probe_agent_info` / `probe_agent_info_sync` — the parts.
- `tool_arguments(tool)`, `from_json_schema(schema)` — the same strategies as for agentkit tools;
  `tool` may be a pydantic-ai `Tool`, `(agent, 'name')` or a function registered on an agent.
"""

from __future__ import annotations

from agentkit_testing._hypothesis._json_schema_strategy import from_json_schema
from agentkit_testing._hypothesis._strategies import ResponseKind
from agentkit_testing._hypothesis._tool_arguments import tool_arguments
from agentkit_testing.pydantic_ai._script_strategies import model_responses
from agentkit_testing.pydantic_ai._scripted import (
    ScriptedModel,
    ScriptedRun,
    probe_agent_info,
    probe_agent_info_sync,
    run_scripted,
    run_scripted_sync,
)

__all__ = (
    "ResponseKind",
    "ScriptedModel",
    "ScriptedRun",
    "from_json_schema",
    "model_responses",
    "probe_agent_info",
    "probe_agent_info_sync",
    "run_scripted",
    "run_scripted_sync",
    "tool_arguments",
)
