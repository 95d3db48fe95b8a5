"""The script a scripted model plays: its responses in order, how many were played, and its repr.

Both runtimes' `ScriptedModel`s (agentkit's in `_hypothesis._scripted`, pydantic-ai's in
`pydantic_ai._scripted`) keep this state on different `FunctionModel` bases, so it is a mixin.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Generic, TypeVar

__all__ = ("ScriptPlayer",)

ResponseT = TypeVar("ResponseT")


class ScriptPlayer(Generic[ResponseT]):
    """Plays `responses` one by one, each a fresh copy; the model says what comes once they run out."""

    def _load_script(self, responses: Iterable[ResponseT], final_text: str) -> None:
        # Copied in and out: the caller may reuse its list, and a run may change the response it is given.
        self.responses = [copy.deepcopy(response) for response in responses]
        self.final_text = final_text
        self.played = 0

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(responses={len(self.responses)}, played={self.played}, final_text={self.final_text!r})"

    @property
    def exhausted(self) -> bool:
        """Whether every scripted response has been played."""
        return self.played >= len(self.responses)

    def _play_next(self) -> ResponseT | None:
        """The next scripted response (a copy), or None once the script has run out."""
        if self.exhausted:
            return None
        self.played += 1
        return copy.deepcopy(self.responses[self.played - 1])
