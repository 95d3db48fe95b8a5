"""`Agent`: a model, tools, a system prompt and a result type, run as a sequence of nodes."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from contextvars import ContextVar
from types import FrameType
from typing import Any, Generic, TypeGuard

from typing_extensions import TypeVar, deprecated

from agentkit._capture import capture_run_messages, claim_captured_messages
from agentkit._context import AgentDepsT
from agentkit._graph._graph_context import EndStrategy, GraphAgentDeps, GraphAgentState, GraphRunContext
from agentkit._graph._hooks import RunInfo, RunObserver, active_interceptors
from agentkit._graph._nodes import AgentNode, CallToolsNode, End, ModelRequestNode, UserPromptNode
from agentkit._graph._run import AgentRun, AgentRunResult, RunResult
from agentkit._graph._run_stream import StreamedRunResult, stream_final_result
from agentkit._graph._system_prompt import SystemPromptRunner
from agentkit._imports import imported
from agentkit._registration import AgentRegistry, ToolFunc
from agentkit.exceptions import UserError
from agentkit.messages import (
    AudioUrl,
    BinaryContent,
    DocumentUrl,
    ImageUrl,
    ModelMessage,
    ModelRequest,
    SystemPromptPart,
    UserContent,
    UserPromptPart,
    user_prompt_text,
)
from agentkit.models._base import Model
from agentkit.models._infer import KnownModelName, infer_model
from agentkit.models._provider import close_loop_clients
from agentkit.result import ResultDataT, ResultSchema, ResultValidator
from agentkit.settings import ModelSettings, merge_model_settings
from agentkit.tools import Tool
from agentkit.usage import Usage, UsageLimits

__all__ = (
    "Agent",
    "AgentRun",
    "AgentRunResult",
    "CallToolsNode",
    "EndStrategy",
    "ModelRequestNode",
    "UserPromptNode",
    "capture_run_messages",
)


T = TypeVar("T")
_UNSET: Any = object()
_NONE_TYPE = type(None)


class Agent(AgentRegistry, Generic[AgentDepsT, ResultDataT]):
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
        result_tool_name: the name of the result tool (`final_result`); with a union result type,
            each member's tool is named `<result_tool_name>_<MemberName>`.
        result_tool_description: the description of the result tool; the result type's docstring
            is appended to it when it has one.
        defer_model_check: by default a model name is resolved to a `Model` when the agent is
            built (an unknown name fails there); set to `True` to resolve it at the first run.
        end_strategy: what to do with the other tool calls of a response that carries a final
            result: `'early'` (default) answers them without running them, `'exhaustive'` runs
            the function tools anyway.
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
        result_tool_description: str | None = None,
        model_settings: ModelSettings | None = None,
        name: str | None = None,
        defer_model_check: bool = False,
        end_strategy: EndStrategy = "early",
        instrument: bool | None = None,
    ) -> None:
        if end_strategy not in ("early", "exhaustive"):
            raise UserError(f"end_strategy must be 'early' or 'exhaustive', got {end_strategy!r}")
        self.model: Model | KnownModelName | None = model if model is None or defer_model_check else infer_model(model)
        self.end_strategy: EndStrategy = end_strategy
        self.result_type = result_type
        self.name = name
        self.deps_type = deps_type
        self.model_settings = model_settings
        self.instrument = instrument
        self._default_retries = retries
        self._max_result_retries = retries if result_retries is None else result_retries
        self._result_tool_name = result_tool_name
        self._result_tool_description = result_tool_description
        self._result_schema = ResultSchema.build(
            result_type, name=result_tool_name, description=result_tool_description
        )
        self._result_schemas: dict[Any, ResultSchema] = {result_type: self._result_schema}
        self._system_prompts: list[str] = [system_prompt] if isinstance(system_prompt, str) else list(system_prompt)
        self._system_prompt_functions: list[SystemPromptRunner] = []
        self._system_prompt_dynamic_functions: dict[str, SystemPromptRunner] = {}
        self._result_validators: list[ResultValidator] = []
        self._function_tools: dict[str, Tool[Any]] = {}
        for tool in tools:
            if not isinstance(tool, Tool) and not callable(tool):
                raise UserError(f"Expected a function or a Tool in tools, got {tool!r} (type={type(tool).__name__})")
            self._register(tool if isinstance(tool, Tool) else Tool(tool))
        self._override_model: ContextVar[Model | None] = ContextVar(f"agentkit_override_model_{id(self)}", default=None)
        self._override_deps: ContextVar[Any] = ContextVar(f"agentkit_override_deps_{id(self)}", default=_UNSET)

    def __repr__(self) -> str:
        # the fields the reference release's dataclass repr shows, in its order
        return (
            f"Agent(model={self.model!r}, name={self.name!r}, end_strategy={self.end_strategy!r}, "
            f"model_settings={self.model_settings!r}, instrument={self.instrument!r})"
        )

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
            if model is None and self.model is None:
                # an override must not hide that runs outside it would have no model
                raise UserError(
                    "`model` must be set either when creating the agent or when calling it. "
                    "(Even when `override(model=...)` is customizing the model that will actually be called)"
                )
            return override
        if model is not None:
            return infer_model(model)
        if self.model is None:
            raise UserError("`model` must be set either when creating the agent or when calling it.")
        if not isinstance(self.model, Model):
            self.model = infer_model(self.model)
        return self.model

    def _schema_for(self, result_type: Any) -> ResultSchema:
        if self._result_validators:
            raise UserError("Cannot set a custom run `result_type` when the agent has result validators")
        schema = self._result_schemas.get(result_type)
        if schema is None:
            schema = ResultSchema.build(
                result_type, name=self._result_tool_name, description=self._result_tool_description
            )
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
        _check_user_prompt(user_prompt)
        prompt_text = user_prompt_text(user_prompt)
        observers: list[RunObserver] = []
        interceptors = active_interceptors()
        if interceptors:
            info = RunInfo(self.name, run_model, prompt_text, message_history, streamed, interceptors, deps=deps)
            for interceptor in interceptors:
                observer = interceptor.start_run(info)
                if observer is not None:
                    observers.append(observer)
                    run_model = observer.wrap_model(run_model)

        history = claim_captured_messages()
        history.extend(message_history or ())
        state = GraphAgentState(message_history=history, usage=usage if usage is not None else Usage())
        run_deps = GraphAgentDeps(
            user_deps=deps,
            prompt=user_prompt,
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
            end_strategy=self.end_strategy,
        )
        ctx = GraphRunContext(state, run_deps)
        error: BaseException | None = None
        agent_run: AgentRun[AgentDepsT, Any] | None = None
        try:
            if history:
                await self._reevaluate_dynamic_prompts(history, ctx)
            parts: list[Any] = [] if history else await self._system_prompt_parts(ctx)
            parts.append(UserPromptPart(user_prompt if isinstance(user_prompt, str) else list(user_prompt)))
            agent_run = AgentRun(ctx, ModelRequestNode(ModelRequest(parts=parts)), observers, user_prompt)
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
            for runner in self._system_prompt_functions:
                content = await runner.run(run_context)
                parts.append(SystemPromptPart(content, dynamic_ref=runner.ref if runner.dynamic else None))
        return parts

    async def _reevaluate_dynamic_prompts(self, history: list[ModelMessage], ctx: GraphRunContext) -> None:
        """Give the dynamic system prompt parts of a message history their value for this run.

        As in the reference release, the parts are replaced in the given messages themselves.
        """
        if not self._system_prompt_dynamic_functions:
            return
        run_context = ctx.run_context()
        for message in history:
            if not isinstance(message, ModelRequest):
                continue
            for index, part in enumerate(message.parts):
                if isinstance(part, SystemPromptPart) and part.dynamic_ref:
                    runner = self._system_prompt_dynamic_functions.get(part.dynamic_ref)
                    if runner is not None:
                        content = await runner.run(run_context)
                        message.parts[index] = SystemPromptPart(content, dynamic_ref=part.dynamic_ref)

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
            try:
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
            finally:
                await close_loop_clients()

        return _run_in_new_asyncio_loop(main)

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
            frame = inspect.currentframe()
            # `asynccontextmanager` puts its own frame between this one and the caller's
            self._infer_name(frame.f_back if frame is not None else None)
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

    @property
    @deprecated(
        "The `last_run_messages` attribute has been removed, use `capture_run_messages` instead.", category=None
    )
    def last_run_messages(self) -> list[ModelMessage]:
        """Removed, as in the reference release: use `capture_run_messages`."""
        raise AttributeError("The `last_run_messages` attribute has been removed, use `capture_run_messages` instead.")

    # --- node type guards ----------------------------------------------------------------------

    @staticmethod
    def is_model_request_node(node: AgentNode) -> TypeGuard[ModelRequestNode]:
        """Whether `node` is a `ModelRequestNode` (narrowing its type for type checkers)."""
        return isinstance(node, ModelRequestNode)

    @staticmethod
    def is_call_tools_node(node: AgentNode) -> TypeGuard[CallToolsNode]:
        """Whether `node` is a `CallToolsNode` (narrowing its type for type checkers)."""
        return isinstance(node, CallToolsNode)

    @staticmethod
    def is_handle_response_node(node: AgentNode) -> TypeGuard[CallToolsNode]:
        """`is_call_tools_node` under the name earlier releases gave it."""
        return isinstance(node, CallToolsNode)

    @staticmethod
    def is_user_prompt_node(node: AgentNode | UserPromptNode) -> TypeGuard[UserPromptNode]:
        """Whether `node` is the `UserPromptNode` a run driven by hand starts at (iteration never yields it)."""
        return isinstance(node, UserPromptNode)

    @staticmethod
    def is_end_node(node: AgentNode) -> TypeGuard[End[Any]]:
        """Whether `node` is the `End` of the run (narrowing its type for type checkers)."""
        return isinstance(node, End)


def _run_in_new_asyncio_loop(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run `main` to its end in a new asyncio event loop, which is closed after it (as `anyio.run` does).

    asyncio's own runner rather than `anyio.run`: importing anyio's asyncio backend costs about as
    much as asyncio itself (~20 ms), and a run whose tools are coroutines needs nothing of it
    (agentkit uses asyncio's tasks under asyncio, see `_threads`). Code in the loop that uses
    anyio (a sync tool's worker thread, a tool calling `anyio.sleep`) imports it then: anyio runs
    in any asyncio loop, and finds it through sniffio as it would find its own.
    """
    import asyncio

    with asyncio.Runner() as runner:
        return runner.run(main())


def _running_event_loop() -> str | None:
    """The name of the event loop running in this thread, if any."""
    asyncio = imported("asyncio")  # not imported: no asyncio loop can be running
    if asyncio is not None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            return "asyncio"
    trio = imported("trio")
    if trio is not None:
        try:
            trio.lowlevel.current_trio_token()
        except RuntimeError:
            pass
        else:
            return "trio"
    return None


_USER_CONTENT_TYPES = (str, ImageUrl, AudioUrl, DocumentUrl, BinaryContent)


def _check_user_prompt(user_prompt: object) -> None:
    """A clear `UserError` for a prompt that is not text or a sequence of `UserContent` items."""
    expected = "a str or a sequence of str, ImageUrl, AudioUrl, DocumentUrl and BinaryContent items"
    if isinstance(user_prompt, str):
        return
    if not isinstance(user_prompt, Sequence):
        raise UserError(
            f"Expected the user prompt to be {expected}, got {user_prompt!r} (type={type(user_prompt).__name__})"
        )
    for index, item in enumerate(user_prompt):
        if not isinstance(item, _USER_CONTENT_TYPES):
            raise UserError(
                f"Expected the user prompt to be {expected}, but item {index} is {item!r} (type={type(item).__name__})"
            )
