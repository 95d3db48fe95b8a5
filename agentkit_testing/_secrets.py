"""Keeping secrets out of cassette files, HTTP cassettes and error messages: what is a secret, and its redaction.

A `Scrubber` replaces every secret in a string (or in every string of plain data) with a
`<redacted:NAME>` marker. What it recognises (docs/cassette-format.md, "What is scrubbed"):

- values under secret-named fields (`api_key`, `*_token`, `password`, `authorization`, `cookie`,
  ...), as data (`{"api_key": 12345}`, numbers too) and as JSON text;
- the values of secret-named environment variables (`*_KEY`, `*_TOKEN`, `*_SECRET`,
  `*_PASSWORD`, `*_CREDENTIALS`, `*_PAT`, `API_KEY`, ...) of at least `MIN_ENV_SECRET_LENGTH`
  characters, and the passwords of URLs held in any variable, read when scrubbing (not when the
  scrubber is built), so variables set later in a test are scrubbed too;
- key shapes (`DEFAULT_SECRET_PATTERNS`), `Bearer`/`Basic` credentials, `Authorization:` and
  `Cookie:`/`Set-Cookie:` header values, `?api_key=`/`?key=`/`access_token=` query values,
  `name=value` assignments of secret names, and passwords inside URLs (`postgres://u:pw@host`);
- any pattern you add (a group named `secret`, if present, is the part redacted).

Every rule finds its matches in the original text; overlapping matches are merged and replaced
once, so a secret matched by two rules never leaves a piece behind.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ("DEFAULT_SECRET_PATTERNS", "MIN_ENV_SECRET_LENGTH", "Scrubber", "is_secret_name")

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

MIN_ENV_SECRET_LENGTH = 8
"""Shorter values of secret-named environment variables are not searched for in free text.

Replacing e.g. `1` or `true` everywhere would wreck a cassette; real keys and tokens are far
longer. A short value is still redacted wherever it sits in a recognised shape (a secret-named
field, a URL password, `password=...`, an `Authorization:` header).
"""

_NAME = (
    r"(?:[A-Za-z0-9_-]*[_-])?(?:api[_-]?key|apikey|secret|password|passwd|token|credentials|authorization|cookie"
    r"|(?:secret|private|access|signing|encryption|master|client|auth)[_-]?key)"
    r"|[A-Za-z0-9_-]*[_-]pat"
)
"""Field names whose values are secrets: `api_key`, `x-api-key`, `client_secret`, `db_password`, `access_token`,
`set-cookie`, `github_pat`, ... but not `tokens`, `max_tokens` or `outer_typed_dict_key`."""
_SECRET_NAME = re.compile(_NAME, re.IGNORECASE)

_ENV_SUFFIXES = ("_KEY", "_APIKEY", "_TOKEN", "_SECRET", "_PASSWORD", "_PASSWD", "_CREDENTIALS", "_PAT")
_ENV_NAMES = frozenset({"API_KEY", "APIKEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIALS"})
_MARKER = re.compile(r"<redacted:[^<>]*>")
_MARKER_START = "<redacted:"
_URL_PASSWORD = r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@\"'<>]*:(?P<secret>[^\s/?#\"'<>]+)@"


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a field, header or query name holds a secret (`api_key`, `X-Auth-Token`, `password`, ...)."""
    return _SECRET_NAME.fullmatch(name) is not None


def _is_secret_env_name(name: str) -> bool:
    upper = name.upper()
    return upper in _ENV_NAMES or upper.endswith(_ENV_SUFFIXES)


def _is_basic_credential(token: str) -> bool:
    """Whether `token` is base64 of `user:password`, so prose like "basic understanding" is left alone."""
    if len(token) % 4:
        return False
    try:
        return b":" in base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        return False


@dataclass(frozen=True)
class _Rule:
    """One way to find secrets: the marker name (or, with a `name` group, that group's text) and filters."""

    name: str
    pattern: re.Pattern[str]
    hints: tuple[str, ...] = ()
    """The rule only runs on texts that hold one of these (lower-case) strings: most texts skip most rules."""
    quoted: bool = False
    """The marker replaces a bare JSON value, so it is written as a JSON string."""
    check: Callable[[str], bool] | None = None
    """A test the secret must pass (e.g. that a `Basic` token really is base64 of `user:password`)."""
    name_check: Callable[[str], bool] | None = None
    """A test the `name` group must pass (cheaper than spelling every secret name in the expression)."""


