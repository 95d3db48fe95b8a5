"""What every live test shares: the asyncio backend and the local LLM server's address."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def base_url() -> str:
    """The OpenAI-compatible root of the llama.cpp server `.ci/live-tests` starts."""
    url = os.environ.get("AGENTKIT_LIVE_BASE_URL")
    if not url:
        pytest.fail("AGENTKIT_LIVE_BASE_URL is not set: start the server with `bash .ci/live-tests` (see README)")
    return url
