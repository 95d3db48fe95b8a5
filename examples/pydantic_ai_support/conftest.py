"""The example's tests: replay needs no key, but pydantic-ai builds `Agent('openai:...')`'s client on import.

A placeholder key lets `order_desk` import without a real one; the cassette answers every request
on replay, so the placeholder never reaches a server. To record, set a real `OPENAI_API_KEY`.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENAI_API_KEY", "placeholder-replay-needs-no-key")
