"""Errors raised by agentkit, and the signals tools use to talk back to the model.

The hierarchy::

    AgentkitError                      base of every error agentkit raises
    ├── UserError(RuntimeError)        the library was used wrongly (bad tool signature, ...)
    │   └── UnknownMediaType(ValueError)   a media type or file extension agentkit cannot name
    ├── ModelRequestsBlocked(RuntimeError)  a real model request was made while requests are blocked
    └── AgentRunError(RuntimeError)    a run could not complete
        ├── UsageLimitExceeded         a UsageLimits bound would be or was broken
        ├── UnexpectedModelBehavior    the model kept answering in a way the run cannot use
        └── ModelHTTPError             a provider answered with an HTTP error

    ModelRetry (Exception, not an AgentkitError)
        raised by a tool or result validator to ask the model to try again.
"""

from __future__ import annotations

__all__ = (
    "AgentRunError",
    "AgentkitError",
    "FallbackExceptionGroup",
    "ModelHTTPError",
    "ModelRequestsBlocked",
    "ModelRetry",
    "UnexpectedModelBehavior",
    "UnknownMediaType",
    "UsageLimitExceeded",
    "UserError",
)


class AgentkitError(Exception):
    """Base class of every error raised by agentkit and agentkit_testing."""

    message: str

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


class UserError(AgentkitError, RuntimeError):
    """agentkit was used in a way it does not support; the message says how to fix it."""


class UnknownMediaType(UserError, ValueError):
    """A URL's extension or a media type is not one agentkit knows for that kind of content.

    Also a `ValueError` (and, through `UserError`, a `RuntimeError`), as pydantic-ai raised those.
    """


class ModelRequestsBlocked(AgentkitError, RuntimeError):
    """A model that talks to a real service was asked to send a request while requests are blocked.

    A `RuntimeError` too, as pydantic-ai's guard raises one, so `pytest.raises(RuntimeError)` ports.
    """


class AgentRunError(AgentkitError, RuntimeError):
    """A run could not complete (a `RuntimeError` too, as in pydantic-ai)."""


class UsageLimitExceeded(AgentRunError):
    """A run would exceed, or has exceeded, one of its `UsageLimits`."""


class UnexpectedModelBehavior(AgentRunError):
    """The model answered in a way the run cannot use, past the retry budget.

    `message` is the description alone; `str()` adds the raw `body` when there is one.
    """

    body: str | None

    def __init__(self, message: str, body: str | None = None) -> None:
        super().__init__(message)
        self.body = body

    def __str__(self) -> str:
        return self.message if self.body is None else f"{self.message}, body:\n{self.body}"


class ModelHTTPError(AgentRunError):
    """A model provider answered a request with an HTTP error status."""

    status_code: int
    model_name: str
    body: object | None

    def __init__(self, status_code: int, model_name: str, body: object | None = None) -> None:
        self.status_code = status_code
        self.model_name = model_name
        self.body = body
        super().__init__(f"status_code: {status_code}, model_name: {model_name}, body: {body}")


class FallbackExceptionGroup(ExceptionGroup[Exception]):
    """Every model of a `FallbackModel` failed: the group holds each model's error, in the order tried."""


class ModelRetry(Exception):
    """Raise from a tool or result validator to send `message` back to the model as a retry prompt.

    This is a control-flow signal, not an error: it never escapes a run.
    """

    message: str

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)
