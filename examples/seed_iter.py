"""The `Agent.iter` example from the documentation, run on a FunctionModel that answers 'Paris'.

Only the import line differs from the documented example; the model is supplied with
`agent.override`, so no API key and no network are needed.
"""

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

    from agentkit import ModelResponse, TextPart
    from agentkit.models import AgentInfo, FunctionModel

    def answer_paris(messages: list, info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[TextPart('Paris')], model_name='gpt-4o')

    with agent.override(model=FunctionModel(answer_paris, model_name='gpt-4o')):
        asyncio.run(main())
