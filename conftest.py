"""Repository-wide pytest settings: live tests run only with --live (they need the local LLM server)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--live", action="store_true", default=False, help="run tests marked live (local LLM server)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--live"):
        return
    skip_live = pytest.mark.skip(reason="needs the local LLM server: run with --live (see README)")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip_live)
