"""The messages exchanged with a model: requests, responses, their parts, and stream events.

Every message is a dataclass with a `kind` discriminator and every part a `part_kind` one, so a
whole history round-trips through JSON with `ModelMessagesTypeAdapter`. A user prompt may mix
text with images, audio and documents (`agentkit._user_content`): binary data is base64 in JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, NotRequired

from typing_extensions import TypedDict

from agentkit._schema_markers import PydanticMarker
from agentkit._sources import now
from agentkit._user_content import (
    AudioFormat,
    AudioMediaType,
    AudioUrl,
    BinaryContent,
    DocumentFormat,
    DocumentMediaType,
    DocumentUrl,
    ImageFormat,
    ImageMediaType,
    ImageUrl,
    PromptContentSchema,
    UserContent,
    user_prompt_text,
)
from agentkit.exceptions import UserError

__all__ = (
    "AgentStreamEvent",
    "AudioFormat",
    "AudioMediaType",
    "AudioUrl",
    "BinaryContent",
    "DocumentFormat",
    "DocumentMediaType",
    "DocumentUrl",
    "FinalResultEvent",
    "FunctionToolCallEvent",
    "FunctionToolResultEvent",
    "HandleResponseEvent",
    "ImageFormat",
    "ImageMediaType",
    "ImageUrl",
    "ModelMessage",
    "ModelMessagesTypeAdapter",
    "ModelRequest",
    "ModelRequestPart",
    "ModelResponse",
    "ModelResponsePart",
    "ModelResponsePartDelta",
    "ModelResponseStreamEvent",
    "PartDeltaEvent",
    "PartStartEvent",
    "RetryPromptPart",
    "SystemPromptPart",
    "TextPart",
    "TextPartDelta",
    "ToolCallPart",
    "ToolCallPartDelta",
    "ToolReturnPart",
    "UserContent",
    "UserPromptPart",
    "user_prompt_text",
)


def _json_text(value: Any) -> str:
    import pydantic_core  # imported on first use, as all of pydantic: `import agentkit` stays light

    return pydantic_core.to_json(value).decode()


@dataclass
class SystemPromptPart:
    """Instructions for the model, sent before the user prompt."""

    content: str
    dynamic_ref: str | None = None
    """The qualified name of the dynamic system prompt function that made this part, if any."""
    part_kind: Literal["system-prompt"] = "system-prompt"


@dataclass
class UserPromptPart:
    """What the user asked."""

    content: Annotated[str | Sequence[UserContent], PromptContentSchema]
    """Text, or a sequence of text, `ImageUrl`, `AudioUrl`, `DocumentUrl` and `BinaryContent` items."""
    timestamp: datetime = field(default_factory=now)
    part_kind: Literal["user-prompt"] = "user-prompt"


@dataclass
class ToolReturnPart:
    """What a tool returned, sent back to the model."""

    tool_name: str
    content: Any
    tool_call_id: str | None = None
    timestamp: datetime = field(default_factory=now)
    part_kind: Literal["tool-return"] = "tool-return"

    def model_response_str(self) -> str:
        """The return as text for a model API."""
        if isinstance(self.content, str):
            return self.content
        try:
            return _json_text(self.content)
        except ValueError as error:  # pydantic's serialization error, or a bare one for a circular reference
            raise _unserializable_return(self.tool_name, self.tool_call_id, self.content, error) from error

    def model_response_object(self) -> dict[str, Any]:
        """The return as a JSON object for a model API: a dict as it is, anything else wrapped as `return_value`."""
        import pydantic_core

        try:
            plain = pydantic_core.to_jsonable_python(self.content)
        except ValueError as error:  # pydantic's serialization error, or a bare one for a circular reference
            raise _unserializable_return(self.tool_name, self.tool_call_id, self.content, error) from error
        return plain if isinstance(self.content, dict) else {"return_value": plain}


def _unserializable_return(tool_name: str, tool_call_id: str | None, value: Any, error: Exception) -> UserError:
    """The error for a tool return a model could never be sent (returns go as JSON), naming the tool and the type."""
    kind = type(value)
    return UserError(
        f"Tool {tool_name!r} (tool_call_id={tool_call_id!r}) returned a {kind.__module__}.{kind.__qualname__}, "
        f"which cannot be serialized to JSON for the model ({error}); return a str, a number, a list or dict "
        "of JSON values, a pydantic model or a dataclass, or convert the value in the tool"
    )


class ErrorDetails(TypedDict):
    """One validation error as pydantic reports it: the fields of `pydantic_core.ErrorDetails`.

    Declared here, rather than imported, so that `import agentkit` does not import pydantic.
    """

    type: str
    loc: tuple[int | str, ...]
    msg: str
    input: Any
    ctx: NotRequired[dict[str, Any]]
    url: NotRequired[str]


@dataclass
class RetryPromptPart:
    """A request to the model to try again, with what went wrong.

    Sent when a tool raised `ModelRetry`, its arguments failed validation, the tool name was
    unknown, or the result was rejected.
    """

    content: list[ErrorDetails] | str
    tool_name: str | None = None
    tool_call_id: str | None = None
    timestamp: datetime = field(default_factory=now)
    part_kind: Literal["retry-prompt"] = "retry-prompt"

    def model_response(self) -> str:
        """The retry message as text for a model API."""
        if isinstance(self.content, str):
            description = self.content
        else:
            # pydantic's error context (`ctx`) is left out: it may hold the exception itself.
            errors = [{key: value for key, value in error.items() if key != "ctx"} for error in self.content]
            text = json.dumps(errors, indent=2, ensure_ascii=False, default=str)
            description = f"{len(self.content)} validation errors: {text}"
        return f"{description}\n\nFix the errors and try again."


ModelRequestPart = Annotated[
    SystemPromptPart | UserPromptPart | ToolReturnPart | RetryPromptPart,
    PydanticMarker("Discriminator", "part_kind"),
]


@dataclass
class ModelRequest:
    """A message sent to the model."""

    parts: list[ModelRequestPart]
    kind: Literal["request"] = "request"


@dataclass
class TextPart:
    """Plain text from the model."""

    content: str
    part_kind: Literal["text"] = "text"

    def has_content(self) -> bool:
        return bool(self.content)


@dataclass
class ToolCallPart:
    """The model asking for a tool to be called.

    `args` is the JSON text exactly as the model sent it, or an already decoded object.
    """

    tool_name: str
    args: str | dict[str, Any]
    tool_call_id: str | None = None
    part_kind: Literal["tool-call"] = "tool-call"

    def args_as_dict(self) -> dict[str, Any]:
        """The arguments decoded to a dict; raises `ValueError` when they are not a JSON object."""
        if isinstance(self.args, dict):
            return self.args
        decoded = json.loads(self.args) if self.args else {}
        if not isinstance(decoded, dict):
            raise ValueError(f"tool-call arguments must be a JSON object, got {type(decoded).__name__}")
        return decoded

    def args_as_json_str(self) -> str:
        """The arguments as JSON text."""
        return self.args if isinstance(self.args, str) else _json_text(self.args)

    def has_content(self) -> bool:
        return bool(self.args) if isinstance(self.args, dict) else bool(self.args.strip())


ModelResponsePart = Annotated[TextPart | ToolCallPart, PydanticMarker("Discriminator", "part_kind")]


@dataclass
class ModelResponse:
    """A message from the model."""

    parts: list[ModelResponsePart]
    model_name: str | None = None
    timestamp: datetime = field(default_factory=now)
    kind: Literal["response"] = "response"


ModelMessage = Annotated[ModelRequest | ModelResponse, PydanticMarker("Discriminator", "kind")]

if TYPE_CHECKING:
    from pydantic import TypeAdapter

    ModelMessagesTypeAdapter: TypeAdapter[list[ModelMessage]]
    """Validates and serializes a list of messages: `ModelMessagesTypeAdapter.dump_json(messages)`."""
else:

    def __getattr__(name: str) -> Any:
        # `ModelMessagesTypeAdapter` is made at its first use, which is when pydantic is imported.
        if name == "ModelMessagesTypeAdapter":
            return messages_type_adapter()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def messages_type_adapter() -> TypeAdapter[list[ModelMessage]]:
    """`ModelMessagesTypeAdapter`, made on the first call (importing pydantic) and kept as the module attribute."""
    adapter: TypeAdapter[list[ModelMessage]] | None = globals().get("ModelMessagesTypeAdapter")
    if adapter is None:
        import pydantic

        adapter = pydantic.TypeAdapter(list[ModelMessage], config=pydantic.ConfigDict(ser_json_bytes="base64"))
        globals()["ModelMessagesTypeAdapter"] = adapter
    return adapter


def _random_id() -> str:
    import uuid

    return str(uuid.uuid4())


def _exception_as_text(value: Any) -> Any:
    """JSON for what pydantic cannot serialize: an exception (a retry prompt's error `ctx`) becomes its text."""
    if isinstance(value, BaseException):
        return str(value)
    import pydantic_core

    raise pydantic_core.PydanticSerializationError(f"Unable to serialize unknown type: {type(value)}")


def messages_to_json(messages: list[ModelMessage]) -> bytes:
    """`messages` as JSON bytes, as `all_messages_json()` returns them.

    Exceptions held in a retry prompt's pydantic error context (`ctx`) are written as their text;
    any other value JSON cannot carry is an error, as with `ModelMessagesTypeAdapter.dump_json`.
    """
    return messages_type_adapter().dump_json(messages, fallback=_exception_as_text)


# --- streaming -----------------------------------------------------------------------------


@dataclass
class TextPartDelta:
    """More text for a `TextPart` being streamed."""

    content_delta: str
    part_delta_kind: Literal["text"] = "text"

    def apply(self, part: ModelResponsePart) -> TextPart:
        if not isinstance(part, TextPart):
            raise ValueError(f"cannot apply a text delta to {part!r}")
        return TextPart(part.content + self.content_delta)


@dataclass
class ToolCallPartDelta:
    """More of a `ToolCallPart` being streamed: usually a piece of its JSON arguments."""

    tool_name_delta: str | None = None
    args_delta: str | dict[str, Any] | None = None
    tool_call_id: str | None = None
    part_delta_kind: Literal["tool_call"] = "tool_call"

    def apply(self, part: ModelResponsePart) -> ToolCallPart:
        if not isinstance(part, ToolCallPart):
            raise ValueError(f"cannot apply a tool-call delta to {part!r}")
        args: str | dict[str, Any] = part.args
        if isinstance(self.args_delta, dict):
            args = {**(args if isinstance(args, dict) else {}), **self.args_delta}
        elif self.args_delta:
            if isinstance(args, dict):
                raise ValueError("cannot append JSON text to tool-call arguments that are a dict")
            args = args + self.args_delta
        return ToolCallPart(
            tool_name=part.tool_name + (self.tool_name_delta or ""),
            args=args,
            tool_call_id=self.tool_call_id or part.tool_call_id,
        )

    def as_part(self) -> ToolCallPart | None:
        """This delta as a whole `ToolCallPart` when it carries both a name and arguments, else None."""
        if self.tool_name_delta is None or self.args_delta is None:
            return None
        return ToolCallPart(self.tool_name_delta, self.args_delta, self.tool_call_id)


ModelResponsePartDelta = Annotated[
    TextPartDelta | ToolCallPartDelta, PydanticMarker("Discriminator", "part_delta_kind")
]


@dataclass
class PartStartEvent:
    """A new part of the response began streaming at `index`."""

    index: int
    part: ModelResponsePart
    event_kind: Literal["part_start"] = "part_start"


@dataclass
class PartDeltaEvent:
    """The part at `index` grew by `delta`."""

    index: int
    delta: ModelResponsePartDelta
    event_kind: Literal["part_delta"] = "part_delta"


ModelResponseStreamEvent = Annotated[PartStartEvent | PartDeltaEvent, PydanticMarker("Discriminator", "event_kind")]


@dataclass
class FinalResultEvent:
    """The part that just started carries the final result (`tool_name` is `None` for text)."""

    tool_name: str | None
    tool_call_id: str | None
    event_kind: Literal["final_result"] = "final_result"


@dataclass
class FunctionToolCallEvent:
    """A function tool is about to be called."""

    part: ToolCallPart
    call_id: str = field(default_factory=_random_id)
    """The id that the matching `FunctionToolResultEvent` carries as its `tool_call_id`."""
    event_kind: Literal["function_tool_call"] = "function_tool_call"


@dataclass
class FunctionToolResultEvent:
    """A function tool returned, or asked for a retry."""

    result: ToolReturnPart | RetryPromptPart
    tool_call_id: str | None
    event_kind: Literal["function_tool_result"] = "function_tool_result"


HandleResponseEvent = Annotated[
    FunctionToolCallEvent | FunctionToolResultEvent, PydanticMarker("Discriminator", "event_kind")
]
AgentStreamEvent = Annotated[
    PartStartEvent | PartDeltaEvent | FinalResultEvent | FunctionToolCallEvent | FunctionToolResultEvent,
    PydanticMarker("Discriminator", "event_kind"),
]
