"""Adding runs to a loaded cassette: the file's runs are written back as they were, in one piece."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from agentkit import Agent
from agentkit.models import TestModel
from agentkit_testing import Cassette, CassetteError, RecordedError, RecordedRun, cassette
from agentkit_testing._cassette import _lazy
from agentkit_testing._cassette._lazy import LoadedRun
from agentkit_testing._cassette._parse._layout import END_MARKER, RUNS_LINE, RunText


def recorded(tmp_path: Path, prompts: tuple[str, ...]) -> Path:
    path = tmp_path / "runs.yaml"
    agent = Agent(TestModel(), name="append")
    with cassette(path, "once"):
        for prompt in prompts:
            agent.run_sync(prompt)
    return path


def append(path: Path, prompt: str) -> None:
    with cassette(path, "new_episodes"):
        Agent(TestModel(), name="append").run_sync(prompt)


def test_appending_looks_at_none_of_the_files_runs_one_by_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = recorded(tmp_path, tuple(f"question {number}" for number in range(10)))
    before = path.read_bytes()
    looked_at: list[str] = []
    text_in, answered = LoadedRun.text_in, _lazy.answered
    monkeypatch.setattr(LoadedRun, "text_in", lambda run, source: looked_at.append(run.id) or text_in(run, source))
    monkeypatch.setattr(_lazy, "answered", lambda run: looked_at.append(run.id) or answered(run))
    append(path, "a new question")
    assert looked_at == []
    assert path.read_bytes().startswith(before.removesuffix(END_MARKER.encode()) + b"- id: run-11\n")


def test_appending_reads_none_of_the_files_run_texts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The file's runs are one slice of its bytes: neither each run's text nor its length is read.
    path = recorded(tmp_path, tuple(f"question {number}" for number in range(10)))
    before = path.read_bytes()
    loaded = Cassette.load(path, lazy=True)
    loaded.add_run(dataclasses.replace(Cassette.load(path).runs[0], id="run-11", user_prompt="a new question"))
    read: list[int] = []
    text = RunText.text
    monkeypatch.setattr(RunText, "text", property(lambda run: read.append(run.line) or text.__get__(run)))
    loaded.save(merge=True)
    assert read == []
    assert path.read_bytes().startswith(before.removesuffix(END_MARKER.encode()) + b"- id: run-11\n")


def test_a_new_run_whose_id_the_file_holds_is_renumbered_after_the_files_runs(tmp_path: Path) -> None:
    path = recorded(tmp_path, ("one", "two", "three"))
    loaded = Cassette.load(path, lazy=True)
    loaded.clear()  # its runs are new ones now, and the file's are merged back in on saving
    loaded.add_run(dataclasses.replace(Cassette.load(path).runs[0], id="run-2", user_prompt="four"))
    loaded.save(merge=True)
    assert [(run.id, run.user_prompt) for run in Cassette.load(path).runs] == [
        ("run-1", "one"),
        ("run-2", "two"),
        ("run-3", "three"),
        ("run-4", "four"),
    ]


def test_appending_to_a_cassette_with_text_beyond_ascii_keeps_its_runs_bytes(tmp_path: Path) -> None:
    path = recorded(tmp_path, ("Grüße aus Köln?", "東京の天気は?", "plain"))
    before = path.read_bytes()
    runs = Cassette.load(path).runs
    append(path, "Ça va?")
    assert path.read_bytes().startswith(before.removesuffix(END_MARKER.encode()) + b"- id: run-4\n")
    assert Cassette.load(path).runs[:3] == runs


def test_a_kept_run_holding_a_secret_set_since_is_scrubbed_and_the_runs_around_it_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = recorded(tmp_path, ("first", "pay with zz-abcdefghijklmnop", "third"))
    before = path.read_text()
    monkeypatch.setenv("SHOP_API_TOKEN", "zz-abcdefghijklmnop")
    append(path, "fourth")
    after = path.read_text()
    assert "zz-abcdefghijklmnop" not in after
    old_runs, new_runs = before.split("\n- "), after.split("\n- ")
    assert [new_runs[index] == old_runs[index] for index in range(3)] == [True, True, False]
    assert new_runs[3] + "\n" == old_runs[3].removesuffix(END_MARKER)
    assert [run.user_prompt for run in Cassette.load(path).runs] == [
        "first",
        "pay with <redacted:env SHOP_API_TOKEN>",
        "third",
        "fourth",
    ]


def test_a_new_header_comment_is_written_before_the_files_runs(tmp_path: Path) -> None:
    path = recorded(tmp_path, ("one", "two"))
    before = path.read_text()
    loaded = Cassette.load(path, lazy=True)
    loaded.comment = "Runs of the append test."
    loaded.save()
    after = path.read_text()
    assert after.startswith("# Runs of the append test.\n")
    assert after.split(RUNS_LINE, 1)[1] == before.split(RUNS_LINE, 1)[1]
    assert Cassette.load(path).runs == Cassette.load(path, lazy=True).runs


def test_appending_drops_a_run_of_the_file_that_no_model_answered_and_keeps_the_others(tmp_path: Path) -> None:
    path = recorded(tmp_path, ("first", "third"))
    first, third = Cassette.load(path).runs
    failed = RecordedRun(
        id="run-9",
        agent="append",
        model=first.model,
        user_prompt="second",
        nodes=("ModelRequestNode",),
        error=RecordedError("ModelDown", "the model is down"),
    )
    Cassette(path, [first, failed, third]).save()
    append(path, "fourth")
    assert [run.user_prompt for run in Cassette.load(path).runs] == ["first", "third", "fourth"]


def test_a_run_added_with_an_id_the_cassette_has_is_refused_naming_it(tmp_path: Path) -> None:
    # It used to be taken, then dropped without a word by the merging save (its id was a loaded run's).
    path = recorded(tmp_path, ("first",))
    other = Cassette.load(recorded(tmp_path / "other", ("second",)))
    loaded = Cassette.load(path)
    copied = other.runs[0]
    assert copied.id == loaded.runs[0].id == "run-1"
    with pytest.raises(CassetteError, match=r"already has a run with id 'run-1'.*new_run_id\(\)"):
        loaded.add_run(copied)
    loaded.add_run(dataclasses.replace(copied, id=loaded.new_run_id()))
    loaded.save(merge=True)
    assert [run.user_prompt for run in Cassette.load(path).runs] == ["first", "second"]
