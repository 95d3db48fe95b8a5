"""agentkit_testing.pydantic_ai.cassette: record → replay → divergence for runs of real pydantic-ai agents."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest
import yaml
from pydantic_ai import Agent, ModelRetry
from pydantic_ai.exceptions import UserError
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel
from pydantic_ai_helpers import run_sync

from agentkit_testing import CassetteDivergence, UnplayedRuns, UnrecordedRequest
from agentkit_testing.pydantic_ai import cassette


def make_agent(model: TestModel | FunctionModel | None = None, *, offset: int = 0) -> Agent[None, str]:
    agent = Agent(model or TestModel(), name="calc")

    @agent.tool_plain
    def add(x: int, y: int) -> int:
        """Add two numbers."""
        return x + y + offset

    return agent


def test_a_recorded_tool_run_replays_with_the_same_output(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with cassette(path, agents=[agent := make_agent()], record_mode="once") as session:
        recorded = run_sync(agent, "add things").output
    assert len(session.recorded_runs) == 1
    with cassette(path, agents=[agent := make_agent()]) as session:
        assert run_sync(agent, "add things").output == recorded
    assert [run.id for run in session.replayed_runs] == ["run-1"]


def test_replay_never_asks_the_model(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[TextPart("recorded answer")])

    def refuse(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise AssertionError("the model was asked during replay")

    with cassette(path, agents=[agent := make_agent(FunctionModel(answer, model_name="fn"))], record_mode="once"):
        run_sync(agent, "hello")
    with cassette(path, agents=[agent := make_agent(FunctionModel(refuse, model_name="fn"))]):
        assert run_sync(agent, "hello").output == "recorded answer"


def test_the_file_names_the_runtime_and_holds_pydantic_ai_messages(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with cassette(path, agents=[agent := make_agent()], record_mode="once"):
        run_sync(agent, "add things")
    document = yaml.safe_load(path.read_text())
    run = document["runs"][0]
    assert run["runtime"].startswith("pydantic-ai 2.")
    assert run["agent"] == "calc"
    assert run["model"] == "test:test"
    first = run["requests"][0]
    assert first["messages"][0]["parts"][0] == {
        "part_kind": "user-prompt",
        "content": "add things",
        "timestamp": first["messages"][0]["parts"][0]["timestamp"],
    }
    assert first["response"]["parts"][0]["part_kind"] == "tool-call"
    assert "run_id" not in first["messages"][0]
    assert run["tool_calls"][0]["tool_name"] == "add"


def test_a_changed_tool_return_is_a_divergence_at_the_tool_call(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with cassette(path, agents=[agent := make_agent()], record_mode="once"):
        run_sync(agent, "add things")
    with pytest.raises(CassetteDivergence) as caught, cassette(path, agents=[agent := make_agent(offset=1)]):
        run_sync(agent, "add things")
    error = caught.value
    assert (error.run_id, error.node_index, error.field) == ("run-1", 0, "tool_return")
    assert "tool return of 'add'" in str(error)
    assert "-0\n+1\n" in error.diff
    assert "record_mode='rewrite'" in str(error)  # a cassette() block in code: its keyword is the fix


def test_a_changed_retry_prompt_is_a_divergence_in_the_next_request(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if len(messages) == 1:
            return ModelResponse(parts=[ToolCallPart("check", {"x": 0}, tool_call_id="c1")])
        return ModelResponse(parts=[TextPart("ok")])

    def agent_retrying(reason: str) -> Agent[None, str]:
        agent = Agent(FunctionModel(answer), name="calc", retries=2)

        @agent.tool_plain
        def check(x: int) -> int:
            if x == 0:
                raise ModelRetry(reason)
            return x

        return agent

    with cassette(path, agents=[agent := agent_retrying("x must not be 0")], record_mode="once"):
        run_sync(agent, "check")
    with pytest.raises(CassetteDivergence) as caught, cassette(path, agents=[agent := agent_retrying("positive")]):
        run_sync(agent, "check")
    error = caught.value
    assert (error.run_id, error.node_index, error.field) == ("run-1", 1, "messages")
    assert "-  - part_kind: retry-prompt" not in error.diff
    assert "-    content: x must not be 0" in error.diff
    assert "+    content: positive" in error.diff


def test_a_changed_tool_set_is_a_divergence_at_the_first_request(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with cassette(path, agents=[agent := make_agent()], record_mode="once"):
        run_sync(agent, "add things")
    changed = make_agent()

    @changed.tool_plain
    def sub(x: int, y: int) -> int:
        return x - y

    with pytest.raises(CassetteDivergence) as caught, cassette(path, agents=[changed]):
        run_sync(changed, "add things")
    assert (caught.value.node_index, caught.value.field) == (0, "function_tools")


def test_an_unrecorded_prompt_names_the_nearest_run(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with cassette(path, agents=[agent := make_agent()], record_mode="once"):
        run_sync(agent, "add things")
    with pytest.raises(CassetteDivergence) as caught, cassette(path, agents=[agent := make_agent()]):
        run_sync(agent, "subtract things")
    assert caught.value.field == "user_prompt"
    assert "+subtract things" in caught.value.diff


def test_replay_of_a_missing_cassette_says_to_record_it(tmp_path: Path) -> None:
    with (
        pytest.raises(UnrecordedRequest, match="record_mode='once'"),
        cassette(tmp_path / "none.yaml", agents=[agent := make_agent()]),
    ):
        run_sync(agent, "hello")


def test_a_run_no_longer_started_fails_the_replay_block(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with cassette(path, agents=[agent := make_agent()], record_mode="once"):
        run_sync(agent, "one")
        run_sync(agent, "two")
    with pytest.raises(UnplayedRuns) as caught, cassette(path, agents=[agent := make_agent()]):
        run_sync(agent, "one")
    assert caught.value.run_ids == ("run-2",)


class Answer(pydantic.BaseModel):
    city: str
    population: int


def test_a_structured_output_run_replays(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    agent = Agent(TestModel(custom_output_args={"city": "Paris", "population": 2}), output_type=Answer, name="geo")
    with cassette(path, agents=[agent], record_mode="once"):
        assert run_sync(agent, "where?").output == Answer(city="Paris", population=2)
    replayed = Agent(TestModel(custom_output_args={"city": "Rome", "population": 3}), output_type=Answer, name="geo")
    with cassette(path, agents=[replayed]):
        assert run_sync(replayed, "where?").output == Answer(city="Paris", population=2)


def test_a_run_with_message_history_replays_after_the_run_it_continues(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[TextPart(f"seen {len(messages)}")])

    agent = Agent(FunctionModel(answer), name="chat")
    with cassette(path, agents=[agent], record_mode="once"):
        first = run_sync(agent, "hi")
        second = run_sync(agent, "again", message_history=first.all_messages())
    assert second.output == "seen 3"
    with cassette(path, agents=[agent]) as session:
        first = run_sync(agent, "hi")
        assert run_sync(agent, "again", message_history=first.all_messages()).output == "seen 3"
    assert len(session.replayed_runs) == 2


def test_a_function_model_tool_call_with_text_args_replays(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if len(messages) == 1:
            return ModelResponse(parts=[ToolCallPart("add", '{"x": 2, "y": 3}', tool_call_id="c1")])
        return ModelResponse(parts=[TextPart("done")])

    with cassette(path, agents=[agent := make_agent(FunctionModel(answer))], record_mode="once"):
        assert run_sync(agent, "go").output == "done"
    with cassette(path, agents=[agent := make_agent(FunctionModel(answer))]) as session:
        result = run_sync(agent, "go")
    assert result.output == "done"
    assert session.replayed_runs[0].runtime_tool_calls[0].result == 5


def test_request_parameters_are_written_where_they_change_and_read_back_for_every_request(tmp_path: Path) -> None:
    from agentkit_testing import Cassette

    path = tmp_path / "c.yaml"
    with cassette(path, agents=[agent := make_agent()], record_mode="once"):
        run_sync(agent, "add things")
    requests = yaml.safe_load(path.read_text())["runs"][0]["requests"]
    assert ["parameters" in request for request in requests] == [True, False]
    (run,) = Cassette.load(path).runs
    first, second = run.runtime_requests
    assert first.parameters is not None
    assert second.parameters == first.parameters


def recorded_as_if_from_openai(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run of agent 'weather' answering 'Sunny' at `path`, named as recorded against openai:gpt-4o; no key set."""
    recording = Agent(TestModel(custom_output_text="Sunny"), name="weather")
    with cassette(path, agents=[recording], record_mode="once"):
        run_sync(recording, "Weather in Paris?")
    # As if recorded live against OpenAI: the run names the model it was recorded against.
    path.write_text(path.read_text().replace("model: test:test", "model: openai:gpt-4o"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def test_an_agent_on_a_provider_model_replays_without_a_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.yaml"
    recorded_as_if_from_openai(path, monkeypatch)
    # pydantic-ai builds the model with the agent unless told to wait: without a key, it must wait.
    live = Agent("openai:gpt-4o", name="weather", defer_model_check=True)
    with cassette(path, agents=[live]):
        assert run_sync(live, "Weather in Paris?").output == "Sunny"


@pytest.mark.parametrize("model", ["openai-chat:gpt-4o", "openai-responses:gpt-4o"])
def test_a_provider_prefix_unlike_the_models_system_replays_without_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: str
) -> None:
    # Recorded live, 'openai-chat:gpt-4o' is OpenAIChatModel, whose system is 'openai': the run says
    # openai:gpt-4o. Replayed without a key, the stand-in took the prefix as the system and the run
    # diverged on "the model" (openai-chat:gpt-4o), the README's no-key replay failing.
    path = tmp_path / "c.yaml"
    recorded_as_if_from_openai(path, monkeypatch)
    live = Agent(model, name="weather", defer_model_check=True)
    with cassette(path, agents=[live]):
        assert run_sync(live, "Weather in Paris?").output == "Sunny"


def test_recording_an_agent_whose_model_cannot_be_built_shows_the_providers_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    agent = Agent("openai:gpt-4o", name="weather", defer_model_check=True)
    with (
        pytest.raises(UserError, match="OPENAI_API_KEY"),
        cassette(tmp_path / "c.yaml", agents=[agent], record_mode="once"),
    ):
        pass


CANARY_KEY = "sk-proj-CANARYc4n4ry0123456789abcdefXYZ"


def test_a_key_in_prompts_tool_returns_and_secret_variables_never_reaches_the_file_and_still_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-5ecret-value-0123456789")

    def agent_with_key_tool() -> Agent[None, str]:
        agent = Agent(TestModel(), name="leaky")

        @agent.tool_plain
        def fetch_token() -> str:
            return "tok-5ecret-value-0123456789"

        return agent

    path = tmp_path / "c.yaml"
    prompt = f"use key {CANARY_KEY}"
    with cassette(path, agents=[agent := agent_with_key_tool()], record_mode="once"):
        run_sync(agent, prompt)
    text = path.read_text()
    assert CANARY_KEY not in text
    assert "tok-5ecret-value-0123456789" not in text
    with cassette(path, agents=[agent := agent_with_key_tool()]) as session:
        run_sync(agent, prompt)
    assert len(session.replayed_runs) == 1