_FIELD = r"[A-Za-z0-9_-]{3,64}"
"""A field or variable name; `is_secret_name` decides whether it names a secret."""

_NAME_STEMS = ("key", "secret", "passw", "token", "credential", "authorization", "cookie", "pat")
"""A secret name holds one of these: texts without any skip the name-based rules."""
_JSON_STRING = r'"(?P<secret>[^"\\]*(?:\\.[^"\\]*)*)"'

_JSON_RULES = (
    _Rule(
        "",
        re.compile(rf'"(?P<name>{_FIELD})"\s*:\s*{_JSON_STRING}'),
        hints=_NAME_STEMS,
        name_check=is_secret_name,
    ),
    _Rule(
        "",
        re.compile(rf'"(?P<name>{_FIELD})"\s*:\s*(?P<secret>-?\d[\d.eE+\-]*)'),
        hints=_NAME_STEMS,
        quoted=True,
        name_check=is_secret_name,
    ),
)
"""Secret-named fields in JSON text, first, so that streamed JSON and the parsed arguments get the same marker."""

_TEXT_RULES = (
    _Rule(
        "basic-credentials",
        re.compile(r"(?i)\bbasic\s+(?P<secret>[A-Za-z0-9+/]{4,}={0,2})"),
        hints=("basic",),
        check=_is_basic_credential,
    ),
    _Rule(
        "",
        re.compile(
            r"(?i)\b(?P<name>(?:proxy-)?authorization|x-api-key|api-key)\s*:[ \t]*"
            r"(?:(?:bearer|basic|token|digest)[ \t]+)?(?P<secret>[^\s\"',;]+)"
        ),
        hints=("authorization", "api-key"),
    ),
    _Rule("", re.compile(r"(?i)\b(?P<name>(?:set-)?cookie)\s*:[ \t]*(?P<secret>[^\r\n\"]+)"), hints=("cookie",)),
    _Rule(
        "",
        re.compile(
            r"(?i)[?&#](?P<name>api[_-]?key|key|access[_-]?token|token|auth|sig|signature)=(?P<secret>[^&\s#\"'<>]+)"
        ),
        hints=("=",),
    ),
    _Rule(
        "",
        re.compile(rf"(?<![A-Za-z0-9_-])(?P<name>{_FIELD})\s*=\s*(?P<secret>[^\s&\"',;<>]+)"),
        hints=_NAME_STEMS,
        name_check=is_secret_name,
    ),
    _Rule("url-password", re.compile(_URL_PASSWORD), hints=("://",)),
)
"""Secrets recognised by their context in text: credentials, header lines, query values, assignments, URLs."""

_SHAPE_HINTS: dict[str, tuple[str, ...]] = {
    "anthropic-key": ("sk-ant-",),
    "openai-key": ("sk-",),
    "bearer-token": ("bearer ",),
    "github-token": ("gh", "github_pat_"),
    "aws-access-key": ("akia", "asia"),
    "google-api-key": ("aiza",),
    "slack-token": ("xox",),
    "huggingface-token": ("hf_",),
    "jwt": ("eyj",),
}
_DEFAULT_SHAPES = tuple(
    _Rule(name, re.compile(pattern), hints=_SHAPE_HINTS.get(name, ())) for name, pattern in DEFAULT_SECRET_PATTERNS
)
_URL_PASSWORD_IN_ENV = re.compile(_URL_PASSWORD)


