"""`agentkit cassette view` and `agentkit cassette diff --html`: pages written from the command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentkit_testing._cli import main


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_view_writes_a_page_next_to_where_it_runs(
    runner: CliRunner, record: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = record("support", ["Where is order 42?"])
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["cassette", "view", str(path)])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "support.html").read_text()
    assert "Where is order 42?" in page
    assert "wrote support.html" in result.output


def test_view_of_two_files_writes_the_side_by_side_page(
    runner: CliRunner, record: Callable[..., Path], tmp_path: Path
) -> None:
    old = record("old", ["q"], returned="a")
    new = record("new", ["q"], returned="b")
    target = tmp_path / "out" / "review.html"
    target.parent.mkdir()
    result = runner.invoke(main, ["cassette", "view", str(old), str(new), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "1 of 1 runs changed" in target.read_text()


def test_diff_html_writes_the_page_and_still_prints_the_diff(
    runner: CliRunner, record: Callable[..., Path], tmp_path: Path
) -> None:
    old = record("old", ["q"], returned="a")
    new = record("new", ["q"], returned="b")
    target = tmp_path / "diff.html"
    result = runner.invoke(main, ["cassette", "diff", str(old), str(new), "--html", str(target)])
    assert result.exit_code == 1
    assert "k1: b" in target.read_text()
    assert "wrote" in result.output


def test_view_of_a_broken_cassette_fails_and_writes_nothing(runner: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("format: agentkit-cassette\nversion: 1\nruns: [\n")
    target = tmp_path / "page.html"
    result = runner.invoke(main, ["cassette", "view", str(broken), "-o", str(target)])
    assert result.exit_code == 1
    assert "broken.yaml" in result.output
    assert not target.exists()


def test_view_of_three_files_is_a_usage_error(runner: CliRunner, record: Callable[..., Path]) -> None:
    path = record("one", ["q"])
    result = runner.invoke(main, ["cassette", "view", str(path), str(path), str(path)])
    assert result.exit_code == 2
    assert "two to compare" in result.output
