"""`FallbackModel`: ask one model, and the next when it fails (an HTTP error by default)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

from agentkit.exceptions import FallbackExceptionGroup, ModelHTTPError
from agentkit.messages import ModelMessage, ModelResponse
from agentkit.models._base import Model, ModelRequestParameters, StreamedResponse
from agentkit.models._infer import KnownModelName, infer_model
from agentkit.settings import ModelSettings
from agentkit.usage import Usage

__all__ = ("FallbackModel",)


class FallbackModel(Model):
    """Try `default_model`, then each of `fallback_models` in turn, until one answers.

    A model's error moves on to the next model when `fallback_on` says so: a tuple of exception
    types (by default `ModelHTTPError`, an HTTP error status from a provider) or a function of the
    exception. Any other error is raised at once. When every model failed, a
    `FallbackExceptionGroup` holds their errors in the order the models were tried.

    Args:
        default_model: the model tried first, as a `Model` or a name such as `'openai:gpt-4o'`.
        fallback_models: the models tried next, in order.
        fallback_on: which errors move on to the next model.
    """

    def __init__(
        self,
        default_model: Model | KnownModelName,
        *fallback_models: Model | KnownModelName,
        fallback_on: Callable[[Exception], bool] | tuple[type[Exception], ...] = (ModelHTTPError,),
    ) -> None:
        self.models: list[Model] = [infer_model(default_model), *(infer_model(model) for model in fallback_models)]
        self._model_name = f"FallBackModel[{', '.join(model.model_name for model in self.models)}]"
        if isinstance(fallback_on, tuple):
            error_types = fallback_on
            self._fallback_on: Callable[[Exception], bool] = lambda error: isinstance(error, error_types)
        else:
            self._fallback_on = fallback_on
        self.sends_real_requests = any(model.sends_real_requests for model in self.models)  # type: ignore[misc]

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def system(self) -> str | None:
        """None: the provider depends on which model answers."""
        return None

    @property
    def base_url(self) -> str | None:
        return self.models[0].base_url

    def __repr__(self) -> str:
        return f"FallbackModel(models={self.models!r})"

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> tuple[ModelResponse, Usage]:
        errors: list[Exception] = []
        for model in self.models:
            try:
                return await model.request(messages, model_settings, model_request_parameters)
            except Exception as error:
                if not self._fallback_on(error):
                    raise
                errors.append(error)
        raise FallbackExceptionGroup("All models from FallbackModel failed", errors)

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> AsyncIterator[StreamedResponse]:
        errors: list[Exception] = []
        for model in self.models:
            async with AsyncExitStack() as stack:
                try:
                    response = await stack.enter_async_context(
                        model.request_stream(messages, model_settings, model_request_parameters)
                    )
                except Exception as error:
                    if not self._fallback_on(error):
                        raise
                    errors.append(error)
                    continue
                yield response
                return
        raise FallbackExceptionGroup("All models from FallbackModel failed", errors)
