"""`OpenAIModel`'s providers and options as the reference release documents them, against a real loopback server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType

import anyio
import httpx2
import openai
import pytest
from scripted_server import ScriptedServer

from agentkit import Agent, UserError
from agentkit.models import override_allow_model_requests
from agentkit.models.anthropic import AnthropicModel
from agentkit.models.function import FunctionModel
from agentkit.models.openai import OpenAIModel, OpenAIModelSettings
from agentkit.models.test import TestModel
from agentkit.providers import Provider, infer_provider
from agentkit.providers.deepseek import DeepSeekProvider
from agentkit.providers.openai import OpenAIProvider


@pytest.fixture(autouse=True)
def _no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "DEEPSEEK_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with override_allow_model_requests(True):
        yield


def sent_key(server: ScriptedServer) -> str:
    _, headers, _ = server.requests[-1]
    return headers["authorization"].removeprefix("Bearer ")


def test_a_provider_with_a_base_url_reaches_that_server(loopback_server: ScriptedServer) -> None:
    model = OpenAIModel("gpt-4o-mini", provider=OpenAIProvider(base_url=loopback_server.url, api_key="sk-given"))
    assert Agent(model).run_sync("ping").data == "pong"
    assert sent_key(loopback_server) == "sk-given"
    assert model.base_url == f"{loopback_server.url}/"


def test_a_local_server_needs_no_key(loopback_server: ScriptedServer) -> None:
    model = OpenAIModel("llama3.2", provider=OpenAIProvider(base_url=loopback_server.url))
    assert Agent(model).run_sync("ping").data == "pong"
    assert sent_key(loopback_server) == "api-key-not-set"


def test_the_older_base_url_keyword_needs_no_key_either(loopback_server: ScriptedServer) -> None:
    assert Agent(OpenAIModel("llama3.2", base_url=loopback_server.url)).run_sync("ping").data == "pong"
    assert sent_key(loopback_server) == "api-key-not-set"


def test_the_key_comes_from_the_environment_when_not_given(
    loopback_server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    Agent(OpenAIModel("m", provider=OpenAIProvider(base_url=loopback_server.url))).run_sync("ping")
    assert sent_key(loopback_server) == "sk-from-env"


def test_openais_own_api_without_a_key_is_a_clear_error() -> None:
    with pytest.raises(UserError, match="OPENAI_API_KEY"):
        Agent(OpenAIModel("gpt-4o", provider="openai")).run_sync("ping")


def test_the_base_url_comes_from_the_environment_when_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert OpenAIProvider().base_url == "http://127.0.0.1:9/v1"


@pytest.mark.parametrize(
    ("role", "sent"), [(None, "system"), ("system", "system"), ("developer", "developer"), ("user", "user")]
)
def test_system_prompts_are_sent_with_the_system_prompt_role(
    loopback_server: ScriptedServer, role: str | None, sent: str
) -> None:
    model = OpenAIModel("m", provider=OpenAIProvider(base_url=loopback_server.url), system_prompt_role=role)  # type: ignore[arg-type]
    Agent(model, system_prompt="Be brief.").run_sync("ping")
    _, _, body = loopback_server.requests[-1]
    assert body["messages"][0] == {"role": sent, "content": "Be brief."}


def test_a_given_http_client_sends_the_requests(loopback_server: ScriptedServer) -> None:
    sent: list[str] = []

    async def note(request: httpx2.Request) -> None:
        sent.append(str(request.url))

    async def run() -> str:
        async with httpx2.AsyncClient(event_hooks={"request": [note]}) as http_client:
            provider = OpenAIProvider(base_url=loopback_server.url, http_client=http_client)
            result = await Agent(OpenAIModel("m", provider=provider)).run("ping")
            return result.data

    assert anyio.run(run) == "pong"
    assert sent == [f"{loopback_server.url}/chat/completions"]


def test_a_given_openai_client_is_used_as_it_is(loopback_server: ScriptedServer) -> None:
    async def run() -> str:
        async with openai.AsyncOpenAI(base_url=loopback_server.url, api_key="sk-client") as client:
            provider = OpenAIProvider(openai_client=client)
            assert provider.client is client
            return (await Agent(OpenAIModel("m", provider=provider)).run("ping")).data

    assert anyio.run(run) == "pong"
    assert sent_key(loopback_server) == "sk-client"


@pytest.mark.parametrize("other", ["base_url", "api_key", "http_client"])
def test_an_openai_client_with_its_own_settings_again_is_refused(other: str) -> None:
    client = openai.AsyncOpenAI(base_url="http://127.0.0.1:9/v1", api_key="sk-client")
    value: object = httpx2.AsyncClient() if other == "http_client" else "x"
    with pytest.raises(UserError, match=f"both `openai_client` and `{other}`"):
        OpenAIProvider(openai_client=client, **{other: value})  # type: ignore[arg-type]


def test_a_provider_with_model_level_connection_settings_is_refused() -> None:
    with pytest.raises(UserError, match="both `provider` and `base_url`"):
        OpenAIModel("m", provider=OpenAIProvider(base_url="http://127.0.0.1:9/v1"), base_url="http://127.0.0.1:9/v1")


def test_the_provider_builds_a_client_for_callers_that_ask() -> None:
    client = OpenAIProvider(base_url="http://127.0.0.1:9/v1", api_key="sk-x").client
    assert isinstance(client, openai.AsyncOpenAI)
    assert str(client.base_url) == "http://127.0.0.1:9/v1/"


def test_deepseek_needs_a_key() -> None:
    with pytest.raises(UserError, match="DEEPSEEK_API_KEY"):
        OpenAIModel("deepseek-chat", provider="deepseek")


def test_deepseek_reads_its_key_and_has_its_own_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-deep")
    provider = infer_provider("deepseek")
    assert isinstance(provider, DeepSeekProvider)
    assert (provider.name, provider.base_url) == ("deepseek", "https://api.deepseek.com")
    assert OpenAIModel("deepseek-chat", provider="deepseek").base_url == "https://api.deepseek.com/"


def test_an_unknown_provider_is_named() -> None:
    with pytest.raises(UserError, match="Unknown provider: 'nope'"):
        infer_provider("nope")


def test_a_custom_provider_serves_its_client(loopback_server: ScriptedServer) -> None:
    async def run() -> str:
        async with openai.AsyncOpenAI(base_url=loopback_server.url, api_key="sk-local") as local_client:

            class Local(Provider[openai.AsyncOpenAI]):
                name = "local"  # type: ignore[assignment]
                base_url = loopback_server.url  # type: ignore[assignment]
                client = local_client  # type: ignore[assignment]

            return (await Agent(OpenAIModel("m", provider=Local())).run("ping")).data

    assert anyio.run(run) == "pong"
    assert sent_key(loopback_server) == "sk-local"


def test_models_show_the_reference_releases_repr_and_system() -> None:
    assert repr(OpenAIModel("gpt-4o")) == "OpenAIModel(system_prompt_role=None)"
    assert repr(OpenAIModel("gpt-4o", system_prompt_role="developer")) == "OpenAIModel(system_prompt_role='developer')"
    assert OpenAIModel("gpt-4o").system == "openai"
    assert OpenAIModel("gpt-4o", system="my-proxy").system == "my-proxy"
    assert repr(AnthropicModel("claude-3-5-sonnet-latest")) == "AnthropicModel()"
    assert (TestModel().system, FunctionModel(lambda messages, info: None).system) == (None, None)  # type: ignore[arg-type, return-value]


def test_an_anthropic_client_with_a_key_again_is_refused() -> None:
    import anthropic

    with pytest.raises(UserError, match="both `anthropic_client` and `api_key`"):
        AnthropicModel("claude-3-5-sonnet-latest", anthropic_client=anthropic.AsyncAnthropic(api_key="x"), api_key="y")


def test_importing_the_providers_imports_no_sdk() -> None:
    code = "import agentkit.providers, agentkit.providers.openai, sys; print('openai' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_run_sync_closes_the_clients_built_in_its_event_loop(loopback_server: ScriptedServer) -> None:
    built: list[openai.AsyncOpenAI] = []

    class KeepsTrack(OpenAIModel):
        def _create_client(self, sdk: ModuleType, api_key: str) -> openai.AsyncOpenAI:
            built.append(super()._create_client(sdk, api_key))
            return built[-1]

    agent = Agent(KeepsTrack("m", provider=OpenAIProvider(base_url=loopback_server.url)))
    assert agent.run_sync("ping").data == "pong"
    assert agent.run_sync("ping").data == "pong"
    assert len(built) == 2
    assert all(client.is_closed() for client in built)


def test_reasoning_effort_is_sent_from_the_openai_settings(loopback_server: ScriptedServer) -> None:
    settings: OpenAIModelSettings = {"openai_reasoning_effort": "low"}
    model = OpenAIModel("o3-mini", provider=OpenAIProvider(base_url=loopback_server.url))
    Agent(model, model_settings=settings).run_sync("ping")
    _, _, body = loopback_server.requests[-1]
    assert body["reasoning_effort"] == "low"
    assert "openai_reasoning_effort" not in body


def test_base_urls_are_written_as_the_sdk_writes_them(monkeypatch: pytest.MonkeyPatch) -> None:
    assert OpenAIModel("gpt-4o").base_url == "https://api.openai.com/v1/"
    assert AnthropicModel("claude-3-5-sonnet-latest").base_url == "https://api.anthropic.com/"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert OpenAIModel("gpt-4o").base_url == "http://127.0.0.1:9/v1/"
