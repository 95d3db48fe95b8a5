"""A real chat-completions server on loopback for tests of the provider models' wire behaviour."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LoopbackServer:
    """A real HTTP server on loopback answering every chat completion with 'pong'; it keeps what it received."""

    url: str
    requests: list[tuple[dict[str, str], Any]] = field(default_factory=list)
    """(headers with lower-case names, JSON body) of each request, in order."""


@contextmanager
def serve_pong() -> Iterator[LoopbackServer]:
    """Serve on a free loopback port until the block ends."""
    completion = json.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1764148000,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "pong"}, "finish_reason": "stop"}],
        }
    ).encode()
    received: list[tuple[dict[str, str], Any]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            received.append(({name.lower(): value for name, value in self.headers.items()}, json.loads(body)))
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(completion)))
            self.end_headers()
            self.wfile.write(completion)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield LoopbackServer(f"http://127.0.0.1:{server.server_address[1]}/v1", received)
    finally:
        server.shutdown()
        server.server_close()
