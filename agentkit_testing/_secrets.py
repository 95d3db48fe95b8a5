"""Keeping secrets out of cassette files: API keys, auth tokens, and whatever else you name.

A `Scrubber` rewrites every string of a cassette document before it is written: known key
shapes (OpenAI `sk-...`, Anthropic `sk-ant-...`, `Bearer ...` tokens, GitHub, AWS, Google,
Slack, Hugging Face tokens, JWTs), the values of `*_API_KEY` / `*_TOKEN` / `*_SECRET` /
`*_PASSWORD` environment variables, values under keys such as `authorization` or `api_key`,
and any pattern you add.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ("DEFAULT_SECRET_PATTERNS", "Scrubber")

DEFAULT_SECRET_PATTERNS: tuple[tuple[str, str], ...] = (
    ("anthropic-key", r"sk-ant-[A-Za-z0-9_\-]{16,}"),
    ("openai-key", r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}"),
    ("bearer-token", r"(?i)(?<=bearer )[A-Za-z0-9._~+/=\-]{8,}"),
    ("github-token", r"(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
    ("aws-access-key", r"(?:AKIA|ASIA)[0-9A-Z]{16}"),
    ("google-api-key", r"AIza[0-9A-Za-z_\-]{35}"),
    ("slack-token", r"xox[abposr]-[A-Za-z0-9\-]{10,}"),
    ("huggingface-token", r"hf_[A-Za-z0-9]{30,}"),
    ("jwt", r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
)
"""(name, regular expression) of secret shapes scrubbed by default."""

_SECRET_ENV_SUFFIXES = ("_API_KEY", "_APIKEY", "_TOKEN", "_SECRET", "_SECRET_KEY", "_ACCESS_KEY", "_PASSWORD")
_SECRET_KEYS = frozenset(
    {"authorization", "proxy-authorization", "api_key", "api-key", "apikey", "x-api-key", "password", "secret"}
    | {"token", "access_token", "refresh_token", "client_secret", "openai_api_key", "anthropic_api_key"}
)
_MIN_ENV_SECRET_LENGTH = 8
"""Shorter environment values are not scrubbed: replacing e.g. `1` everywhere would wreck the cassette."""


class Scrubber:
    """Replaces secrets in text and in plain data (dicts, lists, strings) with `<redacted:...>` markers.

    Args:
        patterns: extra regular expressions (text or compiled) whose matches are scrubbed.
        environ: where to find secret environment variables; `os.environ` by default.
        defaults: whether to scrub `DEFAULT_SECRET_PATTERNS` and secret environment variables.
    """

    def __init__(
        self,
        patterns: Iterable[str | re.Pattern[str]] = (),
        *,
        environ: Mapping[str, str] | None = None,
        defaults: bool = True,
    ) -> None:
        named: list[tuple[str, re.Pattern[str]]] = []
        if defaults:
            named.extend((name, re.compile(pattern)) for name, pattern in DEFAULT_SECRET_PATTERNS)
            values = os.environ if environ is None else environ
            secrets = sorted(
                {
                    (value, name)
                    for name, value in values.items()
                    if name.upper().endswith(_SECRET_ENV_SUFFIXES) and len(value) >= _MIN_ENV_SECRET_LENGTH
                },
                key=lambda item: -len(item[0]),
            )
            # Environment values first: a key in $OPENAI_API_KEY is named after the variable.
            named[:0] = [(f"env {name}", re.compile(re.escape(value))) for value, name in secrets]
        named.extend(
            ("pattern", pattern if isinstance(pattern, re.Pattern) else re.compile(pattern)) for pattern in patterns
        )
        self._patterns = tuple(named)
        self.check_keys = defaults

    def scrub_text(self, text: str) -> str:
        """`text` with every secret replaced by `<redacted:NAME>`."""
        for name, pattern in self._patterns:
            if pattern.search(text):
                text = pattern.sub(f"<redacted:{name}>", text)
        return text

    def scrub(self, value: Any) -> Any:
        """A copy of plain data with every string scrubbed, and values under secret-looking keys redacted."""
        if isinstance(value, str):
            return self.scrub_text(value)
        if isinstance(value, list):
            return type(value)(self.scrub(item) for item in value)
        if isinstance(value, dict):
            scrubbed: dict[Any, Any] = type(value)()
            for key, item in value.items():
                clean_key = self.scrub_text(key) if isinstance(key, str) else key
                if (
                    self.check_keys
                    and isinstance(key, str)
                    and isinstance(item, str)
                    and item
                    and key.lower() in _SECRET_KEYS
                ):
                    scrubbed[clean_key] = f"<redacted:{key.lower()}>"
                else:
                    scrubbed[clean_key] = self.scrub(item)
            return scrubbed
        return value
