"""`vcr_config()`: HTTP cassettes recorded by vcrpy hold no credential, and still replay."""

from __future__ import annotations

import gzip
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import vcr  # type: ignore[import-untyped]
from vcr.request import Request  # type: ignore[import-untyped]

import agentkit_testing
from agentkit_testing import Scrubber

BEARER_CANARY = "sk-proj-CANARYvcrBearer0123456789abcdef"
QUERY_CANARY = "canaryQueryVcr1"
HEADER_CANARY = "canary-custom-token-2"
BODY_CANARY = "canary-body-key-3"
COOKIE_CANARY = "canary-cookie-4"
CANARIES = (BEARER_CANARY, QUERY_CANARY, HEADER_CANARY, BODY_CANARY, COOKIE_CANARY)
BINARY_BODY = bytes(range(256)) * 4


class EchoingServer(BaseHTTPRequestHandler):
    """Answers 401 with a body that echoes the key it was sent, the way some servers do."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path.startswith("/binary"):
            payload, content_type, encoding = BINARY_BODY, "application/octet-stream", None
        else:
            key = self.headers.get("Authorization", "").removeprefix("Bearer ")
            payload = json.dumps({"error": {"message": f"Incorrect API key provided: {key}"}}).encode()
            content_type, encoding = "application/json", "gzip" if self.path.startswith("/gzip") else None
            if encoding:
                payload = gzip.compress(payload)
        self.send_response(401)
        self.send_header("Content-Type", content_type)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Set-Cookie", f"session={COOKIE_CANARY}; Path=/")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def call(url: str) -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"{url}?api_key={QUERY_CANARY}&model=m1",
        data=json.dumps({"api_key": BODY_CANARY, "prompt": "hi"}).encode(),
        headers={
            "Authorization": f"Bearer {BEARER_CANARY}",
            "X-Custom-Token": HEADER_CANARY,
            "Content-Type": "application/json",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, bytes(response.read())
    except urllib.error.HTTPError as error:
        return error.code, bytes(error.read())


def recorder(**options: Any) -> vcr.VCR:
    config = {**agentkit_testing.vcr_config(), **options}
    return vcr.VCR(match_on=["method", "scheme", "host", "port", "path", "query", "body"], **config)


@pytest.mark.parametrize("route", ["/v1/chat", "/gzip/v1/chat"])
def test_no_credential_reaches_the_http_cassette(server_url: str, tmp_path: Path, route: str) -> None:
    path = tmp_path / "http.yaml"
    with recorder().use_cassette(str(path), record_mode="once"):
        status, _ = call(server_url + route)
    assert status == 401
    text = path.read_text()
    for canary in CANARIES:
        assert canary not in text
    assert "<redacted:authorization>" in text
    assert "<redacted:x-custom-token>" in text
    assert "<redacted:set-cookie>" in text
    assert "api_key=<redacted:api_key>" in text


def test_a_scrubbed_http_cassette_replays_the_live_request(server_url: str, tmp_path: Path) -> None:
    path = tmp_path / "http.yaml"
    with recorder().use_cassette(str(path), record_mode="once"):
        call(server_url + "/v1/chat")
    with recorder().use_cassette(str(path), record_mode="none") as cassette:
        status, body = call(server_url + "/v1/chat")
        assert cassette.play_count == 1
    assert status == 401
    assert json.loads(body) == {"error": {"message": "Incorrect API key provided: <redacted:openai-key>"}}


def test_a_binary_response_is_recorded_unchanged(server_url: str, tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    with recorder().use_cassette(str(path), record_mode="once"):
        call(server_url + "/binary")
    with recorder().use_cassette(str(path), record_mode="none"):
        status, body = call(server_url + "/binary")
    assert (status, body) == (401, BINARY_BODY)


def test_a_body_vcrpy_could_not_decode_is_left_as_it_is() -> None:
    compressed = b"\x1b\x08\x00\xf8\xa5" + BEARER_CANARY.encode()  # as if brotli, which is not installed
    response = {"status": {"code": 200}, "headers": {"Content-Encoding": ["br"]}, "body": {"string": compressed}}
    (hook,) = agentkit_testing.vcr_config()["before_record_response"]
    assert hook(response)["body"]["string"] == compressed


def test_request_hook_uses_the_given_scrubber_and_extra_headers() -> None:
    config = agentkit_testing.vcr_config(Scrubber([r"INTERNAL-\d+"]), secret_headers=["X-Tenant"])
    (hook,) = config["before_record_request"]
    request = Request("POST", "https://api.example.com/v1?q=INTERNAL-42", b"ticket INTERNAL-42", {"X-Tenant": "acme"})
    scrubbed = hook(request)
    assert scrubbed.uri == "https://api.example.com/v1?q=<redacted:pattern>"
    assert scrubbed.body == b"ticket <redacted:pattern>"
    assert scrubbed.headers["X-Tenant"] == "<redacted:x-tenant>"


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("Authorization", True),
        ("X-Api-Key", True),
        ("Cookie", True),
        ("X-Amz-Security-Token", True),
        ("Content-Type", False),
        ("X-Stainless-Retry-Count", False),
        ("Anthropic-Version", False),
    ],
)
def test_secret_headers_are_recognised_by_name(name: str, secret: bool) -> None:
    from agentkit_testing._vcr import is_secret_header

    assert is_secret_header(name) is secret