class Scrubber:
    """Replaces secrets in text and in plain data (dicts, lists, strings) with `<redacted:...>` markers.

    Args:
        patterns: extra regular expressions (text or compiled) whose matches are scrubbed; when a
            pattern has a group named `secret`, only that group is replaced.
        environ: where to find secret environment variables; `os.environ` by default. It is read
            when the scrubber is made and again by `refresh()`, which the harness calls before
            every save and every error message, so variables set later (in a test body) count.
        defaults: whether to apply the built-in rules (key shapes, secret-named fields, headers,
            URLs, secret environment variables); `False` keeps only `patterns`.
    """

    def __init__(
        self,
        patterns: Iterable[str | re.Pattern[str]] = (),
        *,
        environ: Mapping[str, str] | None = None,
        defaults: bool = True,
    ) -> None:
        self._user_rules = tuple(
            _Rule("pattern", pattern if isinstance(pattern, re.Pattern) else re.compile(pattern))
            for pattern in patterns
        )
        self._environ = environ
        self.check_keys = defaults
        """Whether values under secret-named fields are redacted (part of the defaults)."""
        self._cached_env: tuple[tuple[str, str], ...] | None = None
        self._rule_set = _RuleSet(())
        self._context_rule_set = _RuleSet(self._user_rules)
        self.refresh()

    # --- public API --------------------------------------------------------------------------

    def refresh(self) -> Scrubber:
        """Read the environment again (secret variables set since are scrubbed from now on); returns `self`."""
        self._rule_set = self._rules_for_environment()
        return self

    def scrub_text(self, text: str) -> str:
        """`text` with every secret replaced by `<redacted:NAME>`."""
        return self._rule_set.apply(text)

    def only_itself_scrubs_to(self, text: str) -> bool:
        """Whether no other text scrubs to `text`: it holds no redaction marker, and every secret
        scrubbed out of a text leaves one. `False` for a subclass that scrubs text its own way."""
        return type(self).scrub_text is Scrubber.scrub_text and _MARKER_START not in text

    def scrub(self, value: Any) -> Any:
        """A copy of plain data with every string scrubbed, and values under secret-named fields redacted."""
        return self._scrub(value, self._rule_set)

    @property
    def has_context_rules(self) -> bool:
        """Whether `find_context_secrets` can find anything (there are secret variables, or your patterns)."""
        return bool(self._context_rule_set.rules)

    def find_context_secrets(self, text: str) -> list[tuple[int, int]]:
        """Where `text` holds the value of a secret environment variable or a match of your patterns.

        These are the secrets that depend on where and when the scrubber runs; text this harness
        wrote earlier went through the other rules already. Spans are (start, end), sorted.
        """
        if not self._context_rule_set.rules:
            return []
        return [(start, end) for start, end, _ in self._context_rule_set.find(text)]

    def scrub_chunks(self, chunks: Sequence[str]) -> list[str]:
        """`chunks` (pieces of one text, e.g. a streamed answer) scrubbed as their joined text, split again.

        Secrets are found in the joined text, so a key split across chunks is found. Each chunk
        keeps its text outside secrets; a secret's marker goes to the chunk where the secret
        begins, and the chunks it runs on into lose its remainder (they may become empty). The
        scrubbed chunks joined equal the scrubbed joined text.
        """
        joined = "".join(chunks)
        spans = self._rule_set.find(joined)
        if not spans:
            return list(chunks)
        out: list[str] = []
        chunk_start = 0
        first = 0  # the first span that may still reach into the current chunk
        for chunk in chunks:
            chunk_end = chunk_start + len(chunk)
            pieces: list[str] = []
            position = chunk_start
            while first < len(spans) and spans[first][1] <= chunk_start:
                first += 1
            for span_start, span_end, marker in spans[first:]:
                if span_start >= chunk_end:
                    break
                if span_start >= chunk_start:
                    pieces.append(joined[position:span_start])
                    pieces.append(marker)
                position = min(span_end, chunk_end)
            pieces.append(joined[position:chunk_end])
            out.append("".join(pieces))
            chunk_start = chunk_end
        return out

    # --- machinery ---------------------------------------------------------------------------

    def _rules_for_environment(self) -> _RuleSet:
        """The rules for the environment as it is now (compiled again only when its secrets changed)."""
        if not self.check_keys:
            return self._rule_set if self._rule_set.rules == self._user_rules else _RuleSet(self._user_rules)
        environ = os.environ if self._environ is None else self._environ
        secrets: set[tuple[str, str]] = set()
        for name, value in environ.items():
            if _is_secret_env_name(name) and len(value) >= MIN_ENV_SECRET_LENGTH:
                secrets.add((value, name))
            if "://" in value:
                for match in _URL_PASSWORD_IN_ENV.finditer(value):
                    password = match.group("secret")
                    if len(password) >= MIN_ENV_SECRET_LENGTH:
                        secrets.add((password, f"{name} password"))
        found = tuple(sorted(secrets, key=lambda item: (-len(item[0]), item)))
        if found != self._cached_env:
            # Longest values first, so a value that contains another is named after its own variable.
            env_rules = tuple(_Rule(f"env {name}", re.compile(re.escape(value))) for value, name in found)
            self._rule_set = _RuleSet((*_JSON_RULES, *env_rules, *_DEFAULT_SHAPES, *_TEXT_RULES, *self._user_rules))
            self._context_rule_set = _RuleSet((*env_rules, *self._user_rules))
            self._cached_env = found
        return self._rule_set

    def _scrub(self, value: Any, rules: _RuleSet) -> Any:
        if isinstance(value, str):
            return rules.apply(value)
        if isinstance(value, list):
            return type(value)(self._scrub(item, rules) for item in value)
        if isinstance(value, tuple):
            items = [self._scrub(item, rules) for item in value]
            return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
        if isinstance(value, dict):
            scrubbed: dict[Any, Any] = type(value)()
            for key, item in value.items():
                clean_key = rules.apply(key) if isinstance(key, str) else key
                if self.check_keys and isinstance(key, str) and _is_redactable(item) and is_secret_name(key):
                    scrubbed[clean_key] = item if _MARKER.fullmatch(str(item)) else f"<redacted:{key.lower()}>"
                else:
                    scrubbed[clean_key] = self._scrub(item, rules)
            return scrubbed
        return value


