"""UsageLimits: request and token limits, checked before each request; Usage arithmetic."""

from pydantic_ai import Agent
from pydantic_ai.exceptions import UsageLimitExceeded
from pydantic_ai.models.test import TestModel
from pydantic_ai.usage import Usage, UsageLimits

agent = Agent(TestModel())


@agent.tool_plain
def one(x: int) -> int:
    return x


for limits in [
    UsageLimits(request_limit=1),
    UsageLimits(response_tokens_limit=1),
    UsageLimits(request_tokens_limit=5),
    UsageLimits(total_tokens_limit=10),
]:
    try:
        agent.run_sync('go', usage_limits=limits)
        print('ok', limits)
    except UsageLimitExceeded as error:
        print(type(error).__name__, error)

u = Usage(requests=1, request_tokens=10, response_tokens=5, total_tokens=15)
u2 = u + Usage(requests=2, request_tokens=1, details={'x': 1})
print(u2)
u.incr(Usage(requests=1, response_tokens=3), requests=1)
print(u)
print(UsageLimits(request_limit=5).has_token_limits())
print(UsageLimits(request_limit=5))
