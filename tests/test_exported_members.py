"""The public surface is exactly what `__all__` says, sorted, and every name resolves."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PUBLIC_MODULES = [
    "agentkit",
    "agentkit.agent",
    "agentkit.block_scope",
    "agentkit.exceptions",
    "agentkit.format_as_xml",
    "agentkit.messages",
    "agentkit.models",
    "agentkit.models.anthropic",
    "agentkit.models.function",
    "agentkit.models.openai",
    "agentkit.models.test",
    "agentkit.models.wrapper",
    "agentkit.result",
    "agentkit.settings",
    "agentkit.tools",
    "agentkit.usage",
    "agentkit_testing",
    "agentkit_testing.pydantic_ai",
    "agentkit_testing.pydantic_ai.strategies",
    "agentkit_testing.strategies",
]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_is_sorted_and_resolves(module_name: str) -> None:
    module = importlib.import_module(module_name)
    names = list(module.__all__)
    assert names == sorted(names), f"{module_name}.__all__ is not sorted"
    missing = [name for name in names if not hasattr(module, name)]
    assert missing == []


@pytest.mark.parametrize("module_name", ["agentkit", "agentkit.models"])
def test_public_classes_and_functions_are_exported(module_name: str) -> None:
    module = importlib.import_module(module_name)
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("agentkit")
    }
    assert public - set(module.__all__) == set()


def test_import_agentkit_loads_no_provider_sdk_or_test_tool() -> None:
    code = (
        "import sys, agentkit, agentkit.models\n"
        "banned = ['openai', 'anthropic', 'pytest', 'hypothesis', 'syrupy', 'vcr', 'agentkit_testing']\n"
        "print(','.join(name for name in banned if name in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == ""


def test_import_agentkit_testing_loads_no_test_tool_until_asked() -> None:
    code = (
        "import sys, agentkit_testing\n"
        "banned = ['pytest', 'hypothesis', 'syrupy', 'vcr', 'openai', 'anthropic']\n"
        "print(','.join(name for name in banned if name in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == ""


def test_import_agentkit_testing_loads_no_pydantic_ai() -> None:
    # Only the adapter, agentkit_testing.pydantic_ai, imports pydantic_ai, and only when it is used.
    code = "import sys, agentkit_testing, agentkit_testing.strategies\nprint('pydantic_ai' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "False"
