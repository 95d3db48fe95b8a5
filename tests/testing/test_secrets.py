"""Nothing that looks like an API key or an auth token reaches a cassette file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from agentkit import Agent
from agentkit.models import TestModel
from agentkit_testing._cassette import Cassette
from agentkit_testing._cassette_context import cassette
from agentkit_testing._cassette_records import RecordedRun
from agentkit_testing._secrets import Scrubber

pytestmark = pytest.mark.anyio

ENV_CANARY = "canary-env-4f9c2b7e1d"
OPENAI_CANARY = "sk-proj-CANARYc4n4ry0123456789abcdefXYZ"
ANTHROPIC_CANARY = "sk-ant-api03-CANARYc4n4ry0123456789abcdef"
BEARER_CANARY = "CANARYbearer.token-0123456789"
SETTINGS_CANARY = "canary-in-settings-77"
CANARIES = (ENV_CANARY, OPENAI_CANARY, ANTHROPIC_CANARY, BEARER_CANARY, SETTINGS_CANARY, "CANARY")


def leaky_agent() -> Agent[None, str]:
    agent = Agent(
        TestModel(),
        name="leaky",
        system_prompt=f"Use the key {OPENAI_CANARY} for the weather service.",
        model_settings={"extra_body": {"api_key": SETTINGS_CANARY, "headers": {"Authorization": "x"}}},
    )

    @agent.tool_plain
    def fetch_config() -> dict[str, str]:
        """The service configuration."""
        return {"anthropic": ANTHROPIC_CANARY, "header": f"Authorization: Bearer {BEARER_CANARY}", "env": ENV_CANARY}

    return agent


@pytest.fixture(autouse=True)
def secret_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_API_KEY", ENV_CANARY)
    monkeypatch.setenv("SHORT_TOKEN", "1")


@pytest.mark.parametrize("name", ["leaky.yaml", "leaky.json"])
async def test_no_canary_reaches_the_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with cassette(path, "rewrite") as session:
        session.cassette.comment = f"recorded with {OPENAI_CANARY}"
        await leaky_agent().run(f"Is my key {ENV_CANARY} valid?")
    text = path.read_text()
    for canary in CANARIES:
        assert canary not in text
    assert "<redacted:openai-key>" in text
    assert "<redacted:anthropic-key>" in text
    assert "Bearer <redacted:bearer-token>" in text
    assert "<redacted:env ACME_API_KEY>" in text
    assert "<redacted:api_key>" in text
    assert "<redacted:authorization>" in text


async def test_a_scrubbed_run_still_replays(tmp_path: Path) -> None:
    path = tmp_path / "leaky.yaml"
    with cassette(path, "rewrite"):
        recorded = await leaky_agent().run(f"Is my key {ENV_CANARY} valid?")
    with cassette(path):
        replayed = await leaky_agent().run(f"Is my key {ENV_CANARY} valid?")
    assert replayed.data == recorded.data.replace(ANTHROPIC_CANARY, "<redacted:anthropic-key>").replace(
        BEARER_CANARY, "<redacted:bearer-token>"
    ).replace(ENV_CANARY, "<redacted:env ACME_API_KEY>")


async def test_user_patterns_and_the_before_record_hook(tmp_path: Path) -> None:
    seen: list[str] = []

    def before_record(run: RecordedRun) -> RecordedRun | None:
        seen.append(run.user_prompt)
        if run.user_prompt == "forget me":
            return None
        return dataclasses.replace(run, label="reviewed")

    agent = Agent(TestModel(custom_result_text="ticket INTERNAL-4711 opened"), name="helpdesk")
    path = tmp_path / "helpdesk.yaml"
    with cassette(path, "rewrite", scrub_patterns=[r"INTERNAL-\d+"], before_record=before_record):
        await agent.run("open a ticket")
        await agent.run("forget me")
    (run,) = Cassette.load(path).runs
    assert seen == ["open a ticket", "forget me"]
    assert run.label == "reviewed"
    assert "INTERNAL-4711" not in path.read_text()
    assert run.result is not None
    assert run.result.data == "ticket <redacted:pattern> opened"


def test_scrubber_defaults() -> None:
    scrubber = Scrubber(environ={"ACME_API_KEY": ENV_CANARY, "TINY_TOKEN": "abc", "HOME": "/root/home-directory"})
    assert scrubber.scrub_text(f"{ENV_CANARY} abc /root/home-directory") == (
        "<redacted:env ACME_API_KEY> abc /root/home-directory"
    )
    assert scrubber.scrub_text("ghp_" + "a" * 36) == "<redacted:github-token>"
    assert scrubber.scrub_text("AKIAABCDEFGHIJKLMNOP") == "<redacted:aws-access-key>"
    assert scrubber.scrub({"token": "t0ps3cret", "tokens": 3, "nested": [{"password": "hunter2"}]}) == {
        "token": "<redacted:token>",
        "tokens": 3,
        "nested": [{"password": "<redacted:password>"}],
    }
    only_mine = Scrubber([r"secret-\w+"], environ={"ACME_API_KEY": ENV_CANARY}, defaults=False)
    assert only_mine.scrub_text(f"secret-abc {ENV_CANARY} {OPENAI_CANARY}") == (
        f"<redacted:pattern> {ENV_CANARY} {OPENAI_CANARY}"
    )
