"""Stale cassettes, found before replay: has the agent's definition changed since a run was recorded?

What defines an agent to its model — system prompts, the tools offered and their schemas, the
result tools, the model and its settings — is all in the first request every recorded run keeps,
so a cassette of any age can be checked: the live agent is probed once (its first request is
captured by a `FunctionModel` and never sent anywhere), and each recorded run's first request is
compared with it, field by field.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from agentkit import Agent, ModelMessage, ModelRequest, SystemPromptPart, ToolDefinition
from agentkit.models import Model
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._cassette._records import RecordedRun, model_id
from agentkit_testing._divergence import unified_diff
from agentkit_testing._hypothesis._scripted import probe_first_request

__all__ = (
    "AgentDefinition",
    "CassetteCheck",
    "RunCheck",
    "Staleness",
    "check_cassettes",
    "check_run",
    "probe_definition",
    "request_definition",
)

Staleness: TypeAlias = Literal["fresh", "stale", "unknown"]

_TEST_DOUBLES = frozenset({"test", "function", "replay"})
"""Runs recorded on a test double say nothing about which model the agent names."""


@dataclass(frozen=True)
class AgentDefinition:
    """What an agent shows its model on a first request, in comparable form."""

    system_prompts: tuple[str, ...]
    function_tools: dict[str, dict[str, Any]]
    result_tools: dict[str, dict[str, Any]]
    allow_text_result: bool
    model: str | None
    settings: dict[str, Any]


@dataclass(frozen=True)
class RunCheck:
    """One recorded run against the live agent: fresh, stale (with what changed), or unknown (why)."""

    run_id: str
    status: Staleness
    changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class CassetteCheck:
    """Every run of one cassette file that belongs to the agent."""

    path: str
    runs: tuple[RunCheck, ...]

    @property
    def status(self) -> Staleness:
        statuses = {run.status for run in self.runs}
        if "stale" in statuses:
            return "stale"
        if "unknown" in statuses or not statuses:
            return "unknown"
        return "fresh"


async def probe_definition(agent: Agent[Any, Any], *, deps: Any = None) -> AgentDefinition:
    """The live agent's definition: its first request, captured without sending it anywhere.

    Dynamic system prompts run with `deps`; one that fails without the deps it needs raises here,
    and the caller reports the runs as unknown.
    """
    configured = agent.model  # as the agent names it, before a run could resolve it
    messages, info = await probe_first_request(agent, deps=deps)
    return AgentDefinition(
        system_prompts=_system_prompts(messages),
        function_tools=_tools(info.function_tools),
        result_tools=_tools(info.result_tools),
        allow_text_result=info.allow_text_result,
        model=_model_name(configured),
        settings=dict(agent.model_settings or {}),
    )


def check_cassettes(
    paths: Iterable[str | os.PathLike[str]], agent: Agent[Any, Any], definition: AgentDefinition | None
) -> list[CassetteCheck]:
    """Each cassette's runs of `agent` checked against `definition` (None: the probe failed, all unknown)."""
    checks = []
    for path in paths:
        runs = [run for run in Cassette.load(path).runs if _belongs(run, agent)]
        checks.append(CassetteCheck(os.fspath(path), tuple(check_run(run, definition) for run in runs)))
    return checks


def _belongs(run: RecordedRun, agent: Agent[Any, Any]) -> bool:
    return run.agent is None or agent.name is None or run.agent == agent.name


def check_run(run: RecordedRun, live: AgentDefinition | None) -> RunCheck:
    """`run`'s first request against the live agent's definition (None: unknown, the probe failed)."""
    if live is None:
        return RunCheck(run.id, "unknown", ("the live agent could not be probed",))
    if not run.requests:
        return RunCheck(run.id, "unknown", ("the run recorded no model request",))
    first = run.requests[0]
    recorded = request_definition(
        [*(run.message_history or ()), *first.messages],
        first.settings,
        function_tools=first.function_tools,
        result_tools=first.result_tools,
        allow_text_result=first.allow_text_result,
        model=run.model,
    )
    changes = list(_changes(recorded, live))
    return RunCheck(run.id, "stale" if changes else "fresh", tuple(changes))


def request_definition(
    messages: Sequence[ModelMessage],
    settings: Mapping[str, Any] | None,
    *,
    function_tools: Iterable[ToolDefinition],
    result_tools: Iterable[ToolDefinition],
    allow_text_result: bool,
    model: str | None,
) -> AgentDefinition:
    """The definition an agent showed its model in a first request: its messages (history included),
    settings, the tools offered, and the model's `system:model_name`."""
    return AgentDefinition(
        system_prompts=_system_prompts(messages),
        function_tools=_tools(function_tools),
        result_tools=_tools(result_tools),
        allow_text_result=allow_text_result,
        model=model,
        settings=dict(settings or {}),
    )


def _changes(recorded: AgentDefinition, live: AgentDefinition) -> Iterable[str]:
    if recorded.system_prompts != live.system_prompts:
        yield "system prompts changed:\n" + unified_diff(
            "\n".join(recorded.system_prompts), "\n".join(live.system_prompts), actual_name="now"
        )
    yield from _tool_changes("tool", recorded.function_tools, live.function_tools)
    yield from _tool_changes("result tool", recorded.result_tools, live.result_tools)
    if recorded.allow_text_result != live.allow_text_result:
        yield f"a plain-text answer is {'now' if live.allow_text_result else 'no longer'} allowed to end the run"
    recorded_on_double = recorded.model is not None and recorded.model.split(":")[0] in _TEST_DOUBLES
    if (
        live.model is not None
        and recorded.model is not None
        and not recorded_on_double
        and _bare(recorded.model) != _bare(live.model)
    ):
        yield f"model changed: {recorded.model} → {live.model}"
    for key, value in sorted(live.settings.items()):
        if key in recorded.settings and recorded.settings[key] != value:
            yield f"setting {key!r} changed: {recorded.settings[key]!r} → {value!r}"
        elif key not in recorded.settings:
            yield f"setting {key!r} added: {value!r}"


def _tool_changes(kind: str, recorded: dict[str, dict[str, Any]], live: dict[str, dict[str, Any]]) -> Iterable[str]:
    for name in sorted(recorded.keys() - live.keys()):
        yield f"{kind} {name!r} removed"
    for name in sorted(live.keys() - recorded.keys()):
        yield f"{kind} {name!r} added"
    for name in sorted(recorded.keys() & live.keys()):
        if recorded[name] != live[name]:
            before = json.dumps(recorded[name], indent=2, sort_keys=True)
            after = json.dumps(live[name], indent=2, sort_keys=True)
            yield f"the definition of {kind} {name!r} changed:\n" + unified_diff(before, after, actual_name="now")


def _system_prompts(messages: Sequence[ModelMessage]) -> tuple[str, ...]:
    return tuple(
        part.content
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, SystemPromptPart)
    )


def _tools(tools: Iterable[ToolDefinition]) -> dict[str, dict[str, Any]]:
    """Tools by name, each as its fields with empty ones left out (so `strict: null` is no change)."""
    return {
        tool.name: {key: value for key, value in dataclasses.asdict(tool).items() if value is not None}
        for tool in tools
    }


def _model_name(model: Model | str | None) -> str | None:
    if model is None:
        return None
    return model if isinstance(model, str) else model_id(model)


def _bare(name: str) -> str:
    """`openai:gpt-4o` and `gpt-4o` name the same model: compare the part after the provider."""
    return name.partition(":")[2] or name
