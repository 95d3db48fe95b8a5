"""The `Agent.iter` example from the documentation, replayed from a cassette.

Only the import line differs from the documented example, and the run is wrapped in
`agentkit_testing.cassette(...)`: the agent is still `Agent('openai:gpt-4o')`, yet no API key,
no network and no OpenAI SDK are needed, because every run in the block is answered from
`cassettes/seed_iter.yaml`. Run it from the repository root: `python examples/seed_replay.py`.
"""

import agentkit_testing
from agentkit import Agent

agent = Agent('openai:gpt-4o')


async def main():
    nodes = []
    async with agent.iter('What is the capital of France?') as agent_run:
        async for node in agent_run:
            nodes.append(node)
    print(nodes)
    '''
    [
        ModelRequestNode(
            request=ModelRequest(
                parts=[
                    UserPromptPart(
                        content='What is the capital of France?',
                        timestamp=datetime.datetime(...),
                        part_kind='user-prompt',
                    )
                ],
                kind='request',
            )
        ),
        CallToolsNode(
            model_response=ModelResponse(
                parts=[TextPart(content='Paris', part_kind='text')],
                model_name='gpt-4o',
                timestamp=datetime.datetime(...),
                kind='response',
            )
        ),
        End(data=FinalResult(data='Paris', tool_name=None, tool_call_id=None)),
    ]
    '''
    print(agent_run.result.data)
    #> Paris


if __name__ == '__main__':
    import asyncio

    with agentkit_testing.cassette('cassettes/seed_iter.yaml'):
        asyncio.run(main())
