"""Deciding whether a live request is the recorded one: fields compared, fields ignored, normalizers.

A live request matches its recording when its new messages, tools, result tools and settings
are equal once timestamps are left out (they are never compared: replay restores them), the
fields named in `Matching.ignore` are dropped, and the `Matching.normalizers` (and the cassette's
secret scrubber) have been applied to every string. Values are equal when their JSON forms are
(`same_json`): types count, so `1`, `1.0` and `True` are three values, while a tuple equals the
list it is written as. Normalizing only happens when the plain comparison fails.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeAlias

from agentkit import ModelRequest, ModelResponse, RetryPromptPart, ToolDefinition, UserError
from agentkit.models import ModelRequestParameters
from agentkit_testing._cassette._codec import encode_messages, to_plain
from agentkit_testing._cassette._records import RecordedRequest
from agentkit_testing._deps_identity import deps_identity
from agentkit_testing._secrets import Scrubber

__all__ = (
    "FIELD_LABELS",
    "Comparator",
    "Matching",
    "Mismatch",
    "Normalizer",
    "RunKey",
    "normalize_datetimes",
    "normalize_uuids",
    "replace_pattern",
    "same_json",
)

Normalizer: TypeAlias = Callable[[str], str]
"""Maps a string to the form it is compared in, e.g. every UUID to `<uuid>`."""

FIELD_LABELS: dict[str, str] = {
    "system_prompt": "system prompt",
    "user_prompt": "user prompt",
    "tool_return": "tool return",
    "retry_prompt": "retry prompt",
    "messages": "request messages",
    "function_tools": "tool set",
    "result_tools": "result tools",
    "allow_text_result": "allow_text_result",
    "settings": "model settings",
    "model": "model",
    "agent": "agent name",
    "message_history": "message history",
    "streamed": "streamed flag",
    "deps": "deps",
    "nodes": "node sequence",
    "result": "final result",
}
"""The fields a divergence can name (also the names `Matching.ignore` accepts), and how messages say them."""

_TEXT_CACHE_SIZE = 4096
_PART_FIELDS = {"system-prompt": "system_prompt", "user-prompt": "user_prompt"}
_PART_FIELDS |= {"tool-return": "tool_return", "retry-prompt": "retry_prompt"}
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\b")
_DATETIME = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b")


def replace_pattern(pattern: str | re.Pattern[str], replacement: str) -> Normalizer:
    """A normalizer replacing every match of `pattern` with `replacement`."""
    compiled = re.compile(pattern) if isinstance(pattern, str) else pattern

    def normalize(text: str) -> str:
        return compiled.sub(replacement, text)

    normalize.__name__ = f"replace_pattern({compiled.pattern!r}, {replacement!r})"
    return normalize


normalize_uuids: Normalizer = replace_pattern(_UUID, "<uuid>")
"""Every UUID (with or without dashes) becomes `<uuid>`."""
normalize_datetimes: Normalizer = replace_pattern(_DATETIME, "<datetime>")
"""Every ISO 8601 date or date-time becomes `<datetime>`."""


@dataclass(frozen=True, init=False)
class Matching:
    """How replay compares live requests with recorded ones.

    Args:
        ignore: fields left out of the comparison: request fields (`settings`, `function_tools`,
            `result_tools`, `allow_text_result`), kinds of message part (`system_prompt`,
            `user_prompt`, `tool_return`, `retry_prompt`; `tool_return` also stops replay from
            comparing what tools return), `result`, or any other key of the recorded data, such
            as `description` or `tool_call_id`. Timestamps are never compared.
            `deps` and `streamed` leave that part of a run's identity out of matching (a run
            recorded with `run()` then replays under `run_stream()`, and the reverse).
        normalizers: functions applied to every string before comparing, so volatile values
            (UUIDs, dates) do not break matching; see `normalize_uuids`, `normalize_datetimes`,
            `replace_pattern`. They also apply to the strings of deps before their digest.
        allow_unplayed_runs: let a replaying `cassette()` block end while recorded runs were never
            played (a cassette shared by several tests, each playing some of its runs). By
            default such a block raises `UnplayedRuns`: the code stopped calling the agent.
    """

    ignore: frozenset[str]
    normalizers: tuple[Normalizer, ...]
    allow_unplayed_runs: bool

    def __init__(
        self,
        *,
        ignore: Iterable[str] = (),
        normalizers: Iterable[Normalizer] = (),
        allow_unplayed_runs: bool = False,
    ) -> None:
        # A str or a lone function would pass as an iterable (or fail as one) far from the mistake.
        if isinstance(ignore, str):
            raise UserError(
                f"Matching(ignore={ignore!r}) is one text, which would be read as its characters; "
                f"pass a set of field names: Matching(ignore={{{ignore!r}}})"
            )
        if callable(normalizers):
            name = getattr(normalizers, "__name__", repr(normalizers))
            raise UserError(
                f"Matching(normalizers={name}) is one function; pass a sequence of them: Matching(normalizers=[{name}])"
            )
        normalizers = tuple(normalizers)
        for index, normalizer in enumerate(normalizers):
            if not callable(normalizer):
                raise UserError(
                    f"Matching: normalizers[{index}] is a {type(normalizer).__name__} ({normalizer!r}), not a "
                    "function from text to text; build one with replace_pattern(pattern, replacement)"
                )
        object.__setattr__(self, "ignore", frozenset(ignore))
        object.__setattr__(self, "normalizers", normalizers)
        object.__setattr__(self, "allow_unplayed_runs", allow_unplayed_runs)


@dataclass(frozen=True)
class Mismatch:
    """A field that differs: its name (a key of `FIELD_LABELS`), the recorded and the live value as plain data."""

    field: str
    expected: Any
    actual: Any
    subject: str | None = None
    """What inside the field, e.g. the tool whose schema changed."""


class RunKey(NamedTuple):
    """What identifies a run for replay: agent, model, prompt, a fingerprint of its history, how it
    was started (`run_stream()` or not) and the identity of its deps (`None`: unknown or ignored)."""

    agent: str | None
    model: str
    user_prompt: str
    history: str | None
    streamed: bool = False
    deps: str | None = None


class Comparator:
    """Applies a `Matching` (and a scrubber, so scrubbed recordings still match live values)."""

    def __init__(self, matching: Matching, scrubber: Scrubber | None = None) -> None:
        self.matching = matching
        self._scrubber = scrubber
        ignore = matching.ignore
        self._ignored_kinds = frozenset(kind for kind, name in _PART_FIELDS.items() if name in ignore)
        self._ignored_keys = frozenset({"timestamp"} | (ignore - set(FIELD_LABELS)))
        self._text_normalizers: tuple[Normalizer, ...] = (
            (scrubber.scrub_text, *matching.normalizers) if scrubber is not None else matching.normalizers
        )
        self._texts: dict[str, str] = {}

    @property
    def scrubber(self) -> Scrubber | None:
        """The cassette's scrubber: replay errors scrub the values they show with it."""
        return self._scrubber

    def ignores(self, field: str) -> bool:
        return field in self.matching.ignore

    def text(self, value: str) -> str:
        """`value` as compared: scrubbed and normalized (remembered, since prompts repeat)."""
        known = self._texts.get(value)
        if known is not None:
            return known
        normalized = value
        for normalizer in self._text_normalizers:
            given = normalized
            normalized = normalizer(given)
            if not isinstance(normalized, str):
                name = getattr(normalizer, "__name__", repr(normalizer))
                raise UserError(
                    f"Matching: normalizer {name} returned {type(normalized).__name__} {normalized!r} for "
                    f"{given[:80]!r}; a normalizer takes a text and returns a text (return the text itself when "
                    "nothing changes)"
                )
        if len(self._texts) < _TEXT_CACHE_SIZE:
            self._texts[value] = normalized
        return normalized

    def only_itself_normalizes_to(self, compared: str) -> bool:
        """Whether no text but `compared` itself has `compared` as its compared form (`text`).

        So when there are no normalizers (they may map many texts to one) and the scrubber did not
        put a redaction marker in `compared`: then recorded runs can be looked up by their text.
        """
        if self.matching.normalizers:
            return False
        return self._scrubber is None or self._scrubber.only_itself_scrubs_to(compared)

    def normalize(self, value: Any) -> Any:
        """Plain data as compared: scrubbed, ignored keys and part kinds dropped, strings normalized."""
        if self._scrubber is not None:
            value = self._scrubber.scrub(value)
        return self._normalize(value)

    def _normalize(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self._normalize(item) for item in value if not self._ignored_part(item)]
        if isinstance(value, dict):
            volatile_id = value.get("part_kind") == "retry-prompt" and value.get("tool_name") is None
            return {
                key: self._normalize(item)
                for key, item in value.items()
                if key not in self._ignored_keys and not (volatile_id and key == "tool_call_id")
            }
        return value

    def _ignored_part(self, item: Any) -> bool:
        return isinstance(item, dict) and item.get("part_kind") in self._ignored_kinds

    def equal(self, actual: Any, expected: Any) -> bool:
        """Whether two values are equal as compared: the same JSON form, types included (plain first)."""
        if same_json(actual, expected):
            return True
        return same_json(self.normalize(to_plain(actual)), self.normalize(to_plain(expected)))

    def fingerprint(self, history: Sequence[Any] | None) -> str | None:
        """A short hash of a message history as compared (no timestamps, normalized)."""
        if not history:
            return None
        text = json.dumps(self.normalize(to_plain(list(history))), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def run_key(
        self,
        agent: str | None,
        model: str,
        user_prompt: str,
        history: Sequence[Any] | None,
        *,
        streamed: bool = False,
        deps: str | None = None,
    ) -> RunKey:
        """The identity of a run as matched: fields in `Matching.ignore` (`streamed`, `deps`) left out."""
        return RunKey(
            agent,
            model,
            self.text(user_prompt),
            self.fingerprint(history),
            streamed and not self.ignores("streamed"),
            None if self.ignores("deps") else deps,
        )

    def deps_identity(self, deps: Any) -> str:
        """The identity of a run's deps, its strings scrubbed and normalized first (see `_deps_identity`)."""
        return deps_identity(deps, self._prepare_deps)

    def _prepare_deps(self, form: Any) -> Any:
        # `text` scrubs and normalizes each string (and remembers it: deps repeat from run to run);
        # the form itself already leaves out the values of secret-named fields.
        return _map_texts(form, self.text)

    def compare_request(
        self,
        messages: Sequence[Any],
        settings: Any,
        parameters: ModelRequestParameters,
        recorded: RecordedRequest,
    ) -> Mismatch | None:
        """The first field in which a live request differs from `recorded`, or `None` when it matches."""
        if not _messages_equal(messages, recorded.messages):
            mismatch = self._compare_messages(messages, recorded.messages)
            if mismatch is not None:
                return mismatch
        ignore = self.matching.ignore
        for field, live, expected in (
            ("function_tools", parameters.function_tools, recorded.function_tools),
            ("result_tools", parameters.result_tools, recorded.result_tools),
        ):
            if not _same_tools(live, expected) and field not in ignore:
                mismatch = self._compare_tools(field, live, expected)
                if mismatch is not None:
                    return mismatch
        if parameters.allow_text_result != recorded.allow_text_result and "allow_text_result" not in ignore:
            return Mismatch("allow_text_result", recorded.allow_text_result, parameters.allow_text_result)
        if not same_json(settings or None, recorded.settings) and "settings" not in ignore:
            live_settings = dict(settings) if settings else None
            if not self.equal(live_settings or {}, recorded.settings or {}):
                return Mismatch("settings", recorded.settings, live_settings)
        return None

    def _compare_messages(self, live: Sequence[Any], recorded: Sequence[Any]) -> Mismatch | None:
        live_plain = self.normalize(to_plain(list(live)))
        recorded_plain = self.normalize(to_plain(list(recorded)))
        if same_json(live_plain, recorded_plain):
            return None
        shown_live = _without_timestamps(encode_messages(list(live)))
        shown_recorded = _without_timestamps(encode_messages(list(recorded)))
        if len(live_plain) == len(recorded_plain):
            for index, (live_message, recorded_message) in enumerate(zip(live_plain, recorded_plain, strict=True)):
                live_parts, recorded_parts = live_message.get("parts", []), recorded_message.get("parts", [])
                if len(live_parts) != len(recorded_parts) or same_json(live_message, recorded_message):
                    continue
                for live_part, recorded_part in zip(live_parts, recorded_parts, strict=True):
                    if not same_json(live_part, recorded_part):
                        kind = recorded_part.get("part_kind")
                        field = _PART_FIELDS.get(kind, "messages") if kind == live_part.get("part_kind") else "messages"
                        if field == "messages":
                            break
                        subject = recorded_part.get("tool_name") if field in ("tool_return", "retry_prompt") else None
                        return Mismatch(
                            field,
                            _find_part(shown_recorded[index], recorded_part),
                            _find_part(shown_live[index], live_part),
                            subject,
                        )
        return Mismatch("messages", shown_recorded, shown_live)

    def _compare_tools(
        self, field: str, live: Sequence[ToolDefinition], recorded: Sequence[ToolDefinition]
    ) -> Mismatch | None:
        live_plain = sorted(self.normalize(to_plain(list(live))), key=lambda tool: str(tool.get("name")))
        recorded_plain = sorted(self.normalize(to_plain(list(recorded))), key=lambda tool: str(tool.get("name")))
        if same_json(live_plain, recorded_plain):
            return None
        live_names = [tool.name for tool in live]
        recorded_names = [tool.name for tool in recorded]
        if sorted(live_names) != sorted(recorded_names):
            return Mismatch(field, recorded_names, live_names)
        by_name = {tool.name: tool for tool in live}
        for tool in recorded:
            if not same_json(self.normalize(to_plain(tool)), self.normalize(to_plain(by_name[tool.name]))):
                return Mismatch(field, _shown_tool(tool), _shown_tool(by_name[tool.name]), subject=tool.name)
        return Mismatch(field, [_shown_tool(tool) for tool in recorded], [_shown_tool(tool) for tool in live])


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})
_SEQUENCES = frozenset({list, tuple})
_MISSING = object()