def _is_redactable(value: Any) -> bool:
    """A value that is itself the secret: a non-empty string or a number (not a bool, not a container)."""
    if isinstance(value, bool):
        return False
    return (isinstance(value, str) and value != "") or isinstance(value, int | float)


_CACHED_TEXT_LENGTH = 80
"""Short texts (names, ids, kinds, timestamps) repeat all over a cassette: their scrubbed form is remembered."""
_CACHE_SIZE = 10_000


class _RuleSet:
    """Rules in priority order, made cheap: a rule runs only on texts holding one of its hints; short texts cached."""

    def __init__(self, rules: tuple[_Rule, ...]) -> None:
        self.rules = rules
        self._hint_patterns = tuple(
            re.compile("|".join(re.escape(hint) for hint in rule.hints)) if rule.hints else None for rule in rules
        )
        hints = sorted({hint for rule in rules for hint in rule.hints})
        self._any_hint = re.compile("|".join(re.escape(hint) for hint in hints)) if hints else None
        self._unhinted = tuple(index for index, rule in enumerate(rules) if not rule.hints)
        self._cache: dict[str, str] = {}

    def apply(self, text: str) -> str:
        """`text` with its secrets replaced by their markers."""
        short = len(text) <= _CACHED_TEXT_LENGTH
        if short:
            known = self._cache.get(text)
            if known is not None:
                return known
        spans = self.find(text)
        result = text if not spans else _replace(text, spans)
        if short and len(self._cache) < _CACHE_SIZE:
            self._cache[text] = result
        return result

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """The secrets in `text`, sorted and apart (start, end, marker): overlaps merged, the first rule naming."""
        lowered = text.lower()
        hinted = self._any_hint is not None and self._any_hint.search(lowered) is not None
        found: list[tuple[int, int, int, str]] = []
        for priority in range(len(self.rules)) if hinted else self._unhinted:
            hint_pattern = self._hint_patterns[priority]
            if hint_pattern is not None and hint_pattern.search(lowered) is None:
                continue
            found.extend(_matches(text, self.rules[priority], priority))
        return _merged(found)


def _matches(text: str, rule: _Rule, priority: int) -> list[tuple[int, int, int, str]]:
    pattern = rule.pattern
    group: int | str = "secret" if "secret" in pattern.groupindex else 0
    named = "name" in pattern.groupindex
    found: list[tuple[int, int, int, str]] = []
    for match in pattern.finditer(text):
        start, end = match.span(group)
        secret = match.group(group)
        if start >= end or _MARKER.fullmatch(secret) or (rule.check is not None and not rule.check(secret)):
            continue
        name = match.group("name") if named else None
        if name is not None and rule.name_check is not None and not rule.name_check(name):
            continue
        label = name.lower() if name else rule.name
        marker = f'"<redacted:{label}>"' if rule.quoted else f"<redacted:{label}>"
        found.append((start, end, priority, marker))
    return found


def _merged(found: list[tuple[int, int, int, str]]) -> list[tuple[int, int, str]]:
    if not found:
        return []
    found.sort()
    merged: list[tuple[int, int, int, str]] = []
    for start, end, priority, marker in found:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            keep = (priority, marker) if priority < last[2] else (last[2], last[3])
            merged[-1] = (last[0], max(end, last[1]), *keep)
        else:
            merged.append((start, end, priority, marker))
    return [(start, end, marker) for start, end, _, marker in merged]


def _replace(text: str, spans: list[tuple[int, int, str]]) -> str:
    pieces: list[str] = []
    position = 0
    for start, end, marker in spans:
        pieces.append(text[position:start])
        pieces.append(marker)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
