"""Counting what a run costs (`Usage`) and bounding it (`UsageLimits`)."""

from __future__ import annotations

from dataclasses import dataclass

from agentkit.exceptions import UsageLimitExceeded

__all__ = ("Usage", "UsageLimits")


@dataclass
class Usage:
    """Requests and tokens used, by one request or summed over a run."""

    requests: int = 0
    request_tokens: int | None = None
    response_tokens: int | None = None
    total_tokens: int | None = None
    details: dict[str, int] | None = None

    def incr(self, other: Usage, *, requests: int = 0) -> None:
        """Add `other` (and `requests` more requests) into this usage, in place.

        A token count stays `None` only when it is `None` on both sides.
        """
        self.requests += requests + other.requests
        # spelled out field by field: this runs at every chunk of a stream
        if other.request_tokens is not None:
            self.request_tokens = (self.request_tokens or 0) + other.request_tokens
        if other.response_tokens is not None:
            self.response_tokens = (self.response_tokens or 0) + other.response_tokens
        if other.total_tokens is not None:
            self.total_tokens = (self.total_tokens or 0) + other.total_tokens
        if other.details:
            merged = dict(self.details or {})
            for key, value in other.details.items():
                merged[key] = merged.get(key, 0) + value
            self.details = merged

    def __add__(self, other: Usage) -> Usage:
        total = Usage(
            self.requests,
            self.request_tokens,
            self.response_tokens,
            self.total_tokens,
            dict(self.details) if self.details else None,
        )
        total.incr(other)
        return total

    def has_values(self) -> bool:
        return bool(self.requests or self.request_tokens or self.response_tokens or self.total_tokens)


@dataclass
class UsageLimits:
    """Bounds on a run's usage; `None` means unbounded.

    The request limit is checked before each request; token limits are checked as soon as a
    response (or, when streaming, each chunk) reports its tokens.
    """

    request_limit: int | None = 50
    request_tokens_limit: int | None = None
    response_tokens_limit: int | None = None
    total_tokens_limit: int | None = None

    def has_token_limits(self) -> bool:
        return (
            self.request_tokens_limit is not None
            or self.response_tokens_limit is not None
            or self.total_tokens_limit is not None
        )

    def check_before_request(self, usage: Usage) -> None:
        """Raise `UsageLimitExceeded` if one more request would break the request limit."""
        if self.request_limit is not None and usage.requests >= self.request_limit:
            error = UsageLimitExceeded(f"The next request would exceed the request_limit of {self.request_limit}")
            error.add_note(f"{usage.requests} requests made so far; raise UsageLimits(request_limit=...) to allow more")
            raise error

    def check_tokens(self, usage: Usage) -> None:
        """Raise `UsageLimitExceeded` if the tokens counted so far already break a limit."""
        for name, limit in (
            ("request_tokens", self.request_tokens_limit),
            ("response_tokens", self.response_tokens_limit),
            ("total_tokens", self.total_tokens_limit),
        ):
            used: int | None = getattr(usage, name)
            if limit is not None and used is not None and used > limit:
                raise UsageLimitExceeded(f"Exceeded the {name}_limit of {limit} ({name}={used})")
