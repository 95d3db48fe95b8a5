"""Tests of the order desk, replayed from committed cassettes: no network, no API key.

Run (from the repository root):  python -m pytest examples/pydantic_ai_support
Re-record:                       python -m pytest examples/pydantic_ai_support --agentkit-record-mode=rewrite

The marker names the pydantic-ai agents whose runs the test's cassette holds
(`cassettes/examples/pydantic_ai_support/test_order_desk/<test>.yaml`); `order_desk` itself is
unchanged. `escalate` has a side effect, so it is listed as external: replay serves its recorded
return and never calls it.

About the committed cassettes: they were recorded from a real model, not OpenAI's — the local
llama.cpp server with SmolLM2-135M that the live tests use, reached through llama_proxy.py (see
there). The server echoes the requested model name, hence `gpt-4o` in the files, and a 135M model
answers poorly, hence the tests check structure, not wording.
"""

from __future__ import annotations

import asyncio

import pytest
from order_desk import ESCALATIONS, DeskReply, desk
from pydantic_ai.messages import ModelResponse, ToolCallPart

pytestmark = pytest.mark.agentkit_cassette(pydantic_ai_agents=[desk], external_tools=["escalate"])


def tool_calls(result: object) -> list[ToolCallPart]:
    messages = result.all_messages()  # type: ignore[attr-defined]
    return [
        part
        for message in messages
        if isinstance(message, ModelResponse)
        for part in message.parts
        if isinstance(part, ToolCallPart)
    ]


def test_the_desk_looks_the_order_up_and_answers_in_shape(agentkit_cassette) -> None:  # type: ignore[no-untyped-def]
    result = asyncio.run(desk.run("Where is my order A-1001?"))
    assert isinstance(result.output, DeskReply)
    assert "order_status" in [call.tool_name for call in tool_calls(result)]


def test_a_late_order_is_looked_up_and_answered_in_shape(agentkit_cassette) -> None:  # type: ignore[no-untyped-def]
    ESCALATIONS.clear()
    result = asyncio.run(desk.run("Order A-1002 is late. Use escalate to open a ticket for it."))
    assert isinstance(result.output, DeskReply)
    assert tool_calls(result)
    if agentkit_cassette.record_mode == "none":
        assert ESCALATIONS == []  # escalate is external: on replay it is never called
