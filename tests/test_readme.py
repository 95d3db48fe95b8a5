"""The README's runnable examples run as written: every name they use is defined in them."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

README = Path(__file__).parent.parent / "README.md"


def python_blocks(section: str) -> list[str]:
    """The ```python blocks of the README section whose heading is `section`."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n### {section}\n")
    following = re.search(r"\n#{1,3} ", text[start + 1 :])
    body = text[start : start + 1 + following.start()] if following else text[start:]
    return re.findall(r"```python\n(.*?)```", body, flags=re.DOTALL)


def test_the_property_test_example_runs_as_written() -> None:
    (block,) = python_blocks("Property tests of tool-call flows (hypothesis)")
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(block, "README.md (property tests)", "exec"), namespace)
    quick = settings(max_examples=10, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    tests = [value for name, value in namespace.items() if name.startswith("test_")]
    assert len(tests) == 2
    for test in tests:
        quick(test)()


def test_the_wrapper_model_example_counts_requests() -> None:
    from agentkit import Agent
    from agentkit.models import TestModel

    (block,) = python_blocks("Coming from pydantic-ai 0.0.39")
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(textwrap.dedent(block), "README.md (WrapperModel)", "exec"), namespace)
    model = namespace["CountingModel"](TestModel())
    assert Agent(model).run_sync("hi").data == "success (no tool calls)"
    assert model.requests == 1


def test_the_pydantic_ai_property_test_example_runs_as_written() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)
    (block,) = [block for block in blocks if "agentkit_testing.pydantic_ai.strategies" in block]
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(block, "README.md (pydantic-ai property tests)", "exec"), namespace)
    quick = settings(max_examples=10, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    quick(namespace["test_every_scripted_run_ends_cleanly"])()


def test_the_test_command_says_the_page_tests_need_chromium() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Set-up")
    setup = text[start : text.index("\n## ", start + 1)]
    browser_tests = Path(__file__).parent / "testing" / "viewer" / "test_viewer_browser.py"
    count = len(re.findall(r"^(?:async )?def test_", browser_tests.read_text(encoding="utf-8"), flags=re.MULTILINE))
    assert f"The {count} page tests (`tests/testing/viewer/test_viewer_browser.py`)" in setup
    assert "skipped where none is installed" in setup
    assert "Debian's `chromium`" in setup
    assert "`.ci/run`" in setup
