"""`RecordingModel` on its own: a `WrapperModel` that answers as the model it records."""

from __future__ import annotations

from agentkit.models import OpenAIModel, TestModel, WrapperModel
from agentkit_testing import Cassette, RecordingModel


def test_recording_model_shows_its_inner_models_members() -> None:
    inner = OpenAIModel("gpt-4o", api_key="not-a-key", base_url="http://127.0.0.1:9/v1")
    recording = RecordingModel(inner, Cassette())
    assert isinstance(recording, WrapperModel)
    assert (recording.model_name, recording.system, recording.base_url) == ("gpt-4o", "openai", inner.base_url)


def test_recording_model_keeps_inner_as_the_name_of_its_wrapped_model() -> None:
    inner = TestModel()
    recording = RecordingModel(inner, Cassette())
    assert recording.inner is recording.wrapped is inner
