"""Which recorded run a live run replays, when recorded runs are looked up by their prompt as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkit import Agent
from agentkit.models import TestModel
from agentkit_testing import Matching, ReplayModel, Scrubber, cassette, normalize_uuids
from agentkit_testing._cassette._file import Cassette

SOME = Matching(allow_unplayed_runs=True)


def recorded(tmp_path: Path, prompts: tuple[str, ...]) -> Path:
    path = tmp_path / "runs.yaml"
    agent = Agent(TestModel(), name="index")
    with cassette(path, "once"):
        for prompt in prompts:
            agent.run_sync(prompt)
    return path


def scrubbed_texts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts the scrubber is asked to scrub from now on."""
    seen: list[str] = []
    original = Scrubber.scrub_text

    def scrub_text(self: Scrubber, text: str) -> str:
        seen.append(text)
        return original(self, text)

    monkeypatch.setattr(Scrubber, "scrub_text", scrub_text)
    return seen


def test_replaying_one_run_normalizes_no_other_recorded_prompt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prompts = tuple(f"question {number}" for number in range(20))
    path = recorded(tmp_path, prompts)
    seen = scrubbed_texts(monkeypatch)
    with cassette(path, matching=SOME) as session:
        Agent(TestModel(), name="index").run_sync("question 7")
    assert [run.user_prompt for run in session.replayed_runs] == ["question 7"]
    assert not set(seen) & (set(prompts) - {"question 7"})


def test_a_bare_replay_model_normalizes_no_other_recorded_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts = tuple(f"question {number}" for number in range(20))
    path = recorded(tmp_path, prompts)
    seen = scrubbed_texts(monkeypatch)
    replay = ReplayModel(Cassette.load(path, lazy=True))
    Agent(TestModel(), name="index").run_sync("question 12", model=replay)
    assert len(replay.unplayed_runs) == 19
    assert not set(seen) & (set(prompts) - {"question 12"})


def test_prompts_alike_once_normalized_replay_in_recording_order(tmp_path: Path) -> None:
    first = "order 123e4567-e89b-12d3-a456-426614174000"
    second = "order 9f8e7d6c-5b4a-3210-fedc-ba9876543210"
    path = recorded(tmp_path, (first, second))
    matching = Matching(normalizers=[normalize_uuids], allow_unplayed_runs=True)
    with cassette(path, matching=matching) as session:
        Agent(TestModel(), name="index").run_sync(second)  # written as the second run, alike the first
    assert [run.user_prompt for run in session.replayed_runs] == [first]


def test_a_prompt_holding_a_secret_replays_the_run_recorded_with_it_scrubbed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BILLING_API_TOKEN", "tok-abcdefghijklmnop")
    prompt = "charge it with tok-abcdefghijklmnop"
    path = recorded(tmp_path, ("a plain question", prompt, "another question"))
    assert "tok-abcdefghijklmnop" not in path.read_text()
    with cassette(path, matching=SOME) as session:
        Agent(TestModel(), name="index").run_sync(prompt)
    assert [run.id for run in session.replayed_runs] == ["run-2"]


class _CaseBlindScrubber(Scrubber):
    """Scrubs text its own way: many texts (any case) have one compared form."""

    def scrub_text(self, text: str) -> str:
        return super().scrub_text(text).lower()


def test_a_scrubber_that_scrubs_text_its_own_way_still_matches_as_it_compares(tmp_path: Path) -> None:
    path = recorded(tmp_path, ("First Question", "Second Question"))
    with cassette(path, matching=SOME, scrubber=_CaseBlindScrubber()) as session:
        Agent(TestModel(), name="index").run_sync("SECOND QUESTION")
    assert [run.id for run in session.replayed_runs] == ["run-2"]


@pytest.mark.parametrize(
    ("prompts", "recorded_now"),
    [
        (
            ("a new question", "question 2", "question 1", "another new one", "question 2", "question 2"),
            ["a new question", "another new one", "question 2"],
        ),
        (
            ("question 2", "question 2", "question 1", "another new one", "question 2"),
            ["another new one", "question 2"],
        ),
    ],
)
def test_new_and_recorded_prompts_in_any_order_record_and_replay_as_they_should(
    tmp_path: Path, prompts: tuple[str, ...], recorded_now: list[str]
) -> None:
    # The first lookup of a block compares prompts; the later ones use the index built then.
    path = recorded(tmp_path, ("question 1", "question 2", "question 2"))
    agent = Agent(TestModel(), name="index")
    with cassette(path, "new_episodes") as session:
        for prompt in prompts:
            agent.run_sync(prompt)
    assert [run.id for run in session.replayed_runs] == ["run-1", "run-2", "run-3"]
    assert [run.user_prompt for run in session.recorded_runs] == recorded_now
