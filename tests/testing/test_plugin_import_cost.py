"""Loading the pytest plugin, or `import agentkit_testing`, loads none of the harness until it is used.

Every pytest session of a project with agentkit installed loads the plugin (its `pytest11` entry
point), so what the plugin imports is paid by test suites that never use agentkit.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import agentkit_testing

pytest_plugins = ["pytester"]

HEAVY = (
    "pydantic",
    "pydantic_core",
    "yaml",
    "hypothesis",
    "syrupy",
    "vcr",
    "openai",
    "anthropic",
    "asyncio",
    "anyio",
    "pydantic_ai",
    "agentkit",
    "agentkit_testing._cassette",
)
"""Modules neither the plugin's load nor `import agentkit_testing` may import (the harness, its dependencies)."""

PLUGIN_MODULES = {
    "agentkit_testing",
    "agentkit_testing._pytest",
    "agentkit_testing._pytest._failure_report",
    "agentkit_testing._pytest._fixtures",
    "agentkit_testing._pytest._options",
    "agentkit_testing._pytest._pydantic_ai_switch",
    "agentkit_testing._pytest._stats",
    "agentkit_testing._pytest._summary",
    "agentkit_testing._pytest_plugin",
}

OTHER_PLUGINS = ("-p", "no:recording", "-p", "no:syrupy", "-p", "no:hypothesispytest", "-p", "no:anyio")
OTHER_PLUGINS += ("-p", "no:xdist", "-p", "no:xdist.looponfail", "-p", "no:cacheprovider")
"""The inner session keeps only the agentkit plugin, so what it finds loaded is the plugin's doing."""


def _new_modules(before: str, code: str) -> dict[str, list[str]]:
    """The modules `code` imports after `before` ran, in a fresh interpreter: ours, and the heavy ones."""
    script = (
        f"import json, sys\n{before}\nloaded = set(sys.modules)\n{code}\n"
        "new = set(sys.modules) - loaded\n"
        f"heavy = [name for name in {HEAVY!r} if name in new]\n"
        "ours = sorted(name for name in new if name.split('.')[0] in ('agentkit', 'agentkit_testing'))\n"
        "print(json.dumps({'heavy': heavy, 'ours': ours}))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    result: dict[str, list[str]] = json.loads(done.stdout)
    return result


def test_loading_the_plugin_imports_only_the_plugin() -> None:
    # pytest is imported before any plugin, so what it loads itself is not counted.
    loaded = _new_modules("import pytest", "import agentkit_testing._pytest_plugin")
    assert loaded["heavy"] == []
    assert set(loaded["ours"]) == PLUGIN_MODULES


def test_import_agentkit_testing_imports_only_the_package() -> None:
    assert _new_modules("", "import agentkit_testing") == {"heavy": [], "ours": ["agentkit_testing"]}


def test_a_public_name_imports_its_module_at_first_access() -> None:
    loaded = _new_modules("import agentkit_testing", "agentkit_testing.CassetteError")
    assert "agentkit_testing._exceptions" in loaded["ours"]
    assert "agentkit_testing._cassette" not in loaded["ours"]
    loaded = _new_modules("import agentkit_testing", "from agentkit_testing import cassette")
    assert {"agentkit_testing._cassette._context", "pydantic", "yaml"} <= {*loaded["ours"], *loaded["heavy"]}


def test_the_harness_builds_no_pydantic_schema_until_a_cassette_is_read() -> None:
    # Building TypeAdapters was most of the harness's import cost; they are made at first use now.
    code = (
        "import pydantic, agentkit.messages\n"
        "made = []\n"
        "build = pydantic.TypeAdapter.__init__\n"
        "def counting(self, *args, **kwargs):\n"
        "    made.append(args[0])\n"
        "    build(self, *args, **kwargs)\n"
        "pydantic.TypeAdapter.__init__ = counting\n"
        "import agentkit_testing, agentkit_testing.strategies, agentkit_testing._cli\n"
        "for name in agentkit_testing.__all__:\n"
        "    if name != 'AgentRunSnapshotExtension':  # needs syrupy, which builds no adapter of ours\n"
        "        getattr(agentkit_testing, name)\n"
        "at_import = len(made), 'ModelMessagesTypeAdapter' in vars(agentkit.messages)\n"
        "agentkit_testing.Cassette.load('cassettes/dice_game.yaml').runs\n"
        "print(at_import, len(made) > 0)"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert done.stdout.strip() == "(0, False) True"


def test_lazy_names_are_the_objects_of_their_modules_and_stay_bound() -> None:
    from agentkit_testing._cassette._context import cassette
    from agentkit_testing._secrets import DEFAULT_SECRET_PATTERNS

    assert agentkit_testing.cassette is cassette
    assert agentkit_testing.DEFAULT_SECRET_PATTERNS is DEFAULT_SECRET_PATTERNS
    assert vars(agentkit_testing)["cassette"] is cassette  # kept, so the next access skips __getattr__


def test_every_public_name_is_in_the_lazy_table_and_in_dir() -> None:
    from agentkit_testing import _LAZY_MODULES

    assert set(_LAZY_MODULES) == set(agentkit_testing.__all__)
    assert set(agentkit_testing.__all__) <= set(dir(agentkit_testing))


def test_an_unknown_name_raises_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="'agentkit_testing' has no attribute 'casette'"):
        agentkit_testing.casette  # noqa: B018


SESSION_CONFTEST = textwrap.dedent(
    """
    import json
    import sys


    def pytest_unconfigure(config):
        # After the terminal summary and every other hook of the session: what did it import?
        modules = sorted(name for name in sys.modules if name.startswith(("agentkit", "pydantic", "yaml")))
        with open("loaded.json", "w") as file:
            json.dump({"plugin": config.pluginmanager.hasplugin("agentkit"), "modules": modules}, file)
    """
)

PLAIN_TESTS = textwrap.dedent(
    """
    def test_passes():
        assert sum([1, 2]) == 3


    def test_fails():
        assert sum([1, 2]) == 4
    """
)


def _session_modules(pytester: pytest.Pytester, tests: str, *arguments: str) -> tuple[pytest.RunResult, set[str]]:
    pytester.makeconftest(SESSION_CONFTEST)
    pytester.makepyfile(test_plain=tests)
    # A fresh process: in this one the harness is loaded already.
    result = pytester.runpytest_subprocess(*OTHER_PLUGINS, *arguments)
    loaded = json.loads((pytester.path / "loaded.json").read_text())
    assert loaded["plugin"] is True
    return result, set(loaded["modules"])


def test_a_session_that_uses_no_agentkit_fixture_imports_no_harness(pytester: pytest.Pytester) -> None:
    # A failing test and --agentkit-html: the failure report hook runs its whole way.
    result, modules = _session_modules(pytester, PLAIN_TESTS, "--agentkit-html=pages")
    result.assert_outcomes(passed=1, failed=1)
    assert "agentkit cassettes" not in result.stdout.str()
    harness = sorted(name for name in modules if name.startswith("agentkit_testing.") and name not in PLUGIN_MODULES)
    assert harness == ["agentkit_testing._secrets"]  # failure reports are scrubbed of secrets, in every session
    assert not any(name.startswith(("pydantic", "yaml")) for name in modules)


def test_a_session_that_uses_a_cassette_imports_the_harness(pytester: pytest.Pytester) -> None:
    # The other side of the check above: it does see what a session imports.
    result, modules = _session_modules(pytester, "def test_cassette(agentkit_cassette):\n    pass\n")
    result.assert_outcomes(passed=1)
    assert {"agentkit_testing._cassette._context", "pydantic", "yaml"} <= modules
