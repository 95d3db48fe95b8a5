"""What provider models share: the lazily built SDK client, the API key, tool choice and error mapping."""

from __future__ import annotations

import email.utils
import importlib
import json
import os
import time
from abc import abstractmethod
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from datetime import UTC, datetime
from types import ModuleType
from typing import ClassVar, Generic, Protocol, TypeVar

import anyio
from anyio.lowlevel import RunVar

from agentkit._sources import now
from agentkit.exceptions import AgentRunError, ModelHTTPError, UnexpectedModelBehavior, UserError
from agentkit.models._base import Model, ModelRequestParameters
from agentkit.models._guard import check_model_request_allowed
from agentkit.settings import ModelSettings
from agentkit.tools import ToolDefinition

__all__ = (
    "ProviderModel",
    "close_loop_clients",
    "close_shielded",
    "import_sdk",
    "read_api_key",
    "refuse_long_retry_waits",
    "status_of_error_event",
    "timestamp_from_unix",
    "tool_choice_for",
    "tools_for",
)

ClientT = TypeVar("ClientT")


def import_sdk(module: str, extra: str) -> ModuleType:
    """Import a provider SDK, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise UserError(
            f"The {module!r} package is needed for this model but is not installed; "
            f"install it with `pip install 'agentkit[{extra}]'`"
        ) from error


def read_api_key(explicit: str | None, env_var: str, provider: str) -> str:
    """The API key given explicitly, else from `env_var`; a clear error naming `env_var` when neither."""
    key = explicit if explicit is not None else os.environ.get(env_var)
    if not key:
        raise UserError(
            f"No API key for {provider}: set the {env_var} environment variable or pass api_key=... "
            "(tests: replay a cassette instead, which needs no key)"
        )
    return key


def tools_for(parameters: ModelRequestParameters) -> list[ToolDefinition]:
    """Every tool offered in a request: the function tools, then the result tools."""
    return [*parameters.function_tools, *parameters.result_tools]


def tool_choice_for(settings: ModelSettings | None, parameters: ModelRequestParameters) -> str | None:
    """'auto', 'none', 'required' or a tool name; `None` leaves the provider's default (auto).

    The `tool_choice` setting wins; otherwise a tool is required when text is not an allowed answer.
    """
    if settings and "tool_choice" in settings:
        return settings["tool_choice"]
    if not parameters.allow_text_result and tools_for(parameters):
        return "required"
    return None


class _Closable(Protocol):
    async def close(self) -> None: ...


class _Response(Protocol):
    @property
    def headers(self) -> MutableMapping[str, str]: ...

    async def aread(self) -> bytes: ...


class _HasResponse(Protocol):
    @property
    def response(self) -> _Response: ...


_loop_clients: RunVar[list[_Closable] | None] = RunVar("agentkit_loop_clients", default=None)
"""The SDK clients provider models built in the running event loop (closed by `close_loop_clients`)."""


_any_client_built = False
"""Set (once, never reset) when a provider model first builds a client in this process: until then no
loop holds one, and `close_loop_clients` has nothing to look up (reading a `RunVar` imports anyio's
backend for the running loop, ~20 ms, which a run on a test double does not otherwise need)."""


async def close_loop_clients() -> None:
    """Close the clients provider models built in this event loop, releasing their pooled connections.

    `run_sync` calls this before its loop ends: a connection left open would be found by the
    garbage collector later, with a `ResourceWarning`, and the loop it belonged to would be gone.
    """
    if not _any_client_built:
        return
    clients = _loop_clients.get()
    if not clients:
        return
    _loop_clients.set(None)
    for client in clients:
        await close_shielded(client)


async def close_shielded(stream: _Closable) -> None:
    """Close an SDK stream, even from a scope being cancelled (so the connection is released)."""
    with anyio.CancelScope(shield=True):
        await stream.close()


_STATUS_OF_ERROR_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "insufficient_quota": 429,
    "api_error": 500,
    "server_error": 500,
    "overloaded_error": 529,
}
"""The HTTP status Anthropic's and OpenAI's documentation give each error type (Anthropic's overloaded is 529)."""


def status_of_error_event(body: object) -> int:
    """The HTTP status of an error a server sent inside a stream it had opened with 200, from the error's type.

    The same error sent before the stream opened comes with that status, and callers (`FallbackModel`
    among them) decide on it. A `code` that is an error status wins (vLLM and llama.cpp's server send
    the status there); an error whose type or code no documentation names is taken for a server error, 500.
    """
    error = body.get("error", body) if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return 500
    code, kind = error.get("code"), error.get("type")
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code < 600:
        return code
    for name in (kind, code):  # OpenAI names a rate limit in `code` ('rate_limit_exceeded'), its type is 'requests'
        if isinstance(name, str) and name in _STATUS_OF_ERROR_TYPE:
            return _STATUS_OF_ERROR_TYPE[name]
    return 500


MAX_RETRY_WAIT = 60.0
"""The longest `retry-after` worth waiting for within a run: a longer one fails the request at once.

The OpenAI SDK has this bound; the Anthropic SDK waits as long as it is told, an hour for a 429
with `retry-after: 3600`, and the run hangs that long.
"""


async def refuse_long_retry_waits(response: _Response) -> None:
    """An httpx response hook: an answer asking for a wait over `MAX_RETRY_WAIT` is not retried.

    It sets `x-should-retry: false`, the header by which the SDKs let a server forbid a retry, so
    the SDK raises the error status (`ModelHTTPError` then) instead of sleeping.
    """
    wait = _retry_after_seconds(response.headers)
    if wait is not None and wait > MAX_RETRY_WAIT:
        response.headers["x-should-retry"] = "false"


def _retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait a response asks for: `retry-after-ms`, or `retry-after` in seconds or as an HTTP date."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return float(headers.get(name, "")) * scale
        except ValueError:
            pass
    date = email.utils.parsedate_tz(headers.get("retry-after", ""))
    return None if date is None else email.utils.mktime_tz(date) - time.time()


MAX_BODY_IN_ERROR = 2000
"""How much of a body an error quotes: enough to recognise an HTML error page, not a whole one."""


def timestamp_from_unix(seconds: float | None) -> datetime:
    """A UTC datetime from a Unix timestamp such as a response's `created`; now when a server omits it."""
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds else now()


class ProviderModel(Model, Generic[ClientT]):
    """A model on a provider SDK: imports the SDK and reads the key at the first request, not before.

    A client this class builds is kept per event loop (an `anyio` `RunVar`): its pooled connections
    belong to the loop that opened them, and a second `run_sync` runs in a new loop. A client given
    by the caller is used as it is. Subclasses name their SDK and build the client in `_create_client`.
    """

    sdk_name: ClassVar[str]
    """The SDK module, also the pip extra that installs it and the `system` name, e.g. `openai`."""
    api_key_env_var: ClassVar[str]
    provider_label: ClassVar[str]
    """How errors name the provider, e.g. `OpenAI`."""
    base_url_env_var: ClassVar[str]
    """The environment variable the SDK reads its API root from, e.g. `OPENAI_BASE_URL`."""
    default_base_url: ClassVar[str]
    """The SDK's API root when neither the model nor the environment names one."""

    def __init__(self, model_name: str, *, base_url: str | None, api_key: str | None, client: ClientT | None) -> None:
        self._model_name = model_name
        self._base_url = base_url
        self._api_key = api_key
        self._given_client = client
        self._clients: RunVar[ClientT | None] = RunVar(f"agentkit_{self.sdk_name}_client", default=None)
        self._sdk: ModuleType | None = None

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def base_url(self) -> str | None:
        """The API root requests go to, written as the SDK writes it (with a trailing slash)."""
        if self._given_client is not None:
            return str(getattr(self._given_client, "base_url", self._base_url))
        url = self._base_url or os.environ.get(self.base_url_env_var) or self.default_base_url
        return url if url.endswith("/") else f"{url}/"

    @property
    def system(self) -> str | None:
        return self.sdk_name

    def _read_api_key(self) -> str:
        """The key for a client this model builds: the one given, else the environment variable's."""
        return read_api_key(self._api_key, self.api_key_env_var, self.provider_label)

    @abstractmethod
    def _create_client(self, sdk: ModuleType, api_key: str) -> ClientT:
        """Build the SDK's async client for `self.base_url` (None: the SDK's default)."""

    def _start_request(self) -> tuple[ModuleType, ClientT]:
        """Check the request guard, then get the SDK and this event loop's client, building them on first use."""
        check_model_request_allowed(f"{type(self).__name__} {self._model_name!r}")
        if self._sdk is None:
            self._sdk = import_sdk(self.sdk_name, self.sdk_name)
        if self._given_client is not None:
            return self._sdk, self._given_client
        client = self._clients.get()
        if client is None:
            global _any_client_built
            api_key = self._read_api_key()
            client = self._create_client(self._sdk, api_key)
            _any_client_built = True
            self._clients.set(client)
            built = _loop_clients.get()
            if built is None:
                built = []
                _loop_clients.set(built)
            built.append(client)  # type: ignore[arg-type]
        return self._sdk, client

    def _target(self, client: ClientT) -> str:
        return f"{self.provider_label} model {self._model_name!r} at {getattr(client, 'base_url', self.base_url)}"

    @contextmanager
    def _translate_errors(self, sdk: ModuleType, client: ClientT, *, streaming: bool = False) -> Iterator[None]:
        """Turn the SDK's errors into agentkit's: `ModelHTTPError` for an HTTP error status or an error event,
        `AgentRunError` for a network failure, `UnexpectedModelBehavior` for a body that is not JSON.

        `streaming`: the block reads a stream that has begun; a connection failing there broke it off.
        """
        transport_error = importlib.import_module("httpx2").TransportError
        try:
            yield
        except sdk.APIStatusError as error:
            status = error.status_code if error.status_code >= 400 else status_of_error_event(error.body)
            raise ModelHTTPError(status, self._model_name, error.body) from error
        except (sdk.APIConnectionError, transport_error) as error:
            target = self._target(client)
            if streaming:
                cause = error.__cause__ if isinstance(error, sdk.APIConnectionError) and error.__cause__ else error
                raise AgentRunError(
                    f"The stream from {target} broke off before its end ({cause!r}); the answer is incomplete "
                    "and was not used: send the request again"
                ) from error
            if isinstance(error, sdk.APITimeoutError):
                raise AgentRunError(
                    f"The request to {target} timed out; check that the server is up, "
                    "or raise the `timeout` model setting"
                ) from error
            raise AgentRunError(
                f"Could not reach {target}: {error.__cause__ or error!r}; "
                "check the base_url and that the server is running"
            ) from error
        except sdk.APIError as error:
            # An error event in a stream the SDK read (OpenAI's carries no status of its own).
            raise ModelHTTPError(status_of_error_event(error.body), self._model_name, error.body) from error
        except json.JSONDecodeError as error:
            what = "an event whose data is" if streaming else "a body that is"
            raise UnexpectedModelBehavior(
                f"{self._target(client)} answered with {what} not JSON ({error}); check that the base_url is "
                "the API root of a server speaking this API",
                error.doc[:MAX_BODY_IN_ERROR],
            ) from error

    def _not_json(self, client: ClientT, body: str) -> UnexpectedModelBehavior:
        """The error for an answer the SDK handed back as text, as it does when the content type is not JSON."""
        return UnexpectedModelBehavior(
            f"{self._target(client)} answered with a body that is not JSON; check that the base_url is the API "
            "root of a server speaking this API",
            body[:MAX_BODY_IN_ERROR],
        )

    async def _check_event_stream(self, client: ClientT, stream: _HasResponse) -> None:
        """Refuse a streamed answer that is not server-sent events: the SDK would read it as a stream with no events."""
        content_type = stream.response.headers.get("content-type", "")
        if "text/event-stream" in content_type:
            return
        body = (await stream.response.aread()).decode("utf-8", errors="replace")
        raise UnexpectedModelBehavior(
            f"{self._target(client)} answered a streamed request with {content_type or 'no content type'}, not "
            "server-sent events (text/event-stream); check that the base_url is the API root of a server "
            "speaking this API",
            body[:MAX_BODY_IN_ERROR],
        )