def same_json(a: Any, b: Any) -> bool:
    """Whether `a` and `b` have the same JSON form, types included.

    `1`, `1.0` and `True` differ (Python's `==` calls them equal); a tuple equals the list it is
    written as, and an object equals the plain data it is encoded to (a `datetime` and its ISO
    text), since a cassette read from a file holds the plain data.
    """
    kind = type(a)
    if kind is not type(b):
        if kind in _JSON_SCALARS and type(b) in _JSON_SCALARS:
            return False
        if kind in _SEQUENCES and type(b) in _SEQUENCES:
            return _same_items(a, b)
        return _json_text(a) == _json_text(b)
    if kind is str or kind is int or kind is bool or a is None:
        return bool(a == b)
    if kind is float:
        return repr(a) == repr(b)
    if kind is dict:
        if len(a) != len(b):
            return False
        for key, value in a.items():
            other = b.get(key, _MISSING) if type(key) is str else _MISSING
            if other is _MISSING:
                return _json_text(a) == _json_text(b)  # keys that JSON writes alike (1 and "1")
            if not same_json(value, other):
                return False
        return True
    if kind is list or kind is tuple:
        return _same_items(a, b)
    return _json_text(a) == _json_text(b)


def _same_items(a: Sequence[Any], b: Sequence[Any]) -> bool:
    if len(a) != len(b):
        return False
    return all(same_json(x, y) for x, y in zip(a, b, strict=True))


