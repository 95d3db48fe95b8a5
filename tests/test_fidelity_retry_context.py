"""Fidelity with pydantic-ai 0.0.39: retry prompts keep pydantic's error context (`ctx`), which the model never sees."""

from __future__ import annotations

import json
from pathlib import Path

import pydantic
import pytest

from agentkit import Agent, ModelMessage, ModelRequest, ModelResponse, RetryPromptPart, ToolCallPart
from agentkit.models import AgentInfo, FunctionModel
from agentkit_testing import CassetteDivergence, cassette


class Positive(pydantic.BaseModel):
    a: int

    @pydantic.field_validator("a")
    @classmethod
    def must_be_positive(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must be positive")
        return value


def negative_then_positive() -> FunctionModel:
    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        value = -1 if len(messages) == 1 else 1
        return ModelResponse(parts=[ToolCallPart("final_result", {"a": value})])

    return FunctionModel(answer)


def retry_prompt(messages: list[ModelMessage]) -> RetryPromptPart:
    request = messages[2]
    assert isinstance(request, ModelRequest)
    part = request.parts[0]
    assert isinstance(part, RetryPromptPart)
    return part


def test_a_validator_error_keeps_its_context_in_the_retry_prompt() -> None:
    agent = Agent(negative_then_positive(), result_type=Positive)
    part = retry_prompt(agent.run_sync("go").all_messages())
    assert not isinstance(part.content, str)
    error = part.content[0]
    assert error["type"] == "value_error"
    assert isinstance(error["ctx"]["error"], ValueError)
    assert str(error["ctx"]["error"]) == "must be positive"


def test_a_json_error_keeps_its_context_in_the_retry_prompt() -> None:
    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        args = '{"a": 1' if len(messages) == 1 else '{"a": 1}'
        return ModelResponse(parts=[ToolCallPart("final_result", args)])

    agent = Agent(FunctionModel(answer), result_type=Positive)
    part = retry_prompt(agent.run_sync("go").all_messages())
    assert not isinstance(part.content, str)
    assert part.content[0]["ctx"] == {"error": "EOF while parsing an object at line 1 column 7"}


def test_the_model_is_not_shown_the_error_context() -> None:
    agent = Agent(negative_then_positive(), result_type=Positive)
    text = retry_prompt(agent.run_sync("go").all_messages()).model_response()
    assert "ctx" not in text
    assert '"msg": "Value error, must be positive"' in text
    assert text.endswith("Fix the errors and try again.")


def test_the_retry_text_keeps_non_ascii_input_readable() -> None:
    part = RetryPromptPart(content=[{"type": "int_parsing", "loc": ("a",), "msg": "bad", "input": "déjà"}])
    assert '"input": "déjà"' in part.model_response()


def test_messages_json_writes_an_exception_in_the_context_as_its_text() -> None:
    agent = Agent(negative_then_positive(), result_type=Positive)
    messages = json.loads(agent.run_sync("go").all_messages_json())
    assert messages[2]["parts"][0]["content"][0]["ctx"] == {"error": "must be positive"}


def test_a_run_with_an_exception_in_a_retry_context_replays(tmp_path: Path) -> None:
    agent = Agent(negative_then_positive(), result_type=Positive)
    path = tmp_path / "retry.yaml"
    with cassette(path, record_mode="all"):
        agent.run_sync("go")
    assert "error: must be positive" in path.read_text()
    with cassette(path, record_mode="none"):
        assert agent.run_sync("go").data == Positive(a=1)


@pytest.mark.parametrize("changed", ["must be non-negative", "must be positive!"])
def test_a_changed_error_context_is_still_a_divergence(tmp_path: Path, changed: str) -> None:
    agent = Agent(negative_then_positive(), result_type=Positive)
    path = tmp_path / "retry.yaml"
    with cassette(path, record_mode="all"):
        agent.run_sync("go")
    path.write_text(path.read_text().replace("error: must be positive", f"error: {changed}"))
    with pytest.raises(CassetteDivergence, match="retry prompt"), cassette(path, record_mode="none"):
        agent.run_sync("go")
