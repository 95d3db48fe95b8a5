"""The cassette page in a real headless Chromium (driven by Playwright): it loads, renders, searches.

Skipped, with the reason, where no Chromium is installed; `.ci/run` installs Debian's `chromium`
so CI runs these. Set AGENTKIT_UPDATE_SCREENSHOTS=1 to refresh the README's screenshot under docs/.
"""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from agentkit_testing import fork_sync
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._viewer._page import render_cassette_page, render_diff_page

from .conftest import HOSTILE, _agent

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "images"
# Chromium's background services try to reach the internet; this machine has none.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def open_page(browser: Any, tmp_path: Path) -> Callable[[str], tuple[Any, list[str]]]:
    """Writes `html` to a file, opens it from disk; gives the page and the console errors seen."""

    def make(html: str) -> tuple[Any, list[str]]:
        target = tmp_path / "page.html"
        target.write_text(html, encoding="utf-8")
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: None if request.url.startswith("file:") else errors.append(request.url))
        page.goto(target.as_uri())
        return page, errors

    return make


def test_page_loads_without_errors_and_shows_the_timeline(
    record: Callable[..., Path], open_page: Callable[[str], tuple[Any, list[str]]], tmp_path: Path
) -> None:
    path = record("support", ["Where is my order 42?", "Cancel order 7", HOSTILE], returned=HOSTILE)
    page, errors = open_page(render_cassette_page(Cassette.load(path)))
    visible = page.locator("section.run:not(.hidden)")
    assert visible.count() == 1
    assert visible.locator("li.node").count() == 5
    assert "Where is my order 42?" in visible.inner_text()
    assert page.evaluate("window.__owned === undefined")
    shot = page.screenshot(full_page=False)
    assert _looks_drawn(shot)
    if os.environ.get("AGENTKIT_UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / "cassette-page.png").write_bytes(shot)
    assert errors == []


def test_search_filters_runs_and_the_picker_switches(
    record: Callable[..., Path], open_page: Callable[[str], tuple[Any, list[str]]]
) -> None:
    path = record("many", [f"question number {index}" for index in range(30)] + ["refund please"])
    page, errors = open_page(render_cassette_page(Cassette.load(path)))
    page.fill("#search", "refund")
    assert page.locator("#runs a:not(.hidden)").count() == 1
    assert page.inner_text("#counts") == "1 of 31 runs"
    assert "refund please" in page.locator("section.run:not(.hidden)").inner_text()
    page.fill("#search", "")
    assert page.locator("#runs a:not(.hidden)").count() == 31
    last_id = Cassette.load(path).runs[5].id
    page.select_option("#picker", last_id)
    assert page.locator("section.run:not(.hidden)").get_attribute("id") == last_id
    assert errors == []


def test_diff_page_renders_changed_nodes_side_by_side(
    record: Callable[..., Path], open_page: Callable[[str], tuple[Any, list[str]]]
) -> None:
    old = Cassette.load(record("old", ["q1", "q2"], returned="fine"))
    new = Cassette.load(record("new", ["q1", "q2"], returned="changed"))
    page, errors = open_page(render_diff_page(old, new))
    visible = page.locator("section.run:not(.hidden)")
    assert visible.locator(".pair > div").count() == 2
    assert visible.locator("li.node.changed").count() >= 2
    shot = page.screenshot()
    assert _looks_drawn(shot)
    if os.environ.get("AGENTKIT_UPDATE_SCREENSHOTS"):
        (SCREENSHOTS / "cassette-diff.png").write_bytes(shot)
    assert errors == []


def test_divergence_page_opens_on_the_highlighted_node_under_its_notice(
    record: Callable[..., Path], open_page: Callable[[str], tuple[Any, list[str]]]
) -> None:
    cassette = Cassette.load(record("diverged", [f"question number {index}" for index in range(12)]))
    run_id = cassette.runs[8].id
    notice = f"tests/test_x.py::test_y\n\nReplay diverged in run {run_id!r} at node 2 {HOSTILE}"
    page, errors = open_page(render_cassette_page(cassette, highlight=(run_id, 2), notice=notice))
    assert page.locator("section.run:not(.hidden)").get_attribute("id") == run_id
    highlighted = page.locator("li.node.highlight")
    assert highlighted.count() == 1
    assert highlighted.get_attribute("data-node") == "2"
    box = highlighted.bounding_box()
    assert box is not None
    assert 0 <= box["y"] < 860  # scrolled into view
    assert page.locator(".notice").is_visible()
    assert HOSTILE in page.inner_text(".notice")  # shown as text, not run
    assert page.evaluate("window.__owned === undefined")
    assert errors == []


def test_forked_run_marks_its_replayed_nodes(
    record: Callable[..., Path], open_page: Callable[[str], tuple[Any, list[str]]]
) -> None:
    path = record("forked", ["q1"])

    def fork_it() -> None:
        fork_sync(path, agent=_agent("fine"), run="run-1", at_node=2)

    with ThreadPoolExecutor(max_workers=1) as pool:  # Playwright keeps an event loop running in this thread
        pool.submit(fork_it).result()
    page, errors = open_page(render_cassette_page(Cassette.load(path)))
    page.select_option("#picker", "run-2")
    forked = page.locator("section.run:not(.hidden)")
    assert "forked from run-1 at node 2" in forked.locator(".run-head").inner_text()
    assert forked.locator("li.node.replayed").count() == 2
    label = page.evaluate("getComputedStyle(document.querySelector('#run-2 li.node.replayed h3'), '::after').content")
    assert "replayed from the parent run" in label
    assert errors == []


def _looks_drawn(png: bytes) -> bool:
    """A screenshot with real content: many distinct byte values in its image data, not one flat colour."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    data = bytearray()
    offset = 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        if kind == b"IDAT":
            data += png[offset + 8 : offset + 8 + length]
        offset += 12 + length
    pixels = zlib.decompress(bytes(data))
    return len(set(pixels)) > 32 and sum(1 for byte in pixels if byte) > len(pixels) // 50
