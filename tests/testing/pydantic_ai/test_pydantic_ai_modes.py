"""pydantic-ai cassettes: streamed and iterated runs, concurrent runs, record modes, runtimes, part kinds, imports."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pytest
import yaml
from pydantic_ai import Agent
from pydantic_ai.messages import (
    BinaryContent,
    FilePart,
    ModelMessage,
    ModelMessagesTypeAdapter,
    ModelResponse,
    ModelResponsePart,
    NativeToolCallPart,
    NativeToolReturnPart,
    TextPart,
    ThinkingPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel
from pydantic_ai_helpers import run_sync

from agentkit_testing import (
    AmbiguousRecording,
    CassetteDivergence,
    RuntimeMismatch,
    UnrecordableMessage,
    UnrecordedRequest,
)
from agentkit_testing import cassette as agentkit_cassette
from agentkit_testing.pydantic_ai import cassette

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def make_agent(text: str = "recorded") -> Agent[None, str]:
    agent = Agent(TestModel(custom_output_text=text), name="talker")

    @agent.tool_plain
    def lookup(key: str) -> str:
        return f"value of {key}"

    return agent


def test_a_run_stream_run_replays_its_text(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"

    async def stream(agent: Agent[None, str]) -> str:
        async with agent.run_stream("stream it") as result:
            return "".join([chunk async for chunk in result.stream_text(delta=True)])

    with cassette(path, agents=[agent := make_agent()], record_mode="once"):
        assert asyncio.run(stream(agent)) == "recorded"
    with cassette(path, agents=[agent := make_agent("live")]) as session:
        assert asyncio.run(stream(agent)) == "recorded"
    assert session.replayed_runs[0].streamed


def test_an_iter_run_replays_node_by_node(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"

    async def nodes(agent: Agent[None, str]) -> tuple[list[str], str]:
        async with agent.iter("iterate") as run:
            kinds = [type(node).__name__ async for node in run]
        assert run.result is not None
        return kinds, run.result.output

    with cassette(path, agents=[agent := make_agent()], record_mode="once"):
        recorded = asyncio.run(nodes(agent))
    with cassette(path, agents=[agent := make_agent("live")]):
        assert asyncio.run(nodes(agent)) == recorded


def test_concurrent_runs_of_one_agent_find_their_own_recordings(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"

    def echo(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        prompt = messages[0].parts[0].content  # type: ignore[union-attr]
        return ModelResponse(parts=[TextPart(f"answer to {prompt}")])

    async def both(agent: Agent[None, str], order: list[str]) -> list[str]:
        results = await asyncio.gather(*(agent.run(prompt) for prompt in order))
        return [result.output for result in results]

    agent = Agent(FunctionModel(echo, model_name="echo"), name="echo")
    with cassette(path, agents=[agent], record_mode="once"):
        asyncio.run(both(agent, ["a", "b", "c"]))

    def refuse(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise AssertionError("asked during replay")

    replayed = Agent(FunctionModel(refuse, model_name="echo"), name="echo")
    with cassette(path, agents=[replayed]):
        assert asyncio.run(both(replayed, ["c", "a", "b"])) == ["answer to c", "answer to a", "answer to b"]


@pytest.mark.parametrize(
    ("mode", "runs_after"),
    # `all` keeps an unchanged re-recorded run once (its text as it was) and adds the new ones after it.
    [("new_episodes", ["first", "second"]), ("all", ["first", "second"]), ("rewrite", ["first", "second"])],
)
def test_record_modes_that_record_write_what_they_should(tmp_path: Path, mode: str, runs_after: list[str]) -> None:
    path = tmp_path / "c.yaml"
    with cassette(path, agents=[agent := make_agent()], record_mode="once"):
        run_sync(agent, "first")
    with cassette(path, agents=[agent := make_agent()], record_mode=mode):  # type: ignore[arg-type]
        run_sync(agent, "first")
        run_sync(agent, "second")
    prompts = [run["user_prompt"] for run in yaml.safe_load(path.read_text())["runs"]]
    assert prompts == runs_after


def test_once_replays_an_existing_file_and_records_nothing_new(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with cassette(path, agents=[agent := make_agent()], record_mode="once"):
        run_sync(agent, "first")
    before = path.read_bytes()
    with cassette(path, agents=[agent := make_agent()], record_mode="once"):
        run_sync(agent, "first")
        with pytest.raises(UnrecordedRequest):
            run_sync(agent, "second")
    assert path.read_bytes() == before


def test_an_external_tool_is_served_from_the_recording(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    calls: list[str] = []

    def agent_with_side_effect() -> Agent[None, str]:
        agent = Agent(TestModel(), name="mailer")

        @agent.tool_plain
        def send_mail(to: str) -> str:
            calls.append(to)
            return "sent"

        return agent

    with cassette(path, agents=[agent := agent_with_side_effect()], record_mode="once", external_tools=["send_mail"]):
        run_sync(agent, "mail")
    assert len(calls) == 1
    with cassette(path, agents=[agent := agent_with_side_effect()], external_tools=["send_mail"]):
        run_sync(agent, "mail")
    assert len(calls) == 1


def test_a_pydantic_ai_run_is_a_runtime_mismatch_for_an_agentkit_agent(tmp_path: Path) -> None:
    from agentkit import Agent as AgentkitAgent
    from agentkit.models.test import TestModel as AgentkitTestModel

    path = tmp_path / "c.yaml"
    with cassette(path, agents=[agent := Agent(TestModel(), name="same")], record_mode="once"):
        run_sync(agent, "hello")
    other = AgentkitAgent(AgentkitTestModel(), name="same")
    with pytest.raises(RuntimeMismatch, match="pydantic-ai 2"), agentkit_cassette(path):
        other.run_sync("hello")


def test_a_run_recorded_under_another_major_version_is_a_runtime_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with cassette(path, agents=[agent := make_agent()], record_mode="once"):
        run_sync(agent, "hello")
    text = path.read_text()
    path.write_text(text.replace("runtime: pydantic-ai 2.", "runtime: pydantic-ai 3."))
    with (
        pytest.raises(RuntimeMismatch, match=r"pydantic-ai 3\.") as caught,
        cassette(path, agents=[agent := make_agent()]),
    ):
        run_sync(agent, "hello")
    assert caught.value.run_id == "run-1"


def test_every_response_part_kind_is_stored_and_replayed(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    parts = [
        ThinkingPart(content="let me think", signature="sig-1"),
        NativeToolCallPart(tool_name="web_search", args={"query": "paris"}, tool_call_id="b1", provider_name="x"),
        NativeToolReturnPart(tool_name="web_search", content={"hits": 2}, tool_call_id="b1", provider_name="x"),
        FilePart(content=BinaryContent(data=b"\x89PNG", media_type="image/png")),
        TextPart(content="Paris"),
    ]

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=list(parts))

    agent = Agent(FunctionModel(answer, model_name="rich"), name="rich")
    with cassette(path, agents=[agent], record_mode="once"):
        recorded = run_sync(agent, "everything").all_messages()[-1]
    with cassette(path, agents=[agent]):
        replayed = run_sync(agent, "everything").all_messages()[-1]
    assert isinstance(replayed, ModelResponse)
    assert isinstance(recorded, ModelResponse)
    assert pydantic_ai_json(replayed.parts) == pydantic_ai_json(recorded.parts)
    kinds = [
        part["part_kind"] for part in yaml.safe_load(path.read_text())["runs"][0]["requests"][0]["response"]["parts"]
    ]
    assert kinds == ["thinking", "builtin-tool-call", "builtin-tool-return", "file", "text"]


def pydantic_ai_json(parts: list[ModelResponsePart]) -> object:
    """Parts as pydantic-ai's TypeAdapter writes them (a `BinaryContent` image comes back a `BinaryImage`)."""
    return ModelMessagesTypeAdapter.dump_python([ModelResponse(parts=parts, timestamp=_EPOCH)], mode="json")


