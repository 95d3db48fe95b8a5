"""Recording a run whose provider answer could not be used: the cassette never holds it as a whole run.

A real loopback server breaks the answer (a stream cut off, a refusal); `cassette(path, 'once')`
records around the run, and a replay of what was written must fail the same way or refuse clearly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import anthropic
import pytest
import yaml
from scripted_server import SDK_STREAMS_LEFT_OPEN_UNDER_TRIO, Reply, serve_script, sse_reply
from test_anthropic_odd_answers import CUT_EVENT, MODEL, events, get_weather, text_events, tool_events

import agentkit_testing
from agentkit import Agent, AgentRunError, UnexpectedModelBehavior
from agentkit.models import AnthropicModel, override_allow_model_requests
from agentkit_testing import UnrecordedRequest

pytestmark = [
    pytest.mark.anyio,
    SDK_STREAMS_LEFT_OPEN_UNDER_TRIO,
]

TOOL_CALL = sse_reply(events(tool_events(0, ['{"city": "Paris"}']), "tool_use"))
CUT = sse_reply([*events(text_events(0, "Sunny"))[:3], CUT_EVENT], cut=True)
REFUSED = sse_reply(events(text_events(0, "I can"), "refusal"))


async def streamed_run(path: Path, mode: agentkit_testing.RecordMode, replies: Sequence[Reply]) -> str:
    with serve_script(replies) as server, override_allow_model_requests(mode != "none"):
        async with anthropic.AsyncAnthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0) as client:
            agent = Agent(AnthropicModel(MODEL, anthropic_client=client), tools=[get_weather])
            with agentkit_testing.cassette(path, mode):
                async with agent.run_stream("What is the weather in Paris?") as streamed:
                    return await streamed.get_data()


@pytest.mark.parametrize(
    ("second", "error"), [(CUT, AgentRunError), (REFUSED, UnexpectedModelBehavior)], ids=["cut", "refused"]
)
async def test_a_run_failing_at_its_second_answer_is_written_with_its_error_and_refused_on_replay(
    tmp_path: Path, second: Reply, error: type[Exception]
) -> None:
    path = tmp_path / "run.yaml"
    with pytest.raises(error) as raised:
        await streamed_run(path, "once", [TOOL_CALL, second])

    [run] = yaml.safe_load(path.read_text())["runs"]
    assert run["error"]["type"] == type(raised.value).__name__
    assert len(run["requests"]) == 1  # the tool call; nothing of the answer that was refused
    assert "result" not in run
    with pytest.raises(UnrecordedRequest) as refused:
        await streamed_run(path, "none", [])
    first_line = raised.value.message  # without the body an UnexpectedModelBehavior quotes on the next lines
    assert (
        f"recorded 1 model request(s), but the live run sent request 2 (at node 2). The recording ended at that "
        f"request with {type(raised.value).__name__}: {first_line} (no answer was recorded for it, and the error is "
        "not replayed): record the cassette again once the model answers"
    ) in str(refused.value)


async def test_a_run_whose_first_answer_is_refused_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    with pytest.raises(UnexpectedModelBehavior, match="declined to answer"):
        await streamed_run(path, "once", [REFUSED])
    assert not path.exists()  # before the fix, the partial text 'I can' was recorded as the run's result
