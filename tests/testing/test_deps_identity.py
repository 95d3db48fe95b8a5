"""The identity of a run's deps: a digest stable across processes, honest about what it could not digest."""

from __future__ import annotations

import dataclasses
import enum
import os
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import pydantic

from agentkit_testing._deps_identity import deps_identity
from agentkit_testing._matching import Comparator, Matching, replace_pattern
from agentkit_testing._secrets import Scrubber


@dataclasses.dataclass
class Settings:
    user: str
    tags: frozenset[str]
    limits: dict[str, float]
    day: date


class Color(enum.Enum):
    RED = "red"


class Point(NamedTuple):
    x: int
    y: int


class Profile(pydantic.BaseModel):
    name: str
    age: int


class Opaque:
    """No repr of its own: its default repr holds a memory address."""


@dataclasses.dataclass
class WithClient:
    user: str
    client: Opaque


SAMPLE = "Settings('Anne', frozenset({'a', 'b', 'c', 'd', 'e'}), {'x': 1.5, 'y': 2.0}, date(2025, 3, 1))"


def sample() -> Settings:
    return Settings("Anne", frozenset("abcde"), {"x": 1.5, "y": 2.0}, date(2025, 3, 1))


def test_no_deps_is_named_none() -> None:
    assert deps_identity(None) == "None"


def test_equal_deps_have_equal_identities_and_different_deps_different_ones() -> None:
    assert deps_identity(sample()) == deps_identity(sample())
    assert deps_identity(sample()) != deps_identity(dataclasses.replace(sample(), user="Bob"))
    assert deps_identity("1") != deps_identity(1) != deps_identity(True)
    assert deps_identity(1) != deps_identity(1.0)


def test_identity_names_the_type_and_a_sha256() -> None:
    identity = deps_identity(sample())
    name, digest = identity.split(" ")
    assert name == "test_deps_identity.Settings"
    assert digest.startswith("sha256:")
    assert len(digest) == len("sha256:") + 16


def test_digest_is_the_same_in_another_process_with_another_hash_seed(tmp_path: Path) -> None:
    script = tmp_path / "digest.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from datetime import date\n"
        "from test_deps_identity import Settings\n"
        "from agentkit_testing._deps_identity import deps_identity\n"
        f"print(deps_identity({SAMPLE}))\n"
    )
    seen = set()
    for seed in ("1", "2", "3"):
        done = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        seen.add(done.stdout.strip())
    assert seen == {deps_identity(sample())}


def test_common_data_shapes_are_digested_without_opaque_parts() -> None:
    for value in (Color.RED, Point(1, 2), Profile(name="Anne", age=3), [1, (2, 3)], {1: "a"}, b"\x00", Path("/x")):
        identity = deps_identity(value)
        assert "not digested" not in identity, identity


def test_an_object_without_a_stable_form_is_named_as_not_digested_never_by_address() -> None:
    identity = deps_identity(WithClient("Anne", Opaque()))
    assert identity.endswith(", not digested: .client (test_deps_identity.Opaque)")
    assert "0x" not in identity
    assert identity == deps_identity(WithClient("Anne", Opaque()))
    assert identity != deps_identity(WithClient("Bob", Opaque()))


def test_a_lock_is_not_digested() -> None:
    assert "not digested: . (" in deps_identity(threading.Lock())


def test_a_cycle_is_digested_without_recursing_forever() -> None:
    looped: list[Any] = [1]
    looped.append(looped)
    assert "not digested: [1] (cycle)" in deps_identity(looped)


def test_functions_and_classes_are_digested_by_qualified_name() -> None:
    assert "not digested" not in deps_identity({"make": sample, "kind": Settings})
    assert deps_identity(sample) != deps_identity(test_no_deps_is_named_none)


def test_the_comparator_scrubs_secrets_and_applies_normalizers_before_digesting() -> None:
    comparator = Comparator(Matching(normalizers=[replace_pattern(r"/tmp/\w+", "<tmp>")]), Scrubber())
    first = comparator.deps_identity({"api_key": "sk-abcdefghijklmnopqrstuvwx", "dir": "/tmp/one"})
    second = comparator.deps_identity({"api_key": "sk-zyxwvutsrqponmlkjihgfedc", "dir": "/tmp/two"})
    assert first == second
    assert first != comparator.deps_identity({"api_key": "sk-abcdefghijklmnopqrstuvwx", "dir": "/var/one"})
