"""HTTP-level cassettes for the provider models (vcrpy through pytest-recording), stored as readable YAML.

Bodies are kept as structures rather than escaped strings: a JSON body is stored under `json:`, a
server-sent-events body as a list of `{event, data}` under `sse:`. Credentials are scrubbed by
`agentkit_testing.vcr_config()` (auth headers, keys in URLs and bodies) and noisy or identifying
headers are dropped before anything is written. Replay is the default (`--record-mode=none`);
record with `pytest tests/models --record-mode=once` against a real server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from scripted_server import ScriptedServer, serve_pong

from agentkit_testing import vcr_config as scrubbing_vcr_config

if TYPE_CHECKING:
    from vcr import VCR  # type: ignore[import-untyped]
    from vcr.cassette import Cassette  # type: ignore[import-untyped]

CASSETTE_ROOT = Path(__file__).parent / "cassettes"

IDENTIFYING_HEADERS = ("openai-organization", "openai-project")
"""Not credentials, but they name the account: dropped (credentials are redacted by `vcr_config()`)."""
NOISY_REQUEST_HEADERS = (
    "user-agent",
    "x-stainless-arch",
    "x-stainless-async",
    "x-stainless-lang",
    "x-stainless-os",
    "x-stainless-package-version",
    "x-stainless-retry-count",
    "x-stainless-runtime",
    "x-stainless-runtime-version",
    "x-stainless-read-timeout",
    "x-stainless-timeout",
    "x-stainless-helper-method",
    "content-length",
)
DROPPED_RESPONSE_HEADERS = ("set-cookie", "openai-organization", "openai-project", "anthropic-organization-id")
"""Response headers of no use to replay that name the account or the session."""


def _parse_sse(text: str) -> list[dict[str, Any]] | None:
    """The events of a server-sent-events body, or None when it holds anything but `event:`/`data:` lines."""
    events: list[dict[str, Any]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        event: dict[str, Any] = {}
        for line in block.split("\n"):
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event" and "event" not in event:
                event["event"] = value
            elif field == "data" and "data" not in event:
                try:
                    event["data"] = json.loads(value)
                except ValueError:
                    event["data"] = value
            else:
                return None
        events.append(event)
    return events


def _render_sse(events: list[dict[str, Any]]) -> str:
    blocks = []
    for event in events:
        data = event["data"]
        lines = [f"event: {event['event']}"] if "event" in event else []
        lines.append(f"data: {data if isinstance(data, str) else json.dumps(data)}")
        blocks.append("\n".join(lines) + "\n\n")
    return "".join(blocks)


def _structured_body(text: Any, content_type: str) -> Any:
    if not isinstance(text, str) or not text:
        return text
    if "text/event-stream" in content_type:
        events = _parse_sse(text)
        return {"sse": events} if events is not None else text
    try:
        return {"json": json.loads(text)}
    except ValueError:
        return text


def _text_body(body: Any) -> Any:
    if isinstance(body, dict):
        if "json" in body:
            return json.dumps(body["json"])
        if "sse" in body:
            return _render_sse(body["sse"])
        return body.get("string")
    return body


def _content_type(headers: dict[str, list[str]]) -> str:
    for name, values in headers.items():
        if name.lower() == "content-type":
            return values[0]
    return ""


class ReadableYamlSerializer:
    """A vcrpy serializer that stores JSON and SSE bodies as YAML structures (see the module docstring)."""

    @staticmethod
    def serialize(cassette: dict[str, Any]) -> str:
        for interaction in cassette["interactions"]:
            request, response = interaction["request"], interaction["response"]
            request["body"] = _structured_body(request["body"], _content_type(request["headers"]))
            # The length changes when a body is written back as text; the client does not need it.
            response["headers"] = {
                name: values for name, values in response["headers"].items() if name.lower() != "content-length"
            }
            body = _structured_body(response["body"]["string"], _content_type(response["headers"]))
            response["body"] = body if isinstance(body, dict) else {"string": body}
        return yaml.safe_dump(cassette, sort_keys=False, allow_unicode=True, width=120)

    @staticmethod
    def deserialize(text: str) -> dict[str, Any]:
        cassette: dict[str, Any] = yaml.safe_load(text)
        for interaction in cassette["interactions"]:
            request, response = interaction["request"], interaction["response"]
            request["body"] = _text_body(request["body"])
            response["body"] = {"string": _text_body(response["body"])}
        return cassette


def pytest_recording_configure(config: pytest.Config, vcr: VCR) -> None:
    # This hook runs for every cassette of the session: only ours get the readable serializer.
    if Path(vcr.cassette_library_dir).resolve().is_relative_to(CASSETTE_ROOT.resolve()):
        vcr.register_serializer("yaml", ReadableYamlSerializer)


def _drop_identifying_response_headers(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    response["headers"] = {
        name: value for name, value in headers.items() if name.lower() not in DROPPED_RESPONSE_HEADERS
    }
    return response


@pytest.fixture
def vcr_config() -> dict[str, Any]:
    config = scrubbing_vcr_config()
    config["filter_headers"] = [*IDENTIFYING_HEADERS, *NOISY_REQUEST_HEADERS]
    config["before_record_response"].append(_drop_identifying_response_headers)
    config["match_on"] = ["method", "scheme", "host", "port", "path", "query", "body"]
    return config


@pytest.fixture
def recorded_request_bodies(vcr: Cassette) -> Callable[[], list[Any]]:
    """The JSON bodies of the requests in this test's cassette, as recorded (or being recorded)."""
    return lambda: [json.loads(request.body) for request in vcr.requests]


@pytest.fixture
def default_cassette_name(request: pytest.FixtureRequest) -> str:
    """One cassette per test, shared by its asyncio and trio runs (the id without the backend)."""
    node = request.node
    callspec = getattr(node, "callspec", None)
    ids = [] if callspec is None else [part for part in callspec.id.split("-") if part not in ("asyncio", "trio")]
    name = str(node.originalname) + (f"[{'-'.join(ids)}]" if ids else "")
    return f"{request.cls.__name__}.{name}" if request.cls else name


@pytest.fixture
def loopback_server() -> Iterator[ScriptedServer]:
    """A real HTTP server on loopback answering every chat completion with 'pong' (keep-alive on)."""
    with serve_pong() as server:
        yield server
