"""HTTP-level cassettes (vcrpy, pytest-recording) without secrets: `vcr_config()` and the hooks it installs.

vcrpy calls `before_record_request` on every request before it is written and also before a
live request is matched against the cassette, so a scrubbed recording still matches the live
request it came from. `before_record_response` is called on every response before it is written.
Both hooks work on vcrpy's objects by their documented attributes (a request's `uri`, `headers`,
`body`; a response's `headers` and `body["string"]`): this module never imports vcr.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from agentkit_testing._secrets import MIN_ENV_SECRET_LENGTH, Scrubber, is_secret_name

__all__ = ("HttpScrubber", "is_secret_header", "vcr_config")

_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie", "set-cookie", "x-goog-api-key"}
)
_SECRET_HEADER_SUFFIXES = ("-token", "-key", "-secret", "_token", "_key", "_secret")


def is_secret_header(name: str) -> bool:
    """Whether an HTTP header carries a credential: auth and cookie headers, and any `*-token`/`*-key`/`*-secret`."""
    lowered = name.lower()
    return lowered in _SECRET_HEADERS or lowered.endswith(_SECRET_HEADER_SUFFIXES) or is_secret_name(lowered)


class HttpScrubber:
    """The vcrpy hooks: secrets out of request and response headers, URLs and bodies, by `Scrubber` rules.

    Args:
        scrubber: the rules for URLs and bodies; `Scrubber()` by default. Its view of the
            environment is refreshed at each request and response.
        secret_headers: more header names whose values are always replaced.
    """

    def __init__(self, scrubber: Scrubber | None = None, *, secret_headers: Iterable[str] = ()) -> None:
        self.scrubber = scrubber if scrubber is not None else Scrubber()
        self._extra_headers = frozenset(name.lower() for name in secret_headers)
        self._sent_secrets: dict[str, str] = {}
        """Credentials seen in requests (secret header and query values), by the name they came under.

        A server may echo the key it was sent in an error body; a key of no known shape (a local
        server's, an Azure one) is recognised there only because the request carried it.
        """

    def scrub_request(self, request: Any) -> Any:
        """vcrpy's `before_record_request`: the request with its credentials replaced by `<redacted:...>`."""
        self.scrubber.refresh()
        self._learn_secrets(request)
        for name in list(request.headers):
            request.headers[name] = self._header_value(name, request.headers[name])
        request.uri = self._text(request.uri)
        body = request.body
        if isinstance(body, bytes | str):
            request.body = self._body(body)
        return request

    def scrub_response(self, response: dict[str, Any]) -> dict[str, Any]:
        """vcrpy's `before_record_response`: credentials out of the headers and of a readable body.

        A body still compressed (an encoding vcrpy could not decode, e.g. `br` without the
        `brotli` package) or that is not UTF-8 text is left as it is.
        """
        self.scrubber.refresh()
        headers: dict[str, Any] = response.get("headers") or {}
        for name, values in list(headers.items()):
            if isinstance(values, list):
                headers[name] = [self._header_value(name, value) for value in values]
            else:
                headers[name] = self._header_value(name, values)
        body = response.get("body")
        encoded = any(
            name.lower() == "content-encoding" and value not in ([], ["identity"], "identity")
            for name, value in headers.items()
        )
        if isinstance(body, dict) and isinstance(body.get("string"), bytes | str) and not encoded:
            body["string"] = self._body(body["string"])
        return response

    def _is_secret(self, header: str) -> bool:
        return header.lower() in self._extra_headers or is_secret_header(header)

    def _learn_secrets(self, request: Any) -> None:
        found: list[tuple[str, str]] = []
        for name in request.headers:
            value = request.headers[name]
            if self._is_secret(name) and isinstance(value, str):
                scheme, _, credential = value.partition(" ")
                # `Bearer KEY`: the key alone is what a server echoes.
                found.append((name, credential if credential and scheme.isalpha() else value))
        found.extend((name, value) for name, value in parse_qsl(urlsplit(request.uri).query) if is_secret_name(name))
        for name, value in found:
            if len(value) >= MIN_ENV_SECRET_LENGTH and not value.startswith("<redacted:"):
                self._sent_secrets[value] = name.lower()

    def _text(self, text: str) -> str:
        clean = self.scrubber.scrub_text(text)
        # Longest first, so a key that holds a shorter one is replaced whole.
        for secret in sorted(self._sent_secrets, key=len, reverse=True):
            if secret in clean:
                clean = clean.replace(secret, f"<redacted:{self._sent_secrets[secret]}>")
        return clean

    def _header_value(self, name: str, value: Any) -> Any:
        if self._is_secret(name):
            return f"<redacted:{name.lower()}>"
        if isinstance(value, str):
            return self._text(value)
        return value

    def _body(self, body: bytes | str) -> bytes | str:
        if isinstance(body, str):
            return self._text(body)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return body  # binary: no text rule applies safely to it
        clean = self._text(text)
        return body if clean == text else clean.encode("utf-8")


def vcr_config(scrubber: Scrubber | None = None, *, secret_headers: Iterable[str] = ()) -> dict[str, Any]:
    """Options for vcrpy (`vcr.VCR(**vcr_config())`) or pytest-recording's `vcr_config` fixture, scrubbing secrets.

    Auth and cookie headers (and any `*-token`, `*-key`, `*-secret` header, plus `secret_headers`)
    are replaced by `<redacted:NAME>`; URLs, other header values and request and response bodies
    (401 error bodies included) are scrubbed with `scrubber` (`Scrubber()` by default: key
    shapes, secret query values such as `?key=`, secret-named JSON fields, secret environment
    variables). Compressed responses are decoded first (`decode_compressed_response`).

    The hooks are given as lists, so you can add your own::

        @pytest.fixture(scope="module")
        def vcr_config():
            config = agentkit_testing.vcr_config()
            config["before_record_response"].append(my_hook)
            return config
    """
    hooks = HttpScrubber(scrubber, secret_headers=secret_headers)
    request_hooks: list[Callable[[Any], Any]] = [hooks.scrub_request]
    response_hooks: list[Callable[[dict[str, Any]], dict[str, Any]]] = [hooks.scrub_response]
    return {
        "before_record_request": request_hooks,
        "before_record_response": response_hooks,
        "decode_compressed_response": True,
    }