def test_a_response_that_cannot_be_written_is_an_error_at_record_time(tmp_path: Path) -> None:
    class Opaque:
        pass

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[TextPart("hi")], provider_details={"raw": Opaque()})

    path = tmp_path / "c.yaml"
    agent = Agent(FunctionModel(answer), name="opaque")
    with (
        pytest.raises(UnrecordableMessage, match=r"request 0 \(response\): a message cannot be written"),
        cassette(path, agents=[agent], record_mode="once"),
    ):
        run_sync(agent, "fetch")
    assert not path.exists()


def test_a_cassette_with_runs_of_both_runtimes_replays_each_in_its_own_block(tmp_path: Path) -> None:
    from agentkit import Agent as AgentkitAgent
    from agentkit.models.test import TestModel as AgentkitTestModel

    path = tmp_path / "c.yaml"
    native = AgentkitAgent(AgentkitTestModel(), name="native")
    with agentkit_cassette(path, "once"):
        native.run_sync("agentkit run")
    with cassette(path, agents=[agent := make_agent()], record_mode="new_episodes"):
        run_sync(agent, "pydantic-ai run")
    runtimes = [run.get("runtime") for run in yaml.safe_load(path.read_text())["runs"]]
    assert runtimes == [None, runtimes[1]]
    assert runtimes[1].startswith("pydantic-ai ")
    with agentkit_cassette(path):
        native.run_sync("agentkit run")
    with cassette(path, agents=[agent := make_agent()]):
        assert run_sync(agent, "pydantic-ai run").output == "recorded"


