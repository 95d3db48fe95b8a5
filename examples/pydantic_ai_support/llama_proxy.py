"""Recording aid: a loopback proxy between pydantic-ai's OpenAI model and llama.cpp's server.

The example's cassettes were recorded against the local llama.cpp server (SmolLM2-135M) that the
live tests use, with `order_desk` unchanged: its `Agent('openai:gpt-4o')` reads `OPENAI_BASE_URL`,
pointed here. The proxy adapts what that server cannot take (see .ci/LLM_SERVER_NOTES.md):

- an assistant turn with `"content": null` (a turn of tool calls only) is sent with `""`;
- `max_completion_tokens` is sent as `max_tokens`, the field the server reads;
- `tool_choice: "required"` (HTTP 500 there) becomes the one tool by name when one is offered,
  else `"auto"`.

The cassettes hold what pydantic-ai sent and what the server answered; the proxy's changes are on
the wire only. Non-streamed requests only. Usage:

    python examples/pydantic_ai_support/llama_proxy.py 8792 http://127.0.0.1:8765 &
    OPENAI_BASE_URL=http://127.0.0.1:8792/v1 OPENAI_API_KEY=sk-local \\
        python -m pytest examples/pydantic_ai_support --agentkit-record-mode=rewrite
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def adapt(body: dict[str, Any]) -> dict[str, Any]:
    """The request body as llama.cpp's server accepts it."""
    for message in body.get("messages", []):
        if message.get("role") == "assistant" and message.get("content") is None:
            message["content"] = ""
    if "max_completion_tokens" in body:
        body["max_tokens"] = body.pop("max_completion_tokens")
    if body.get("tool_choice") == "required":
        tools = body.get("tools", [])
        one = len(tools) == 1
        body["tool_choice"] = (
            {"type": "function", "function": {"name": tools[0]["function"]["name"]}} if one else "auto"
        )
    return body


def serve(port: int, upstream: str) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = adapt(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            request = urllib.request.Request(
                upstream + self.path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=300) as response:
                    status, payload = response.status, response.read()
            except urllib.error.HTTPError as error:
                status, payload = error.code, error.read()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2].rstrip("/"))
