"""Hypothesis strategies for property tests of agents (needs `hypothesis`, from the `testing` extra).

    from agentkit_testing.strategies import AgentFlowMachine, model_responses, tool_arguments

- `tool_arguments(tool, valid=True, mode=None)` — argument dicts a tool accepts (or, `valid=False`,
  rejects); `tool` is the decorated function, a `Tool`, `(agent, 'name')` or a `ToolDefinition`;
  `mode='python'` (default with a function: `book(**args)` works) or `'json'` (what a model sends).
- `from_json_schema(schema, valid=True)` — values of a JSON schema, or values it rejects.
- `model_responses(tools, result_tool)` — scripts of model behaviour for a `ScriptedModel`.
- `ScriptedModel`, `run_scripted`, `ScriptedRun` — play a script, run an agent on it, check the run
  (`run.check()`, the retry budgets taken from the agent).
- `AgentFlowMachine` — a state machine to subclass for whole tool-call flows; a failing example
  can be saved as a cassette (`failing_example_cassette`) and re-run offline with `replay_example`.
"""

from __future__ import annotations

from agentkit_testing._hypothesis._json_schema_strategy import from_json_schema
from agentkit_testing._hypothesis._scripted import (
    ScriptedModel,
    ScriptedRun,
    probe_agent_info,
    replay_example,
    run_scripted,
)
from agentkit_testing._hypothesis._strategies import AgentFlowMachine, ResponseKind, model_responses, tool_arguments

__all__ = (
    "AgentFlowMachine",
    "ResponseKind",
    "ScriptedModel",
    "ScriptedRun",
    "from_json_schema",
    "model_responses",
    "probe_agent_info",
    "replay_example",
    "run_scripted",
    "tool_arguments",
)
