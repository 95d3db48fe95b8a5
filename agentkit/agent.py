"""`Agent`: a model, tools, a system prompt and a result type, run as a sequence of nodes."""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import FrameType
from typing import Any, Generic, overload

import anyio

from agentkit._capture import captured_messages_list
from agentkit._context import AgentDepsT
from agentkit._function_schema import DocstringFormat, takes_run_context
from agentkit._hooks import RunInfo, RunObserver, active_interceptors
from agentkit._nodes import GraphAgentDeps, GraphAgentState, GraphRunContext, ModelRequestNode
from agentkit._run import AgentRun, RunResult
from agentkit._run_stream import StreamedRunResult, stream_final_result
from agentkit.exceptions import UserError
from agentkit.messages import ModelMessage, ModelRequest, SystemPromptPart, UserContent, UserPromptPart
from agentkit.models._base import Model
from agentkit.models._infer import KnownModelName, infer_model
from agentkit.result import ResultDataT, ResultSchema, ResultValidator, ResultValidatorFunc
from agentkit.settings import ModelSettings, merge_model_settings
from agentkit.tools import Tool, ToolPrepareFunc
from agentkit.usage import Usage, UsageLimits

__all__ = ("Agent",)

SystemPromptFunc = Callable[..., "str | Awaitable[str]"]
ToolFunc = Callable[..., Any]
_UNSET: Any = object()
_NONE_TYPE = type(None)


@dataclass(frozen=True)
class _ToolOptions:
    name: str | None
    retries: int | None
    prepare: ToolPrepareFunc | None
    docstring_format: DocstringFormat
    require_parameter_descriptions: bool


