"""The cassette page, read as HTML: what it shows, what it escapes, and that it needs no network."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from agentkit_testing._cassette._file import Cassette
from agentkit_testing._viewer._model import FOLD_AT, build_run_views
from agentkit_testing._viewer._page import render_cassette_page, render_diff_page

from .conftest import HOSTILE


def test_page_shows_every_run_and_node(record: Callable[..., Path]) -> None:
    page = render_cassette_page(Cassette.load(record("two", ["first question", "second question"])))
    assert page.count('<section class="run') == 2
    for text in ("first question", "second question", "ModelRequestNode", "CallToolsNode", "End", "lookup"):
        assert text in page
    assert "k1: fine" in page
    assert "done after 3 messages" in page


def test_tool_return_with_markup_renders_as_text(record: Callable[..., Path]) -> None:
    page = render_cassette_page(Cassette.load(record("hostile", [HOSTILE], returned=HOSTILE)))
    assert "<script>alert(" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(" in page
    assert page.count("<script>") == 1  # the page's own script, nothing else


def test_page_loads_nothing_from_the_network(record: Callable[..., Path]) -> None:
    page = render_cassette_page(Cassette.load(record("offline", ["see https://example.com/x.png"])))
    assert "default-src 'none'" in page
    assert not re.search(r"<(link|img|iframe)\b", page)
    assert not re.search(r"\bsrc\s*=", page)


def test_long_values_are_folded(record: Callable[..., Path]) -> None:
    long_value = "x" * (FOLD_AT + 50)
    page = render_cassette_page(Cassette.load(record("long", ["q"], returned=long_value)))
    assert '<details class="fold">' in page
    assert long_value in page


def test_run_views_carry_usage_and_a_search_text(record: Callable[..., Path]) -> None:
    (run,) = build_run_views(Cassette.load(record("usage", ["Where is order 42?"])).runs)
    responses = [node for node in run.nodes if node.kind == "CallToolsNode"]
    assert all(node.tokens_in and node.tokens_out for node in responses)
    assert "where is order 42?" in run.search_text
    assert [node.kind for node in run.nodes][-1] == "End"


def test_highlighted_node_is_marked(record: Callable[..., Path]) -> None:
    cassette = Cassette.load(record("mark", ["q"]))
    page = render_cassette_page(cassette, highlight=(cassette.runs[0].id, 2))
    assert re.search(r'class="node ModelRequestNode[^"]*highlight[^"]*" data-node="2"', page)


def test_diff_page_marks_changed_nodes_and_collapses_unchanged_runs(record: Callable[..., Path]) -> None:
    old = Cassette.load(record("old", ["same question", "changing question"], returned="fine"))
    new_path = record("new", ["same question", "changing question"], returned="fine")
    new = Cassette.load(new_path)
    unchanged = render_diff_page(old, new)
    assert "0 of 2 runs changed" in unchanged
    assert unchanged.count('<details class="same">') == 2

    changed = Cassette.load(record("changed", ["same question", "changing question"], returned="broken"))
    page = render_diff_page(old, changed)
    assert "2 of 2 runs changed" in page
    assert 'class="node CallToolsNode changed"' in page
    assert 'class="node ModelRequestNode changed"' in page  # the returns sent back differ too
    assert "k1: broken" in page
    assert "k1: fine" in page


def test_diff_page_shows_runs_only_one_side_has(record: Callable[..., Path]) -> None:
    old = Cassette.load(record("one", ["only question"]))
    new = Cassette.load(record("two", ["only question", "new question"]))
    page = render_diff_page(old, new)
    assert "1 of 2 runs changed" in page
    assert "not in this recording" in page


def test_a_thousand_runs_render(record: Callable[..., Path]) -> None:
    path = record("many", [f"question {index}" for index in range(1000)])
    page = render_cassette_page(Cassette.load(path))
    assert page.count('<section class="run') == 1000
    assert page.count("<option ") == 1000
