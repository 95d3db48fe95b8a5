"""Nothing that looks like an API key or an auth token reaches a cassette file."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import NamedTuple

import pytest

from agentkit import Agent
from agentkit.models import TestModel
from agentkit_testing._cassette._context import cassette
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._cassette._records import RecordedRun
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


LATE_CANARY = "late-canary-value-93817"


async def test_a_variable_set_inside_the_block_is_scrubbed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "late.yaml"
    with cassette(path, "rewrite"):
        monkeypatch.setenv("LATE_SERVICE_TOKEN", LATE_CANARY)
        await Agent(TestModel(custom_result_text=f"the token is {LATE_CANARY}"), name="late").run("token?")
    text = path.read_text()
    assert LATE_CANARY not in text
    assert "<redacted:env LATE_SERVICE_TOKEN>" in text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STRIPE_KEY", "canary-stripe-key-1"),
        ("WEBHOOK_SECRET", "canary-webhook-secret-2"),
        ("DB_PASSWORD", "canary-db-password-3"),
        ("GOOGLE_CREDENTIALS", "canary-credentials-4"),
        ("GITLAB_PAT", "canary-gitlab-pat-5"),
        ("API_KEY", "canary-bare-api-key-6"),
    ],
)
def test_secret_named_variables_are_scrubbed(name: str, value: str) -> None:
    assert Scrubber(environ={name: value}).scrub_text(f"value: {value}.") == f"value: <redacted:env {name}>."


@pytest.mark.parametrize(
    ("text", "canary"),
    [
        ("connect to postgres://app:canaryPw0rd@db.internal:5432/app", "canaryPw0rd"),
        ("GET https://maps.example.com/geo?q=Paris&api_key=canaryQueryKey1", "canaryQueryKey1"),
        ("GET https://maps.example.com/geo?key=canaryQueryKey2&q=Paris", "canaryQueryKey2"),
        ("https://example.com/cb#access_token=canaryFragmentToken3", "canaryFragmentToken3"),
        ("Authorization: Basic Y2FuYXJ5OnBhc3N3b3Jk", "Y2FuYXJ5OnBhc3N3b3Jk"),
        ("Authorization: Bearer canaryBearer4", "canaryBearer4"),
        ("Cookie: session=canarySession5; theme=dark", "canarySession5"),
        ("set-cookie: sid=canarySid6; Path=/; HttpOnly", "canarySid6"),
        ('{"user": "ann", "password": "canaryJsonPw7"}', "canaryJsonPw7"),
        ('{"api_key": 918273645}', "918273645"),
        ("export OPENAI_API_KEY=canaryAssigned8", "canaryAssigned8"),
    ],
)
def test_secret_shapes_are_scrubbed(text: str, canary: str) -> None:
    assert canary not in Scrubber(environ={}).scrub_text(text)


def test_a_url_password_in_any_variable_is_scrubbed_everywhere() -> None:
    scrubber = Scrubber(environ={"DATABASE_URL": "postgres://app:canary-url-pw-91@db/app"})
    assert scrubber.scrub_text("the password is canary-url-pw-91") == (
        "the password is <redacted:env DATABASE_URL password>"
    )


def test_numbers_under_secret_named_fields_are_redacted() -> None:
    scrubbed = Scrubber(environ={}).scrub({"api_key": 12345, "db_password": 3.5, "pin_token": None, "enabled": True})
    assert scrubbed == {
        "api_key": "<redacted:api_key>",
        "db_password": "<redacted:db_password>",
        "pin_token": None,
        "enabled": True,
    }


async def test_a_numeric_key_in_tool_arguments_and_returns_is_not_written(tmp_path: Path) -> None:
    agent = Agent(TestModel(call_tools=["lookup"]), name="numeric")

    @agent.tool_plain
    def lookup(account: str) -> dict[str, int]:
        """Credentials of an account."""
        return {"api_key": 918273645, "port": 5432}

    path = tmp_path / "numeric.yaml"
    with cassette(path, "rewrite"):
        await agent.run("credentials?")
    text = path.read_text()
    assert "918273645" not in text
    assert "5432" in text


@pytest.mark.parametrize(
    "text",
    [
        "a basic understanding of tokens",
        "max_tokens: 1024, total_tokens: 77, outer_typed_dict_key: response",
        "the bearer of 1 token",
        "https://example.com:8080/path?q=1&page=2",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert Scrubber(environ={"FEATURE_FLAG_KEY": "1", "SHORT_TOKEN": "true"}).scrub_text(text) == text


def test_short_variable_values_are_not_searched_for() -> None:
    scrubber = Scrubber(environ={"RETRIES_KEY": "7", "MODE_SECRET": "abcdefg"})
    assert scrubber.scrub_text("7 abcdefg") == "7 abcdefg"
    assert scrubber.scrub_text("password=7") == "password=<redacted:password>"


def test_cassette_fields_named_like_secrets_are_not_redacted() -> None:
    document = {"outer_typed_dict_key": "response", "usage": {"total_tokens": 12}, "settings": {"max_tokens": 9}}
    assert Scrubber(environ={}).scrub(document) == document


async def test_a_run_recorded_with_a_variable_set_in_the_body_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "late.yaml"
    agent = Agent(TestModel(custom_result_text="done"), name="late")
    with cassette(path, "rewrite"):
        monkeypatch.setenv("LATE_SERVICE_TOKEN", LATE_CANARY)
        await agent.run(f"use {LATE_CANARY}")
    monkeypatch.delenv("LATE_SERVICE_TOKEN")
    with cassette(path) as session:
        monkeypatch.setenv("LATE_SERVICE_TOKEN", LATE_CANARY)
        result = await agent.run(f"use {LATE_CANARY}")
    assert result.data == "done"
    assert len(session.replayed_runs) == 1


def test_tuples_and_named_tuples_are_scrubbed_and_keep_their_type() -> None:
    class Pair(NamedTuple):
        name: str
        value: str

    scrubbed = Scrubber(environ={}).scrub({"pair": Pair("key", OPENAI_CANARY), "plain": ("a", OPENAI_CANARY)})
    assert scrubbed == {
        "pair": Pair("key", "<redacted:openai-key>"),
        "plain": ("a", "<redacted:openai-key>"),
    }
    assert type(scrubbed["pair"]) is Pair
