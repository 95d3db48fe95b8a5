"""A real HTTP server on loopback that answers each request with the next reply of a script, odd ones included.

The provider tests use it to see what the models do with answers a well-behaved server never sends:
bodies that are not JSON, server-sent-event streams cut mid-event, error statuses with headers. The
connection is a real socket, so the SDKs' own HTTP stacks parse (and fail on) exactly these bytes.
`serve_pong` is the well-behaved case: the same server answering 'pong' to every request.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

SDK_STREAMS_LEFT_OPEN_UNDER_TRIO = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <async_generator object "
    "(SSEDecoder|AsyncStream|Stream|Response|PoolByteStream)\\."
    ":pytest.PytestUnraisableExceptionWarning"
)
"""For tests that stream from this server under trio: the SDKs leave their inner stream generators
unclosed after the last event (harmless), and the collector reports them."""


@dataclass(frozen=True)
class Reply:
    """One answer of the script.

    `body` is sent whole, with its length; `events` is sent as a stream, one write per item (a dict
    as a JSON `data:` line, a string as written), with chunked encoding or, for `framing='close'`, with
    no length at all so that closing the connection ends the body. `cut` closes the connection after
    the last item without ending the body properly (no last chunk): a stream broken mid-way.
    """

    status: int = 200
    body: bytes = b""
    events: Sequence[str | dict[str, Any]] | None = None
    content_type: str = "application/json"
    headers: Sequence[tuple[str, str]] = ()
    framing: Literal["chunked", "close"] = "chunked"
    cut: bool = False


def json_reply(document: object, *, status: int = 200, headers: Sequence[tuple[str, str]] = ()) -> Reply:
    return Reply(status=status, body=json.dumps(document).encode(), headers=headers)


def sse_event(name: str | None, data: dict[str, Any] | str) -> str:
    """One server-sent event, with its `event:` line when named (Anthropic) and none when not (OpenAI)."""
    text = data if isinstance(data, str) else json.dumps(data)
    return (f"event: {name}\n" if name else "") + f"data: {text}\n\n"


def sse_reply(events: Sequence[str], *, framing: Literal["chunked", "close"] = "chunked", cut: bool = False) -> Reply:
    return Reply(events=events, content_type="text/event-stream", framing=framing, cut=cut)


@dataclass
class ScriptedServer:
    """The server's URL and what it received: (path, headers with lower-case names, JSON body) per request."""

    url: str
    requests: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)


@contextmanager
def serve_script(
    replies: Sequence[Reply], *, path_prefix: str = "", then: Reply | None = None
) -> Iterator[ScriptedServer]:
    """Serve `replies` in order on a free loopback port until the block ends.

    A request past the end of the script gets `then`, or a 500 when `then` is not given.
    """
    after = then if then is not None else json_reply({"error": "no more replies"}, status=500)
    pending = list(replies)
    received: list[tuple[str, dict[str, str], Any]] = []
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            with lock:
                received.append((self.path, headers, json.loads(raw or b"null")))
                reply = pending.pop(0) if pending else after
            self.send_response(reply.status)
            self.send_header("content-type", reply.content_type)
            for name, value in reply.headers:
                self.send_header(name, value)
            if reply.events is None:
                self.send_header("content-length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
                return
            chunked = reply.framing == "chunked"
            self.send_header("transfer-encoding" if chunked else "connection", "chunked" if chunked else "close")
            self.end_headers()
            for item in reply.events:
                data = (item if isinstance(item, str) else f"data: {json.dumps(item)}\n\n").encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
                self.wfile.flush()
            if chunked and not reply.cut:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            self.close_connection = reply.cut or not chunked

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield ScriptedServer(f"http://127.0.0.1:{server.server_address[1]}{path_prefix}", received)
    finally:
        server.shutdown()
        server.server_close()


PONG = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1764148000,
    "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "pong"}, "finish_reason": "stop"}],
}
"""A chat completion whose answer is 'pong'."""


def serve_pong() -> AbstractContextManager[ScriptedServer]:
    """A chat-completions server answering every request with `PONG` (its URL ends in `/v1`, like a base URL)."""
    return serve_script((), path_prefix="/v1", then=json_reply(PONG))
