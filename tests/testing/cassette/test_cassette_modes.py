"""Record modes none / once / new_episodes / all / rewrite, with vcrpy's meanings; the request guard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openai import AsyncOpenAI

from agentkit import Agent, AgentkitError, ModelMessage, ModelRequestsBlocked, ModelResponse, TextPart
from agentkit.models import (
    AgentInfo,
    FunctionModel,
    Model,
    OpenAIModel,
    TestModel,
    WrapperModel,
    override_allow_model_requests,
)
from agentkit_testing._cassette._context import cassette
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._cassette._records import RecordedError, RecordedRun, model_id
from agentkit_testing._exceptions import CassetteDivergence, CassetteError, UnrecordedRequest
from agentkit_testing._recorder import RecordingModel
from agentkit_testing._replay import ReplayModel

pytestmark = pytest.mark.anyio


class Oracle:
    """A model function that answers with the prompt in capitals, counting the requests it gets."""

    def __init__(self) -> None:
        self.requests = 0

    def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        self.requests += 1
        prompt = messages[-1].parts[-1].content  # type: ignore[union-attr]
        return ModelResponse(parts=[TextPart(str(prompt).upper())])


@pytest.fixture
def oracle() -> Oracle:
    return Oracle()


@pytest.fixture
def agent(oracle: Oracle) -> Agent[None, str]:
    return Agent(FunctionModel(oracle, model_name="oracle"), name="oracle_agent")


async def test_none_replays_without_calling_the_model(agent: Agent[None, str], oracle: Oracle, tmp_path: Path) -> None:
    path = tmp_path / "none.yaml"
    with cassette(path, "once"):
        await agent.run("hello")
    assert oracle.requests == 1
    with cassette(path, "none") as session:
        result = await agent.run("hello")
    assert (result.data, oracle.requests) == ("HELLO", 1)
    assert [run.id for run in session.replayed_runs] == ["run-1"]
    assert session.unplayed_runs == []


async def test_none_with_a_missing_file_names_the_cassette(agent: Agent[None, str], tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    with pytest.raises(UnrecordedRequest) as raised, cassette(path):
        await agent.run("hello")
    message = str(raised.value)
    assert message.startswith(f"{path}: the cassette does not exist and record_mode is 'none'")
    assert "'oracle_agent'" in message
    assert "record_mode='once'" in message
    assert raised.value.path == path
    assert not path.exists()


async def test_none_refuses_a_run_the_cassette_no_longer_has(agent: Agent[None, str], tmp_path: Path) -> None:
    path = tmp_path / "one_run.yaml"
    with cassette(path, "once"):
        await agent.run("hello")
    with cassette(path):
        await agent.run("hello")
        with pytest.raises(UnrecordedRequest, match=r"holds 1 run\(s\), all already replayed") as raised:
            await agent.run("hello")
    assert str(raised.value).startswith(str(path))


async def test_once_records_when_missing_then_only_replays(
    agent: Agent[None, str], oracle: Oracle, tmp_path: Path
) -> None:
    path = tmp_path / "once.yaml"
    with cassette(path, "once") as session:
        await agent.run("hello")
    assert [run.user_prompt for run in session.recorded_runs] == ["hello"]
    written = path.read_bytes()
    with cassette(path, "once"):
        assert (await agent.run("hello")).data == "HELLO"
    assert oracle.requests == 1
    assert path.read_bytes() == written
    with pytest.raises(CassetteDivergence), cassette(path, "once"):
        await agent.run("goodbye")
    assert oracle.requests == 1


async def test_new_episodes_replays_known_runs_and_adds_new_ones(
    agent: Agent[None, str], oracle: Oracle, tmp_path: Path
) -> None:
    path = tmp_path / "episodes.yaml"
    with cassette(path, "once"):
        await agent.run("hello")
    with cassette(path, "new_episodes") as session:
        await agent.run("hello")
        await agent.run("goodbye")
    assert oracle.requests == 2
    assert [run.id for run in session.replayed_runs] == ["run-1"]
    assert [run.user_prompt for run in Cassette.load(path).runs] == ["hello", "goodbye"]
    with cassette(path, "none"):
        assert (await agent.run("goodbye")).data == "GOODBYE"
        assert (await agent.run("hello")).data == "HELLO"
    assert oracle.requests == 2


async def test_all_records_every_run_and_adds_the_changed_ones_after_the_old_ones(
    agent: Agent[None, str], oracle: Oracle, tmp_path: Path
) -> None:
    path = tmp_path / "all.yaml"
    with cassette(path, "once"):
        await agent.run("hello")
    with cassette(path, "all"):
        await Agent(
            FunctionModel(lambda messages, info: ModelResponse([TextPart("hi!")]), model_name="oracle"),
            name="oracle_agent",
        ).run("hello")
    assert oracle.requests == 1
    runs = Cassette.load(path).runs
    assert [(run.id, run.user_prompt, run.result.data if run.result else None) for run in runs] == [
        ("run-1", "hello", "HELLO"),
        ("run-2", "hello", "hi!"),
    ]


async def test_all_leaves_a_run_recorded_again_unchanged_as_it_was(
    agent: Agent[None, str], oracle: Oracle, tmp_path: Path
) -> None:
    path = tmp_path / "all.yaml"
    with cassette(path, "once"):
        await agent.run("hello")
    before = path.read_bytes()
    with cassette(path, "all"):
        await agent.run("hello")
    assert oracle.requests == 2
    assert path.read_bytes() == before


async def test_rewrite_replaces_the_file_with_this_blocks_runs(
    agent: Agent[None, str], oracle: Oracle, tmp_path: Path
) -> None:
    path = tmp_path / "rewrite.yaml"
    with cassette(path, "once"):
        await agent.run("hello")
        await agent.run("goodbye")
    with cassette(path, "rewrite"):
        await agent.run("again")
    assert oracle.requests == 3
    assert [(run.id, run.user_prompt) for run in Cassette.load(path).runs] == [("run-1", "again")]
    with cassette(path, "rewrite"):
        pass
    assert Cassette.load(path).runs == ()


async def test_unknown_record_mode_is_refused(tmp_path: Path) -> None:
    manager = cassette(tmp_path / "x.yaml", "sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="record_mode must be one of none, once, new_episodes, all, rewrite"):
        manager.__enter__()


async def test_inner_cassette_block_takes_the_runs(agent: Agent[None, str], tmp_path: Path) -> None:
    outer, inner = tmp_path / "outer.yaml", tmp_path / "inner.yaml"
    with cassette(outer, "rewrite") as outer_session:
        with cassette(inner, "rewrite"):
            await agent.run("inner")
        await agent.run("outer")
    assert [run.user_prompt for run in outer_session.recorded_runs] == ["outer"]
    assert [run.user_prompt for run in Cassette.load(inner).runs] == ["inner"]


async def test_replay_is_allowed_while_real_requests_are_blocked(tmp_path: Path) -> None:
    path = tmp_path / "openai.yaml"
    recorder = Agent(TestModel(custom_result_text="Paris"), name="geo")
    with cassette(path, "rewrite"):
        await recorder.run("capital of France?")
    replayed = Agent(TestModel(), name="geo")
    with override_allow_model_requests(False), cassette(path):
        assert (await replayed.run("capital of France?")).data == "Paris"
    assert ReplayModel.sends_real_requests is False


async def test_recording_a_real_model_obeys_the_request_guard(tmp_path: Path) -> None:
    agent = Agent("openai:gpt-4o", name="live")
    assert RecordingModel(OpenAIModel("gpt-4o"), Cassette()).sends_real_requests is True
    assert RecordingModel(TestModel(), Cassette()).sends_real_requests is False
    with (
        pytest.raises(ModelRequestsBlocked, match="RecordingModel 'gpt-4o'"),
        override_allow_model_requests(False),
        cassette(tmp_path / "live.yaml", "once"),
    ):
        await agent.run("hello")


async def test_playback_repeats_let_one_recording_serve_many_runs(
    agent: Agent[None, str], oracle: Oracle, tmp_path: Path
) -> None:
    path = tmp_path / "repeat.yaml"
    with cassette(path, "once"):
        await agent.run("hello")
    with cassette(path, allow_playback_repeats=True):
        for _ in range(3):
            assert (await agent.run("hello")).data == "HELLO"
    assert oracle.requests == 1


async def test_an_in_memory_cassette_can_be_given_instead_of_a_path(agent: Agent[None, str], oracle: Oracle) -> None:
    memory = Cassette()
    with cassette(memory, "new_episodes"):
        await agent.run("hello")
    assert [run.user_prompt for run in memory.runs] == ["hello"]
    with cassette(memory):
        assert (await agent.run("hello")).data == "HELLO"
    assert oracle.requests == 1


async def test_every_cassette_error_names_the_file(agent: Agent[None, str], tmp_path: Path) -> None:
    path = tmp_path / "errors.yaml"
    with cassette(path, "once"):
        await agent.run("hello")

    async def run_twice(prompt: str) -> None:
        with cassette(path):
            await agent.run(prompt)
            await agent.run(prompt)

    for prompt in ("goodbye", "hello"):
        with pytest.raises(CassetteError) as raised:
            await run_twice(prompt)
        assert str(path) in str(raised.value)


# --- runs that no model answered ---------------------------------------------------------------------


class ModelDown(ConnectionError):
    """What the broken model raises before it answers."""


def broken(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    raise ModelDown("the model is down")


@pytest.fixture
def broken_agent() -> Agent[None, str]:
    """The oracle agent's twin (same names, so the same run identity) whose model fails before answering."""
    return Agent(FunctionModel(broken, model_name="oracle"), name="oracle_agent")


