"""The committed HTTP cassettes hold no credential: no key shape, no secret header value, no secret field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from agentkit_testing import Scrubber
from agentkit_testing._vcr import is_secret_header

CASSETTES = sorted((Path(__file__).parent / "cassettes").rglob("*.yaml"))


def _headers(interaction: dict[str, Any]) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for side in ("request", "response"):
        headers = interaction.get(side, {}).get("headers") or {}
        found.extend(headers.items())
    return found


def test_there_are_cassettes_to_check() -> None:
    assert len(CASSETTES) >= 20


@pytest.mark.parametrize("path", CASSETTES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_a_committed_http_cassette_is_already_scrubbed(path: Path) -> None:
    text = path.read_text()
    scrubber = Scrubber(environ={})
    assert scrubber.scrub_text(text) == text
    document = yaml.safe_load(text)
    assert scrubber.scrub(document) == document
    for interaction in document["interactions"]:
        for name, values in _headers(interaction):
            if is_secret_header(name):
                assert all(str(value).startswith("<redacted:") for value in values), f"{path}: header {name}"
