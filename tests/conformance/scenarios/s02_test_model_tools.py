"""TestModel calls every tool with generated arguments, then answers with the JSON of the returns."""

from pydantic_ai import Agent, RunContext

agent = Agent('test', system_prompt='Be concise.', deps_type=str)


@agent.tool
async def get_weather(ctx: RunContext[str], city: str, days: int = 3) -> str:
    """The forecast.

    Args:
        city: the city
        days: how many days
    """
    return f'sunny in {city} for {days} days ({ctx.deps})'


@agent.tool_plain
def population(city: str, year: int, metric: bool, ratio: float, tags: list[str]) -> dict:
    return {'city': city, 'year': year, 'metric': metric, 'ratio': ratio, 'tags': tags}


result = agent.run_sync('What?', deps='alice')
for message in result.all_messages():
    print(message)
print(repr(result.data))
print(result.usage())
print(agent.name)