def test_a_streamed_run_whose_instructions_changed_diverges_at_its_first_request(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"

    async def stream(agent: Agent[None, str]) -> str:
        async with agent.run_stream("stream it") as result:
            return await result.get_output()

    def agent_with(instructions: str) -> Agent[None, str]:
        return Agent(TestModel(custom_output_text="recorded"), name="talker", instructions=instructions)

    with cassette(path, agents=[agent := agent_with("Be brief.")], record_mode="once"):
        asyncio.run(stream(agent))
    with pytest.raises(CassetteDivergence) as caught, cassette(path, agents=[agent := agent_with("Be long.")]):
        asyncio.run(stream(agent))
    assert (caught.value.node_index, caught.value.field) == (0, "messages")
    assert "-  instructions: Be brief." in caught.value.diff
    assert "+  instructions: Be long." in caught.value.diff


def test_a_run_started_without_streaming_does_not_replay_a_streamed_recording(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"

    async def stream(agent: Agent[None, str]) -> str:
        async with agent.run_stream("same prompt") as result:
            return await result.get_output()

    with cassette(path, agents=[agent := make_agent()], record_mode="once"):
        asyncio.run(stream(agent))
    with pytest.raises(CassetteDivergence) as caught, cassette(path, agents=[agent := make_agent()]):
        run_sync(agent, "same prompt")
    assert caught.value.field == "streamed"


def test_runs_with_one_identity_recorded_concurrently_are_marked_and_differing_ones_are_ambiguous(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.yaml"
    answers = iter(["first answer", "second answer"])

    async def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        text = next(answers)
        await asyncio.sleep(0.01)
        return ModelResponse(parts=[TextPart(text)])

    async def twice(agent: Agent[None, str]) -> None:
        await asyncio.gather(agent.run("same"), agent.run("same"))

    agent = Agent(FunctionModel(answer, model_name="fn"), name="twin")
    with cassette(path, agents=[agent], record_mode="once"):
        asyncio.run(twice(agent))
    assert [run.get("concurrent") for run in yaml.safe_load(path.read_text())["runs"]] == [True, True]
    with pytest.raises(AmbiguousRecording), cassette(path, agents=[agent]):
        asyncio.run(twice(agent))


def test_runs_with_one_identity_recorded_one_after_the_other_are_not_concurrent(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with cassette(path, agents=[agent := make_agent()], record_mode="once"):
        run_sync(agent, "same")
        run_sync(agent, "same")
    assert [run.get("concurrent") for run in yaml.safe_load(path.read_text())["runs"]] == [None, None]


def test_allow_playback_repeats_replays_one_recording_for_every_run(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with cassette(path, agents=[agent := make_agent()], record_mode="once"):
        run_sync(agent, "look it up")
    with cassette(path, agents=[agent := make_agent("live")], allow_playback_repeats=True) as session:
        outputs = [run_sync(agent, "look it up").output for _ in range(3)]
    assert outputs == ["recorded"] * 3
    assert [run.id for run in session.replayed_runs] == ["run-1"]


@pytest.mark.parametrize("mode", ["all", "rewrite"])
def test_re_recording_an_unchanged_run_leaves_the_file_byte_for_byte(
    tmp_path: Path, mode: Literal["all", "rewrite"]
) -> None:
    agent = Agent(TestModel(), name="steady")

    @agent.tool_plain
    def look(q: str) -> str:
        return "x"

    path = tmp_path / "steady.yaml"
    with cassette(path, agents=[agent], record_mode="all"):
        run_sync(agent, "hi")
    first = path.read_bytes()
    with cassette(path, agents=[agent], record_mode=mode):
        run_sync(agent, "hi")
    assert path.read_bytes() == first
