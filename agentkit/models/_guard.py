"""A context-local switch that stops models which talk to real services from sending requests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from agentkit.exceptions import ModelRequestsBlocked

__all__ = ("check_model_request_allowed", "model_requests_allowed", "override_allow_model_requests")

_allowed: ContextVar[bool] = ContextVar("agentkit_allow_model_requests", default=True)


def model_requests_allowed() -> bool:
    """Whether models that talk to real services may send requests in this context."""
    return _allowed.get()


@contextmanager
def override_allow_model_requests(allow: bool) -> Iterator[None]:
    """Allow or block real model requests inside this block (context-local, so safe across tasks)."""
    token = _allowed.set(allow)
    try:
        yield
    finally:
        _allowed.reset(token)


def check_model_request_allowed(model_description: str) -> None:
    """Raise `ModelRequestsBlocked` if real requests are blocked in this context."""
    if not _allowed.get():
        raise ModelRequestsBlocked(
            f"Model requests are blocked, but {model_description} was about to send one. "
            "Use TestModel or FunctionModel, replay a cassette, or record one "
            "(pytest --agentkit-record-mode=once, or override_allow_model_requests(True))."
        )