def failed_before_any_request(agent: Agent[None, str], run_id: str, prompt: str) -> RecordedRun:
    """A run as earlier versions recorded one whose model raised at once: only its error."""
    assert isinstance(agent.model, FunctionModel)
    return RecordedRun(
        id=run_id,
        agent=agent.name,
        model=model_id(agent.model),
        user_prompt=prompt,
        nodes=("ModelRequestNode",),
        error=RecordedError("ModelDown", "the model is down"),
    )


async def test_run_no_model_answered_writes_no_cassette(
    agent: Agent[None, str], broken_agent: Agent[None, str], tmp_path: Path
) -> None:
    path = tmp_path / "no_answer.yaml"
    with pytest.raises(ModelDown), cassette(path, "once") as session:
        await broken_agent.run("hello")
    assert session.recorded_runs == []
    assert not path.exists()
    with cassette(path, "once"):
        assert (await agent.run("hello")).data == "HELLO"
    with cassette(path, "none"):
        assert (await agent.run("hello")).data == "HELLO"


async def test_once_records_again_over_a_file_whose_runs_all_failed_before_a_request(
    agent: Agent[None, str], broken_agent: Agent[None, str], oracle: Oracle, tmp_path: Path
) -> None:
    path = tmp_path / "only_errors.yaml"
    Cassette(path, [failed_before_any_request(broken_agent, "run-1", "hello")]).save()
    with cassette(path, "once"):
        assert (await agent.run("hello")).data == "HELLO"
    assert oracle.requests == 1
    (run,) = Cassette.load(path).runs
    assert (run.id, len(run.requests), run.error) == ("run-1", 1, None)
    with cassette(path, "none"):
        assert (await agent.run("hello")).data == "HELLO"
    assert oracle.requests == 1


