"""Mutations of committed cassettes, for fuzzing the loader, and the outcome every mutated file must have.

A mutated cassette must either be refused with a `CassetteFormatError` that names the file, or
load, save and load back to equal runs. Mutations are byte-level (flips, cuts, insertions),
line-level (deletions, copies, swaps, re-indentation), token-level (a value replaced by a
hostile one) and format-aware (duplicate keys, anchors and aliases, merge keys, tags, dates in
`args_json`, deep nesting; NaN, huge numbers and surrogates in JSON). Used by the hypothesis test
(tests/testing/cassette/test_cassette_fuzz.py) and the standalone runner
(tests/testing/cassette/fuzz_cassettes.py).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path

import yaml

from agentkit_testing import Cassette, CassetteFormatError
from agentkit_testing._secrets import Scrubber

REPOSITORY = Path(__file__).resolve().parents[3]

YAML_VALUES = [
    "9" * 5000,
    "-" + "9" * 1001,
    "9" * 1000,
    "0x" + "f" * 5000,
    "1" + "0" * 400 + ".0",
    "1.0e+999",
    ".nan",
    ".inf",
    "-.inf",
    "2024-13-45",
    "2024-01-01",
    "2024-01-01T10:00:00Z",
    "2001-12-14 21:59:43.10 -5",
    "!!float garbage",
    "!!float 1.5",
    "!!int x",
    "!!int ''",
    "!!int '+'",
    "!!int _",
    "!!float ''",
    "!!float _",
    "!!bool ''",
    "!!null ''",
    "!!str",
    "!!int 0x1F",
    "!!bool maybe",
    "!!null x",
    "!!str 12",
    "!!timestamp 2024-01-01",
    "!!binary '###'",
    "!!binary aGVsbG8=",
    "!!python/object/apply:os.system [echo]",
    "!!python/name:os.system ''",
    "!!set {a: null}",
    "!!omap [a: 1]",
    "!!pairs [a: 1]",
    "!foo bar",
    "!!str [a]",
    "!!map [a]",
    '"\\ud800"',
    '"\\ud83d\\ude00"',
    '"\\U0001F600"',
    '"\\x00"',
    '"\\u2028\\x85"',
    "<<",
    "=",
    "yes",
    "Off",
    "~",
    "null",
    "[]",
    "{}",
    "[1, [2, [3]]]",
    "{a: 1, a: 2}",
    "{1: a, true: b}",
    "{? [a]: b}",
    "[" * 500 + "]" * 500,
    "[" * 150 + "]" * 150,
    "[" * 99 + "]" * 99,
    "&anchor value",
    "*anchor",
    "{<<: {a: 1}}",
    "190:20:30",
    "1:30.5",
    "0b1010",
    "017",
    "1_000",
    "- x",
    "{",
    "'unterminated",
    "|",
    ">-",
    "@reserved",
    "%TAG",
    "\t",
]
JSON_VALUES = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    "-1e400",
    "1" + "0" * 400 + ".0",
    "9" * 5000,
    "9" * 1001,
    "9" * 1000,
    '"\\ud800"',
    '"\\udc00x"',
    '"\\ud83d\\ude00"',
    '"\\u0000"',
    '"2024-13-45"',
    "[" * 2000 + "]" * 2000,
    "[" * 150 + "]" * 150,
    "[" * 99 + "]" * 99,
    '{"a": 1, "a": 2}',
    "[]",
    "{}",
    "null",
    "true",
    "1.5",
    "-0",
    '"x"',
    "{",
]

_INSERTED = [b"\x00", b"\xff", b"\t", b"\r", b"&", b"*", b"!", b"\\u", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"'", b'"']
_YAML_ENTRY = re.compile(r"^( *(?:- )?[\w\-]+:) (.+)$")
_JSON_ENTRY = re.compile(r'^( *"[^"]+": )(.+?)(,?)$')


def seeds() -> dict[str, bytes]:
    """The committed agentkit cassettes, and each as JSON too: name -> bytes (the suffix gives the format)."""
    found: dict[str, bytes] = {}
    committed = sorted((REPOSITORY / "cassettes").rglob("*.yaml"))
    paths = [*committed, *sorted((Path(__file__).parent / "fixtures").glob("*"))]
    for path in paths:
        data = path.read_bytes()
        found[path.name] = data
        if path.suffix == ".yaml":
            document = yaml.safe_load(data)
            found[path.stem + ".as.json"] = json.dumps(document, indent=2, ensure_ascii=False, default=str).encode()
    return found


def _lines(data: bytes) -> list[str]:
    return data.decode("utf-8", "surrogateescape").split("\n")


def _joined(lines: list[str]) -> bytes:
    return "\n".join(lines).encode("utf-8", "surrogateescape")


def flip_byte(data: bytes, rnd: random.Random, is_json: bool) -> bytes:
    if not data:
        return data
    index = rnd.randrange(len(data))
    return data[:index] + bytes([data[index] ^ (1 << rnd.randrange(8))]) + data[index + 1 :]


def cut_range(data: bytes, rnd: random.Random, is_json: bool) -> bytes:
    start = rnd.randrange(len(data) + 1)
    return data[:start] + data[start + rnd.randrange(1, 64) :]


def insert_bytes(data: bytes, rnd: random.Random, is_json: bool) -> bytes:
    start = rnd.randrange(len(data) + 1)
    chunk = rnd.choice(_INSERTED)
    return data[:start] + chunk * rnd.randrange(1, 4) + data[start:]


def copy_range(data: bytes, rnd: random.Random, is_json: bool) -> bytes:
    start = rnd.randrange(len(data) + 1)
    end = min(len(data), start + rnd.randrange(1, 200))
    at = rnd.randrange(len(data) + 1)
    return data[:at] + data[start:end] + data[at:]


def truncate(data: bytes, rnd: random.Random, is_json: bool) -> bytes:
    return data[: rnd.randrange(len(data) + 1)]


def delete_line(data: bytes, rnd: random.Random, is_json: bool) -> bytes:
    lines = _lines(data)
    del lines[rnd.randrange(len(lines))]
    return _joined(lines)


def copy_line(data: bytes, rnd: random.Random, is_json: bool) -> bytes:
    lines = _lines(data)
    line = lines[rnd.randrange(len(lines))]
    lines.insert(rnd.randrange(len(lines) + 1), line)
    return _joined(lines)


def swap_lines(data: bytes, rnd: random.Random, is_json: bool) -> bytes:
    lines = _lines(data)
    first, second = rnd.randrange(len(lines)), rnd.randrange(len(lines))
    lines[first], lines[second] = lines[second], lines[first]
    return _joined(lines)


def reindent_line(data: bytes, rnd: random.Random, is_json: bool) -> bytes:
    lines = _lines(data)
    index = rnd.randrange(len(lines))
    shift = rnd.choice([-2, -1, 1, 2])
    lines[index] = " " * shift + lines[index] if shift > 0 else lines[index][-shift:]
    return _joined(lines)


def _entries(lines: list[str], is_json: bool) -> list[int]:
    pattern = _JSON_ENTRY if is_json else _YAML_ENTRY
    return [index for index, line in enumerate(lines) if pattern.match(line)]


def replace_value(data: bytes, rnd: random.Random, is_json: bool) -> bytes:
    """A `key: value` line with its value replaced by a hostile one."""
    lines = _lines(data)
    entries = _entries(lines, is_json)
    if not entries:
        return data
    index = rnd.choice(entries)
    if is_json:
        match = _JSON_ENTRY.match(lines[index])
        assert match is not None
        lines[index] = match.group(1) + rnd.choice(JSON_VALUES) + match.group(3)
    else:
        match = _YAML_ENTRY.match(lines[index])
        assert match is not None
        lines[index] = match.group(1) + " " + rnd.choice(YAML_VALUES)
    return _joined(lines)


def duplicate_key(data: bytes, rnd: random.Random, is_json: bool) -> bytes:
    """A `key: value` line written twice in its mapping."""
    lines = _lines(data)
    entries = _entries(lines, is_json)
    if not entries:
        return data
    index = rnd.choice(entries)
    line = lines[index]
    copy = re.sub(r"^( *)- ", r"\1  ", line)
    if is_json and not copy.endswith(","):
        lines[index] = line + ","
    lines.insert(index + 1, copy if not is_json else copy.rstrip(",") + ",")
    return _joined(lines)


def anchor_and_alias(data: bytes, rnd: random.Random, is_json: bool) -> bytes:
    """An anchor on one value (scalar, or a block collection) and an alias to it as another value."""
    if is_json:
        return replace_value(data, rnd, is_json)
    lines = _lines(data)
    entries = _entries(lines, is_json)
    blocks = [index for index, line in enumerate(lines) if re.match(r"^ *(?:- )?[\w\-]+:$", line)]
    targets = entries + blocks
    if len(targets) < 2:
        return data
    first, second = sorted(rnd.sample(targets, 2))
    lines[first] = re.sub(r"^( *(?:- )?[\w\-]+:)", r"\1 &fuzz", lines[first], count=1)
    lines[second] = re.sub(r"^( *(?:- )?[\w\-]+:).*$", r"\1 *fuzz", lines[second])
    return _joined(lines)


def merge_key(data: bytes, rnd: random.Random, is_json: bool) -> bytes:
    """A merge key (`<<`) in a mapping, merging an anchored mapping or an inline one."""
    if is_json:
        return duplicate_key(data, rnd, is_json)
    lines = _lines(data)
    entries = _entries(lines, is_json)
    if not entries:
        return data
    index = rnd.choice(entries)
    indent = re.match(r"^( *)(- )?", lines[index])
    assert indent is not None
    pad = indent.group(1) + ("  " if indent.group(2) else "")
    merged = rnd.choice(["{fuzz: 1}", "*fuzz", "[{a: 1}, {b: 2}]"])
    if merged == "*fuzz":
        lines.insert(1, "fuzz_anchor: &fuzz {a: 1, b: [x, y]}")
        index += 1
    lines.insert(index + 1, f"{pad}<<: {merged}")
    return _joined(lines)


def args_json_oddity(data: bytes, rnd: random.Random, is_json: bool) -> bytes:
    """Tool-call arguments holding a date, binary data, or an `args_json_style` of the wrong type."""
    text = data.decode("utf-8", "surrogateescape")
    if is_json:
        replacement = rnd.choice(['"args_json": {"when": NaN}', '"args_json_style": ["a"], "args_json": {}'])
        return text.replace('"args_json": {}', replacement, 1).encode("utf-8", "surrogateescape")
    replacement = rnd.choice(
        [
            "args_json: {when: 2024-01-01, bad: 2024-13-45}",
            "args_json: {blob: !!binary aGVsbG8=}",
            "args_json: {}\n        args_json_style: [a]",
            "args_json: {}\n        args_json_style: {a: 1}",
            "args_json: {? [a]: 1}",
            "args_json: {1: a, null: b, 2.5: c}",
        ]
    )
    return text.replace("args_json: {}", replacement, 1).encode("utf-8", "surrogateescape")


def deep_nesting(data: bytes, rnd: random.Random, is_json: bool) -> bytes:
    """A value replaced by lists nested a random depth (around the limit, and far past it)."""
    depth = rnd.choice([90, 97, 98, 99, 100, 101, 150, 300, 500, 999, 1200])
    nested = "[" * depth + "1" + "]" * depth if rnd.random() < 0.5 else "{a: " * depth + "1" + "}" * depth
    if is_json:
        nested = nested.replace("{a: ", '{"a": ')
    lines = _lines(data)
    entries = _entries(lines, is_json)
    if not entries:
        return data
    index = rnd.choice(entries)
    pattern = _JSON_ENTRY if is_json else _YAML_ENTRY
    match = pattern.match(lines[index])
    assert match is not None
    tail = match.group(3) if is_json else ""
    lines[index] = match.group(1) + ("" if is_json else " ") + nested + tail
    return _joined(lines)


def add_tag(data: bytes, rnd: random.Random, is_json: bool) -> bytes:
    if is_json:
        return replace_value(data, rnd, is_json)
    lines = _lines(data)
    entries = _entries(lines, is_json)
    if not entries:
        return data
    index = rnd.choice(entries)
    tag = rnd.choice(["!!str", "!!python/str", "!!python/tuple", "!!binary", "!local", "!!timestamp", "!!int", "!"])
    lines[index] = re.sub(r"^( *(?:- )?[\w\-]+:) ", rf"\1 {tag} ", lines[index], count=1)
    return _joined(lines)


Mutation = Callable[[bytes, random.Random, bool], bytes]

MUTATIONS: dict[str, Mutation] = {
    mutation.__name__: mutation
    for mutation in (
        flip_byte,
        cut_range,
        insert_bytes,
        copy_range,
        truncate,
        delete_line,
        copy_line,
        swap_lines,
        reindent_line,
        replace_value,
        duplicate_key,
        anchor_and_alias,
        merge_key,
        args_json_oddity,
        deep_nesting,
        add_tag,
    )
}
BYTE_LEVEL = ("flip_byte", "cut_range", "insert_bytes", "copy_range", "truncate")


def mutate(data: bytes, is_json: bool, names: list[str], rnd: random.Random) -> bytes:
    """`data` with each named mutation applied in turn."""
    for name in names:
        data = MUTATIONS[name](data, rnd, is_json)
    return data


class Escape(AssertionError):
    """A mutated cassette had an outcome other than a clear refusal or an exact round trip."""


def check_outcome(path: Path, scratch: Path) -> str:
    """'refused' or 'round-trip' for the cassette at `path`; `Escape` (or the escaping error) otherwise."""
    try:
        loaded = Cassette.load(path, scrubber=Scrubber(defaults=False))
    except CassetteFormatError as error:
        if not str(error).startswith(f"{path}"):
            raise Escape(f"the error does not start with the file name: {error}") from error
        return "refused"
    copy = scratch / f"round-trip{path.suffix}"
    loaded.save(copy)
    again = Cassette.load(copy, scrubber=Scrubber(defaults=False))
    if again.runs != loaded.runs:
        raise Escape("load -> save -> load changed the runs")
    return "round-trip"
