"""The request guard: switches that stop models which talk to real services from sending requests.

Two switches, as in pydantic-ai v0.0.39, with one difference in scope:

- `agentkit.models.ALLOW_MODEL_REQUESTS`, a plain module attribute (default `True`): the process
  default. Set it to `False` (e.g. in a `conftest.py`) to block real requests everywhere.
- `override_allow_model_requests(allow_model_requests)`, a block. pydantic-ai's version sets the module attribute
  for the whole process; ours is context-local, so concurrent tasks (and concurrent tests) can
  hold different settings, and it also registers itself process-wide while it is active, so a
  run started in a plain thread (which starts with an empty context) is still subject to it.

For a request, the first of these that says something decides:

1. the innermost `override_allow_model_requests` block of the current context;
2. otherwise the blocks active anywhere in the process (the innermost of nested ones); when blocks
   that do not nest are active at once in unrelated threads or tasks and disagree, requests are
   blocked: the safe reading of an ambiguous guard;
3. otherwise `agentkit.models.ALLOW_MODEL_REQUESTS`.

So an `override_allow_model_requests(True)` block lifts `ALLOW_MODEL_REQUESTS = False` inside it,
as pydantic-ai's override does. Only models that talk to real services are checked
(`Model.sends_real_requests`): `TestModel`, `FunctionModel` and cassette replay are never blocked.
The error, `ModelRequestsBlocked`, is a `RuntimeError` like pydantic-ai's, and when the module
switch is the cause its message starts with pydantic-ai's text.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from agentkit.block_scope import BlockScopedStack
from agentkit.exceptions import ModelRequestsBlocked

__all__ = (
    "check_allow_model_requests",
    "check_model_request_allowed",
    "model_requests_allowed",
    "override_allow_model_requests",
)

_blocks: BlockScopedStack[bool] = BlockScopedStack("agentkit_allow_model_requests")

_FIX = (
    "Use TestModel or FunctionModel, replay a cassette, or record one "
    "(pytest --agentkit-record-mode=once, or override_allow_model_requests(True))."
)


def _module_switch() -> bool:
    # Read at call time: the switch is a plain attribute of the package, set by assignment. The
    # package imports this module, so it is always loaded by the time a request is checked.
    return bool(sys.modules["agentkit.models"].ALLOW_MODEL_REQUESTS)


def _refusal(model_description: str) -> str | None:
    """Why a request of this model may not be sent from here, or None if it may."""
    resolution = _blocks.resolve()
    if resolution.source == "context":
        if resolution.values[-1]:
            return None
        return f"Model requests are blocked, but {model_description} was about to send one. {_FIX}"
    if resolution.source == "process":
        if resolution.values[-1]:
            return None
        return (
            f"Model requests are blocked, but {model_description} was about to send one. It runs in a context "
            "with no request-guard setting of its own (e.g. a new thread), so the "
            "override_allow_model_requests(False) block active in another thread or task applies "
            f"(the agentkit pytest plugin opens one for each test that does not record). {_FIX}"
        )
    if resolution.source == "ambiguous":
        if all(stack[-1] for stack in resolution.candidates):
            return None
        return (
            f"Model requests are blocked, but {model_description} was about to send one. It runs in a context "
            "with no request-guard setting of its own (e.g. a new thread) while override_allow_model_requests "
            "blocks that do not nest and disagree are active in other threads or tasks, so the guard blocks. "
            "Put the run inside the block meant for it (asyncio.to_thread and anyio.to_thread.run_sync copy "
            "the context) or open override_allow_model_requests in the thread itself."
        )
    if _module_switch():
        return None
    return (
        f"Model requests are not allowed, since ALLOW_MODEL_REQUESTS is False: {model_description} was about "
        "to send one. Use TestModel or FunctionModel, replay a cassette, set "
        "agentkit.models.ALLOW_MODEL_REQUESTS = True, or lift it for a block with "
        "override_allow_model_requests(True)."
    )


def model_requests_allowed() -> bool:
    """Whether models that talk to real services may send a request from here (see the module docstring)."""
    return _refusal("a model") is None


@contextmanager
def override_allow_model_requests(allow_model_requests: bool) -> Iterator[None]:
    """Allow or block real model requests for runs in this block (pydantic-ai's name and parameter).

    Context-local first (concurrent tasks keep their own setting), and in force process-wide for
    runs started in contexts with no setting of their own, such as plain threads, while the block
    is active. It takes precedence over `agentkit.models.ALLOW_MODEL_REQUESTS`.
    """
    with _blocks.push(allow_model_requests):
        yield


def check_model_request_allowed(model_description: str) -> None:
    """Raise `ModelRequestsBlocked` if real requests may not be sent from here; `model_description` names the model."""
    reason = _refusal(model_description)
    if reason is not None:
        raise ModelRequestsBlocked(reason)


def check_allow_model_requests() -> None:
    """pydantic-ai's name: call it at the start of your own `Model.request` if that model talks to a real service.

    Raises:
        ModelRequestsBlocked: (a `RuntimeError`) if real model requests may not be sent from here.
    """
    check_model_request_allowed("a model")