class Agent(Generic[AgentDepsT, ResultDataT]):
    """A model with tools, a system prompt and a typed result.

    Building an agent needs no API key and no network: model strings such as `'openai:gpt-4o'`
    resolve to a model whose SDK and key are loaded at its first request.

    Args:
        model: the default model, a `Model` or a model name; may be given per run instead.
        result_type: the type of `result.data`; `str` ends on plain text, anything else is
            offered to the model as the `final_result` tool and validated with pydantic.
        system_prompt: static system prompts.
        deps_type: the type of the dependencies given to runs (for type checkers only).
        tools: tools, as functions or `Tool` objects.
        retries: retries allowed for each tool in a row.
        result_retries: retries allowed for the result in a row; `retries` when omitted.
        model_settings: settings for every request, over the model's and under the run's.
        name: the agent's name; inferred from the variable it is assigned to when omitted.
        instrument: accepted for API compatibility; agentkit emits no telemetry.
    """

    def __init__(
        self,
        model: Model | KnownModelName | None = None,
        *,
        result_type: type[ResultDataT] | Any = str,
        system_prompt: str | Sequence[str] = (),
        deps_type: type[AgentDepsT] | Any = _NONE_TYPE,
        tools: Sequence[Tool[AgentDepsT] | ToolFunc] = (),
        retries: int = 1,
        result_retries: int | None = None,
        result_tool_name: str = "final_result",
        model_settings: ModelSettings | None = None,
        name: str | None = None,
        instrument: bool = False,
    ) -> None:
        self.model: Model | KnownModelName | None = model
        self._resolved_model: Model | None = None
        self.result_type = result_type
        self.name = name
        self.deps_type = deps_type
        self.model_settings = model_settings
        self.instrument = instrument
        self._default_retries = retries
        self._max_result_retries = retries if result_retries is None else result_retries
        self._result_schema = ResultSchema.build(result_type, name=result_tool_name)
        self._result_tool_name = result_tool_name
        self._result_schemas: dict[Any, ResultSchema] = {result_type: self._result_schema}
        self._system_prompts: list[str] = [system_prompt] if isinstance(system_prompt, str) else list(system_prompt)
        self._system_prompt_functions: list[tuple[SystemPromptFunc, bool]] = []
        self._result_validators: list[ResultValidator] = []
        self._function_tools: dict[str, Tool[Any]] = {}
        for tool in tools:
            if not isinstance(tool, Tool) and not callable(tool):
                raise UserError(f"Expected a function or a Tool in tools, got {tool!r} (type={type(tool).__name__})")
            self._register(tool if isinstance(tool, Tool) else Tool(tool))
        self._override_model: ContextVar[Model | None] = ContextVar(f"agentkit_override_model_{id(self)}", default=None)
        self._override_deps: ContextVar[Any] = ContextVar(f"agentkit_override_deps_{id(self)}", default=_UNSET)

    def __repr__(self) -> str:
        model = self.model if isinstance(self.model, str | None) else self.model.model_name
        return f"Agent(model={model!r}, name={self.name!r}, result_type={self.result_type!r})"

    # --- registration ------------------------------------------------------------------------

    def _register(self, tool: Tool[Any]) -> None:
        if tool.name in self._function_tools:
            raise UserError(f"Tool name conflicts with existing tool: {tool.name!r}")
        if tool.name == self._result_tool_name and self._result_schema.tool is not None:
            raise UserError(f"Tool name conflicts with the result tool name: {tool.name!r}")
        self._function_tools[tool.name] = tool

    @overload
    def tool(self, function: ToolFunc, /) -> ToolFunc: ...
    @overload
    def tool(
        self,
        /,
        *,
        name: str | None = None,
        retries: int | None = None,
        prepare: ToolPrepareFunc | None = None,
        docstring_format: DocstringFormat = "auto",
        require_parameter_descriptions: bool = False,
    ) -> Callable[[ToolFunc], ToolFunc]: ...

    def tool(
        self,
        function: ToolFunc | None = None,
        /,
        *,
        name: str | None = None,
        retries: int | None = None,
        prepare: ToolPrepareFunc | None = None,
        docstring_format: DocstringFormat = "auto",
        require_parameter_descriptions: bool = False,
    ) -> Any:
        """Register a tool whose first parameter is the `RunContext`; usable bare or with options."""
        options = _ToolOptions(name, retries, prepare, docstring_format, require_parameter_descriptions)
        return self._tool_decorator(function, options, takes_ctx=True)

    @overload
    def tool_plain(self, function: ToolFunc, /) -> ToolFunc: ...
    @overload
    def tool_plain(
        self,
        /,
        *,
        name: str | None = None,
        retries: int | None = None,
        prepare: ToolPrepareFunc | None = None,
        docstring_format: DocstringFormat = "auto",
        require_parameter_descriptions: bool = False,
    ) -> Callable[[ToolFunc], ToolFunc]: ...

    def tool_plain(
        self,
        function: ToolFunc | None = None,
        /,
        *,
        name: str | None = None,
        retries: int | None = None,
        prepare: ToolPrepareFunc | None = None,
        docstring_format: DocstringFormat = "auto",
        require_parameter_descriptions: bool = False,
    ) -> Any:
        """Register a tool that does not take the `RunContext`; usable bare or with options."""
        options = _ToolOptions(name, retries, prepare, docstring_format, require_parameter_descriptions)
        return self._tool_decorator(function, options, takes_ctx=False)

    def _tool_decorator(self, function: ToolFunc | None, options: _ToolOptions, *, takes_ctx: bool) -> Any:
        def register(func: ToolFunc) -> ToolFunc:
            if not takes_ctx and takes_run_context(func):
                raise UserError(
                    f"Tool {options.name or func.__name__!r} takes a RunContext; "
                    "register it with `tool`, not `tool_plain`"
                )
            self._register(
                Tool(
                    func,
                    takes_ctx=takes_ctx,
                    max_retries=options.retries,
                    name=options.name,
                    prepare=options.prepare,
                    docstring_format=options.docstring_format,
                    require_parameter_descriptions=options.require_parameter_descriptions,
                )
            )
            return func

        return register(function) if function is not None else register

    def system_prompt(self, function: SystemPromptFunc, /) -> SystemPromptFunc:
        """Register a function (sync or async, with or without `RunContext`) that returns a system prompt."""
        self._system_prompt_functions.append((function, takes_run_context(function)))
        return function

    def result_validator(self, function: ResultValidatorFunc, /) -> ResultValidatorFunc:
        """Register a validator of the result; it may return a changed result or raise `ModelRetry`."""
        self._result_validators.append(ResultValidator.wrap(function))
        return function

    # --- overrides ---------------------------------------------------------------------------

    @contextmanager
    def override(self, *, model: Model | KnownModelName | Any = _UNSET, deps: Any = _UNSET) -> Iterator[None]:
        """Use `model` and/or `deps` for runs of this agent inside the block (context-local), e.g. in tests."""
        model_token = self._override_model.set(infer_model(model)) if model is not _UNSET else None
        deps_token = self._override_deps.set(deps) if deps is not _UNSET else None
        try:
            yield
        finally:
            if deps_token is not None:
                self._override_deps.reset(deps_token)
            if model_token is not None:
                self._override_model.reset(model_token)

    def _pick_model(self, model: Model | KnownModelName | None) -> Model:
        override = self._override_model.get()
        if override is not None:
            return override
        if model is not None:
            return infer_model(model)
        if self.model is None:
            raise UserError("`model` must be set either when creating the agent or when running it")
        if self._resolved_model is None:
            self._resolved_model = infer_model(self.model)
        return self._resolved_model

    def _schema_for(self, result_type: Any) -> ResultSchema:
        schema = self._result_schemas.get(result_type)
        if schema is None:
            schema = ResultSchema.build(result_type, name=self._result_tool_name)
            self._result_schemas[result_type] = schema
        return schema

    # --- running -----------------------------------------------------------------------------

    def iter(
        self,
        user_prompt: str | Sequence[UserContent],
        *,
        result_type: type[Any] | None = None,
        message_history: list[ModelMessage] | None = None,
        model: Model | KnownModelName | None = None,
        deps: AgentDepsT = None,  # type: ignore[assignment]
        model_settings: ModelSettings | None = None,
        usage_limits: UsageLimits | None = None,
        usage: Usage | None = None,
        infer_name: bool = True,
    ) -> AbstractAsyncContextManager[AgentRun[AgentDepsT, Any]]:
        """A context manager over a run, yielding an `AgentRun` to iterate node by node."""
        if infer_name and self.name is None:
            self._infer_name(inspect.currentframe())
        return self._iter(
            user_prompt,
            result_type=result_type,
            message_history=message_history,
            model=model,
            deps=deps,
            model_settings=model_settings,
            usage_limits=usage_limits,
            usage=usage,
        )

    @asynccontextmanager
    async def _iter(
        self,
        user_prompt: str | Sequence[UserContent],
        *,
        result_type: type[Any] | None,
        message_history: list[ModelMessage] | None,
        model: Model | KnownModelName | None,
        deps: Any,
        model_settings: ModelSettings | None,
        usage_limits: UsageLimits | None,
        usage: Usage | None,
        streamed: bool = False,
    ) -> AsyncIterator[AgentRun[AgentDepsT, Any]]:
        run_model = self._pick_model(model)
        override_deps = self._override_deps.get()
        if override_deps is not _UNSET:
            deps = override_deps
        if not isinstance(user_prompt, str) and not (
            isinstance(user_prompt, Sequence) and all(isinstance(item, str) for item in user_prompt)
        ):
            raise UserError(
                f"Expected the user prompt to be a str or a sequence of str, got {user_prompt!r} "
                f"(type={type(user_prompt).__name__})"
            )
        prompt_text = user_prompt if isinstance(user_prompt, str) else "\n".join(user_prompt)
        observers: list[RunObserver] = []
        interceptors = active_interceptors()
        if interceptors:
            info = RunInfo(self.name, run_model, prompt_text, message_history, streamed, interceptors)
            for interceptor in interceptors:
                observer = interceptor.start_run(info)
                if observer is not None:
                    observers.append(observer)
                    run_model = observer.wrap_model(run_model)

        history = captured_messages_list()
        if history is None:
            history = []
        history.extend(message_history or ())
        state = GraphAgentState(message_history=history, usage=usage if usage is not None else Usage())
        run_deps = GraphAgentDeps(
            user_deps=deps,
            prompt=prompt_text,
            new_message_index=len(history),
            model=run_model,
            model_settings=merge_model_settings(self.model_settings, model_settings),
            usage_limits=usage_limits or UsageLimits(),
            max_result_retries=self._max_result_retries,
            default_tool_retries=self._default_retries,
            function_tools=self._function_tools,
            result_schema=self._result_schema if result_type is None else self._schema_for(result_type),
            result_validators=self._result_validators,
            observers=observers,
        )
        ctx = GraphRunContext(state, run_deps)
        error: BaseException | None = None
        agent_run: AgentRun[AgentDepsT, Any] | None = None
        try:
            parts: list[Any] = [] if history else await self._system_prompt_parts(ctx)
            parts.append(UserPromptPart(user_prompt if isinstance(user_prompt, str) else list(user_prompt)))
            agent_run = AgentRun(ctx, ModelRequestNode(ModelRequest(parts=parts)), observers)
            yield agent_run
        except BaseException as exc:
            error = exc
            raise
        finally:
            if observers:
                final = agent_run.result if agent_run is not None else None
                for observer in observers:
                    observer.on_end(final, error)

    async def _system_prompt_parts(self, ctx: GraphRunContext) -> list[Any]:
        parts: list[Any] = [SystemPromptPart(prompt) for prompt in self._system_prompts]
        if self._system_prompt_functions:
            run_context = ctx.run_context()
            for function, takes_ctx in self._system_prompt_functions:
                value = function(run_context) if takes_ctx else function()
                if inspect.isawaitable(value):
                    value = await value
                parts.append(SystemPromptPart(str(value)))
        return parts

    async def run(
        self,
        user_prompt: str | Sequence[UserContent],
        *,
        result_type: type[Any] | None = None,
        message_history: list[ModelMessage] | None = None,
        model: Model | KnownModelName | None = None,
        deps: AgentDepsT = None,  # type: ignore[assignment]
        model_settings: ModelSettings | None = None,
        usage_limits: UsageLimits | None = None,
        usage: Usage | None = None,
        infer_name: bool = True,
    ) -> RunResult[Any]:
        """Run the agent to the end and return its result."""
        if infer_name and self.name is None:
            self._infer_name(inspect.currentframe())
        async with self._iter(
            user_prompt,
            result_type=result_type,
            message_history=message_history,
            model=model,
            deps=deps,
            model_settings=model_settings,
            usage_limits=usage_limits,
            usage=usage,
        ) as agent_run:
            node = agent_run.next_node
            while agent_run.result is None:
                node = await agent_run.next(node)
        return agent_run.result

    def run_sync(
        self,
        user_prompt: str | Sequence[UserContent],
        *,
        result_type: type[Any] | None = None,
        message_history: list[ModelMessage] | None = None,
        model: Model | KnownModelName | None = None,
        deps: AgentDepsT = None,  # type: ignore[assignment]
        model_settings: ModelSettings | None = None,
        usage_limits: UsageLimits | None = None,
        usage: Usage | None = None,
        infer_name: bool = True,
    ) -> RunResult[Any]:
        """Run the agent to the end in a new event loop; not for use inside async code."""
        backend = _running_event_loop()
        if backend is not None:
            raise UserError(
                f"run_sync cannot be called from inside a running {backend} event loop; use `await agent.run(...)`"
            )
        if infer_name and self.name is None:
            self._infer_name(inspect.currentframe())

        async def main() -> RunResult[Any]:
            return await self.run(
                user_prompt,
                result_type=result_type,
                message_history=message_history,
                model=model,
                deps=deps,
                model_settings=model_settings,
                usage_limits=usage_limits,
                usage=usage,
                infer_name=False,
            )

        return anyio.run(main)

    @asynccontextmanager
    async def run_stream(
        self,
        user_prompt: str | Sequence[UserContent],
        *,
        result_type: type[Any] | None = None,
        message_history: list[ModelMessage] | None = None,
        model: Model | KnownModelName | None = None,
        deps: AgentDepsT = None,  # type: ignore[assignment]
        model_settings: ModelSettings | None = None,
        usage_limits: UsageLimits | None = None,
        usage: Usage | None = None,
        infer_name: bool = True,
    ) -> AsyncIterator[StreamedRunResult[AgentDepsT, Any]]:
        """Run until the model starts its final answer, then stream that answer.

        Tool calls before it run as usual. Read the answer with `stream_text()`, `stream()` or
        `get_data()`; leaving the block early ends the run, counting what was received.
        """
        if infer_name and self.name is None:
            self._infer_name(inspect.currentframe())
        async with (
            self._iter(
                user_prompt,
                result_type=result_type,
                message_history=message_history,
                model=model,
                deps=deps,
                model_settings=model_settings,
                usage_limits=usage_limits,
                usage=usage,
                streamed=True,
            ) as agent_run,
            stream_final_result(agent_run) as streamed,
        ):
            yield streamed

    def _infer_name(self, frame: FrameType | None) -> None:
        """Name the agent after the variable that holds it in the caller's scope."""
        caller = frame.f_back if frame is not None else None
        if caller is None:
            return
        for scope in (caller.f_locals, caller.f_globals):
            for name, value in scope.items():
                if value is self:
                    self.name = name
                    return


def _running_event_loop() -> str | None:
    """The name of the event loop running in this thread, if any."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        return "asyncio"
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            trio.lowlevel.current_trio_token()
        except RuntimeError:
            pass
        else:
            return "trio"
    return None
