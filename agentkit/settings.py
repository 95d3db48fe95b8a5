"""Settings passed to the model with every request; merged model < agent < run."""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = ("ModelSettings", "merge_model_settings")


class ModelSettings(TypedDict, total=False):
    """Settings understood by most models; a model ignores those it does not support."""

    max_tokens: int
    temperature: float
    top_p: float
    timeout: float
    seed: int
    parallel_tool_calls: bool
    presence_penalty: float
    frequency_penalty: float
    stop_sequences: list[str]
    tool_choice: str
    """'auto', 'none', 'required', or the name of one tool to force."""
    extra_body: dict[str, Any]


def merge_model_settings(*layers: ModelSettings | None) -> ModelSettings | None:
    """Merge settings, later layers winning key by key; `None` if every layer is empty."""
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer:
            merged.update(layer)
    return ModelSettings(**merged) if merged else None  # type: ignore[typeddict-item]
