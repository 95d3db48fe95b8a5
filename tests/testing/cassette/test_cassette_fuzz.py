"""Fuzzing the cassette loader: mutated committed cassettes, and the corpus of inputs that once escaped.

Every input must be refused with a `CassetteFormatError` naming the file (and, for the corpus,
the line), or load, save and load back to equal runs. The corpus (tests/testing/cassette/cassette_corpus/,
see its README) holds inputs that escaped on 2026-12-02 as bare ValueError, TypeError,
RecursionError..., or loaded without being savable. The standalone runner
(`python tests/testing/cassette/fuzz_cassettes.py --cases 3000`) runs many more cases in a sandboxed process.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from cassette_mutations import MUTATIONS, check_outcome, mutate, seeds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentkit_testing._cassette._file import Cassette
from agentkit_testing._exceptions import CassetteFormatError

CORPUS = Path(__file__).parent / "cassette_corpus"
SEEDS = seeds()


def corpus(kind: str) -> list[Path]:
    return sorted(path for path in (CORPUS / kind).iterdir() if path.suffix in (".yaml", ".json"))


@pytest.mark.parametrize("path", corpus("refused"), ids=lambda path: path.name)
def test_corpus_input_is_refused_naming_file_and_line(path: Path) -> None:
    with pytest.raises(CassetteFormatError) as raised:
        Cassette.load(path)
    assert raised.value.line is not None
    assert str(raised.value).startswith(f"{path}:{raised.value.line}: ")


@pytest.mark.parametrize("path", corpus("valid"), ids=lambda path: path.name)
def test_corpus_input_that_is_valid_loads_and_round_trips(path: Path, tmp_path: Path) -> None:
    assert check_outcome(path, tmp_path) == "round-trip"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(sorted(SEEDS)),
    names=st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=3),
    rnd=st.randoms(use_true_random=False),
)
def test_mutated_cassette_is_refused_clearly_or_round_trips(seed: str, names: list[str], rnd: random.Random) -> None:
    is_json = seed.endswith(".json")
    data = mutate(SEEDS[seed], is_json, names, rnd)
    with tempfile.TemporaryDirectory() as name:
        path = Path(name) / f"mutated{'.json' if is_json else '.yaml'}"
        path.write_bytes(data)
        assert check_outcome(path, Path(name)) in ("refused", "round-trip")