async def test_rewrite_that_no_model_answered_keeps_the_file(
    agent: Agent[None, str], broken_agent: Agent[None, str], tmp_path: Path
) -> None:
    path = tmp_path / "kept.yaml"
    with cassette(path, "once"):
        await agent.run("hello")
    written = path.read_bytes()
    with pytest.raises(ModelDown), cassette(path, "rewrite"):
        await broken_agent.run("hello")
    assert path.read_bytes() == written


async def test_new_episode_that_no_model_answered_adds_nothing(
    agent: Agent[None, str], broken_agent: Agent[None, str], tmp_path: Path
) -> None:
    path = tmp_path / "episodes.yaml"
    with cassette(path, "once"):
        await agent.run("hello")
    written = path.read_bytes()
    with pytest.raises(ModelDown), cassette(path, "new_episodes"):
        await broken_agent.run("goodbye")
    assert path.read_bytes() == written


async def test_streamed_run_whose_model_raised_before_answering_writes_no_cassette(tmp_path: Path) -> None:
    async def broken_stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        raise ModelDown("the model is down")
        yield "never"

    streaming = Agent(FunctionModel(stream_function=broken_stream, model_name="oracle"), name="oracle_agent")
    path = tmp_path / "stream.yaml"
    with pytest.raises(ModelDown), cassette(path, "once"):
        async with streaming.run_stream("hello") as streamed:
            await streamed.get_data()
    assert not path.exists()


async def test_recording_model_alone_records_nothing_for_a_request_that_failed() -> None:
    store = Cassette()
    failing = Agent(RecordingModel(FunctionModel(broken, model_name="oracle"), store))
    with pytest.raises(ModelDown):
        await failing.run("hello")
    assert store.runs == ()


async def test_openai_model_without_a_key_or_a_server_records_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    unreachable = AsyncOpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1", max_retries=0)
    models: dict[str, Model | str] = {
        "no_key": "openai:gpt-4o",
        "no_server": OpenAIModel("gpt-4o", openai_client=unreachable),
    }
    for name, model in models.items():
        path = tmp_path / f"{name}.yaml"
        with pytest.raises(AgentkitError), override_allow_model_requests(True), cassette(path, "once"):
            await Agent(model, name="live").run("hello")
        assert not path.exists(), name


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (WrapperModel(TestModel()), "test:test"),
        (WrapperModel(WrapperModel(TestModel())), "test:test"),
        (
            WrapperModel(FunctionModel(lambda messages, info: ModelResponse(parts=[]), model_name="answer")),
            "function:answer",
        ),
    ],
    ids=["test", "nested", "function"],
)
def test_a_wrapped_test_double_is_recorded_under_its_own_model_id(model: Model, expected: str) -> None:
    assert model_id(model) == expected