def _json_text(value: Any) -> str:
    return json.dumps(to_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _map_texts(value: Any, text: Callable[[str], str]) -> Any:
    """`value` with `text` applied to every string in it (keys left as they are)."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, list):
        return [_map_texts(item, text) for item in value]
    if isinstance(value, dict):
        return {key: _map_texts(item, text) for key, item in value.items()}
    return value


def _find_part(message: dict[str, Any], normalized_part: dict[str, Any]) -> Any:
    """The displayed (un-normalized) form of the part at the same position as `normalized_part`."""
    parts = message.get("parts", [])
    for part in parts:
        if part.get("part_kind") == normalized_part.get("part_kind") and part.get(
            "tool_call_id"
        ) == normalized_part.get("tool_call_id"):
            return part
    return normalized_part


def _without_timestamps(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_timestamps(item) for item in value]
    if isinstance(value, dict):
        return {key: _without_timestamps(item) for key, item in value.items() if key != "timestamp"}
    return value


def _shown_tool(tool: ToolDefinition) -> dict[str, Any]:
    """A tool definition as a divergence shows it: unset fields (`outer_typed_dict_key: null`, ...) left out."""
    plain: dict[str, Any] = to_plain(tool)
    return {key: value for key, value in plain.items() if value is not None}


def _same_tools(live: Sequence[ToolDefinition], recorded: Sequence[ToolDefinition]) -> bool:
    """Plain equality of tool definitions, field by field (cheaper than the dataclass `==`)."""
    if len(live) != len(recorded):
        return False
    for a, b in zip(live, recorded, strict=True):
        if (
            a.name != b.name
            or a.description != b.description
            or a.parameters_json_schema != b.parameters_json_schema
            or a.outer_typed_dict_key != b.outer_typed_dict_key
            or a.strict != b.strict
        ):
            return False
    return True


_COMPARED: dict[type, Callable[[Any], Any]] = {}


def _compared_values(cls: type) -> Callable[[Any], Any]:
    """A getter of the fields of a part that are compared: all but its timestamp (and a retry's id)."""
    getter = _COMPARED.get(cls)
    if getter is None:
        skipped = {"timestamp", "tool_call_id"} if cls is RetryPromptPart else {"timestamp"}
        names = [field.name for field in dataclasses.fields(cls) if field.name not in skipped]
        getter = operator.attrgetter(*names) if len(names) > 1 else operator.attrgetter(names[0])
        _COMPARED[cls] = getter
    return getter


def _messages_equal(live: Sequence[Any], recorded: Sequence[Any]) -> bool:
    """Plain equality of messages, leaving out timestamps (and the ids the core makes up for retries)."""
    if len(live) != len(recorded):
        return False
    for live_message, recorded_message in zip(live, recorded, strict=True):
        kind = type(live_message)
        if kind is not type(recorded_message) or (kind is not ModelRequest and kind is not ModelResponse):
            return False
        if kind is ModelResponse and live_message.model_name != recorded_message.model_name:
            return False
        live_parts, recorded_parts = live_message.parts, recorded_message.parts
        if len(live_parts) != len(recorded_parts):
            return False
        for live_part, recorded_part in zip(live_parts, recorded_parts, strict=True):
            part_type = type(live_part)
            if part_type is not type(recorded_part):
                return False
            values = _compared_values(part_type)
            if not same_json(values(live_part), values(recorded_part)):
                return False
            if (
                part_type is RetryPromptPart
                and live_part.tool_name is not None
                and live_part.tool_call_id != recorded_part.tool_call_id
            ):
                return False
    return True
