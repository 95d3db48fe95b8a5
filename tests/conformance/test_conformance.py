"""Code written for pydantic-ai 0.0.39 runs on agentkit with only its imports changed, and prints the same.

Each scenario's expected output was recorded under pydantic-ai-slim 0.0.39 (`run.py --reference`);
here it runs ported to agentkit. The gaps agentkit keeps on purpose are listed with their reasons,
as strict xfails: when one closes, the test says so.
"""

from __future__ import annotations

import sys

import pytest

from .run import EXPECTED, ported_source, run_scenario, scenario_names

KNOWN_GAPS: dict[str, str] = {}
"""Scenario name -> why agentkit differs on purpose (none today)."""


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(reason=KNOWN_GAPS[name], strict=True))
        if name in KNOWN_GAPS
        else name
        for name in scenario_names()
    ],
)
def test_scenario_prints_what_the_reference_release_printed(name: str) -> None:
    expected = (EXPECTED / f"{name}.txt").read_text()
    assert run_scenario(sys.executable, ported_source(name)) == expected
