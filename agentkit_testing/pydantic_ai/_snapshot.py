"""pydantic-ai runs for the syrupy extension: a run result or its messages as the same readable node text."""

from __future__ import annotations

from typing import Any

from pydantic_ai.messages import ModelRequest, ModelResponse
from pydantic_ai.run import AgentRunResult

from agentkit import UserError
from agentkit_testing._runtime_text import serialize_runtime_messages
from agentkit_testing.pydantic_ai._messages import dump_messages, to_json_data

__all__ = ("serialize_pydantic_ai_run",)


def serialize_pydantic_ai_run(data: Any) -> str:
    """The snapshot text of a pydantic-ai `AgentRunResult` (its new messages, output and usage) or message list."""
    if isinstance(data, AgentRunResult):
        messages, output = data.new_messages(), to_json_data(data.output)
        usage = {key: value for key, value in to_json_data(data.usage).items() if value not in (0, None, {})}
    elif isinstance(data, list) and all(isinstance(item, ModelRequest | ModelResponse) for item in data):
        messages, output, usage = data, None, None
    else:
        raise UserError(
            "the agent-run snapshot of a pydantic-ai run takes an AgentRunResult or a list of its messages, "
            f"got {type(data).__name__}"
        )
    dumped = dump_messages(messages, where="snapshot", check=False)
    return serialize_runtime_messages(dumped, output, usage)
