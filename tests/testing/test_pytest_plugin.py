"""The pytest plugin, tested the way pytest plugins test themselves: with pytester."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

# Inner sessions skip plugins these tests do not need: each in-process run re-imports what it loads.
QUIET = ("-p", "no:hypothesispytest", "-p", "no:syrupy", "-p", "no:cacheprovider")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(*QUIET, *args)


AGENT_MODULE = textwrap.dedent(
    """
    from agentkit import Agent, ModelResponse, TextPart
    from agentkit.models import FunctionModel

    CALLS = []


    class PretendNetworkModel(FunctionModel):
        '''Answers locally but counts as a model that talks to a real service.'''

        sends_real_requests = True


    def answer(messages, info):
        CALLS.append(messages[-1].parts[-1].content)
        return ModelResponse(parts=[TextPart("live answer")], model_name="pretend-1")


    agent = Agent(PretendNetworkModel(answer, model_name="pretend-1"), name="support")
    """
)

TESTS = textwrap.dedent(
    """
    import pytest
    import agent_module


    def test_sync(agentkit_cassette):
        assert agent_module.agent.run_sync("hello").data == "live answer"


    @pytest.mark.anyio
    async def test_async(agentkit_cassette):
        result = await agent_module.agent.run("bonjour")
        assert result.data == "live answer"


    @pytest.fixture
    def anyio_backend():
        return "asyncio"
    """
)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(agent_module=AGENT_MODULE, test_agents=TESTS)
    pytester.syspathinsert()
    return pytester


def test_real_requests_are_blocked_by_default_with_a_hint(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(agent_module=AGENT_MODULE)
    pytester.makepyfile(
        test_blocked="""
        import agent_module

        def test_live():
            agent_module.agent.run_sync("hello")
        """
    )
    pytester.syspathinsert()
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ModelRequestsBlocked*PretendNetworkModel 'pretend-1'*--agentkit-record-mode=once*"])


def test_missing_cassette_in_replay_mode_says_how_to_record(project: pytest.Pytester) -> None:
    result = run(project, "-k", "test_sync")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*UnrecordedRequest*test_sync.yaml*does not exist*first: run pytest with --agentkit-record-mode=once*"]
    )


def test_record_once_then_replay_offline(project: pytest.Pytester) -> None:
    recorded = run(project, "--agentkit-record-mode=once")
    recorded.assert_outcomes(passed=2)
    cassettes = project.path / "cassettes" / "test_agents"
    assert sorted(p.name for p in cassettes.iterdir()) == ["test_async.yaml", "test_sync.yaml"]
    assert "hello" in (cassettes / "test_sync.yaml").read_text()
    recorded.stdout.fnmatch_lines(
        ["*agentkit cassettes*", "*2 cassette(s) used: 2 run(s) recorded, 0 run(s) replayed*"]
    )

    replayed = run(project)  # record mode 'none': the pretend network model would be blocked
    replayed.assert_outcomes(passed=2)
    replayed.stdout.fnmatch_lines(["*2 cassette(s) used: 0 run(s) recorded, 2 run(s) replayed*"])


def test_record_mode_from_the_environment(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTKIT_RECORD_MODE", "once")
    run(project).assert_outcomes(passed=2)
    assert (project.path / "cassettes" / "test_agents" / "test_sync.yaml").exists()


def test_invalid_record_mode_in_the_environment_is_a_usage_error(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTKIT_RECORD_MODE", "sometimes")
    result = run(project, "-k", "test_sync")
    result.stderr.fnmatch_lines(["*agentkit record mode must be one of none, once, new_episodes, all, rewrite*"])


def test_marker_sets_path_and_record_mode(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(agent_module=AGENT_MODULE)
    pytester.makepyfile(
        test_marked="""
        import pytest
        import agent_module

        pytestmark = pytest.mark.agentkit_cassette(path="shared/support.yaml", record_mode="once")

        def test_first():
            assert agent_module.agent.run_sync("one").data == "live answer"

        def test_record_mode_fixture(agentkit_record_mode):
            assert agentkit_record_mode == "once"
        """
    )
    pytester.syspathinsert()
    run(pytester).assert_outcomes(passed=2)
    assert (pytester.path / "shared" / "support.yaml").exists()
    again = run(pytester)
    again.assert_outcomes(passed=2)
    again.stdout.fnmatch_lines(["*1 run(s) replayed*"])


def test_agent_runs_fixture_captures_messages(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_capture="""
        from agentkit import Agent
        from agentkit.models import TestModel

        agent = Agent(TestModel(custom_result_text="ok"), name="captured")

        @agent.tool_plain
        def add(a: int, b: int) -> int:
            return a + b

        def test_capture(agent_runs):
            agent.run_sync("add please")
            (run,) = agent_runs
            assert run.agent_name == "captured"
            assert run.result.data == "ok"
            kinds = [m.kind for m in run.messages]
            assert kinds == ["request", "response", "request", "response"]
            assert agent_runs.all_messages() == run.messages
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_unused_cassettes_are_reported_and_can_be_deleted(project: pytest.Pytester) -> None:
    run(project, "--agentkit-record-mode=once").assert_outcomes(passed=2)
    stale = project.path / "cassettes" / "test_agents" / "test_removed_long_ago.yaml"
    stale.write_text("format: agentkit-cassette\nversion: 1\nruns: []\n")
    foreign = project.path / "cassettes" / "test_agents" / "test_http_recording.yaml"
    foreign.write_text("interactions: []\nversion: 1\n")  # e.g. a vcrpy cassette: never touched
    reported = run(project)
    reported.stdout.fnmatch_lines(["*1 cassette(s) unused:*", "*test_removed_long_ago.yaml*"])
    assert stale.exists()
    deleted = run(project, "--agentkit-delete-unused-cassettes")
    deleted.stdout.fnmatch_lines(["*1 cassette(s) deleted:*"])
    assert not stale.exists()
    assert foreign.exists()
    assert (project.path / "cassettes" / "test_agents" / "test_sync.yaml").exists()


def test_deselected_tests_keep_their_cassettes(project: pytest.Pytester) -> None:
    run(project, "--agentkit-record-mode=once").assert_outcomes(passed=2)
    result = run(project, "-k", "test_sync", "--agentkit-delete-unused-cassettes")
    result.assert_outcomes(passed=1, deselected=1)
    assert (project.path / "cassettes" / "test_agents" / "test_async.yaml").exists()


def test_coexists_with_pytest_recording(project: pytest.Pytester) -> None:
    pytest.importorskip("pytest_recording")
    result = run(project, "--record-mode=none", "--agentkit-record-mode=once")
    result.assert_outcomes(passed=2)
    assert (project.path / "cassettes" / "test_agents" / "test_sync.yaml").exists()


def test_xdist_workers_record_their_own_cassettes(project: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    project.makepyfile(
        test_more="""
        import agent_module

        def test_one(agentkit_cassette):
            assert agent_module.agent.run_sync("one").data == "live answer"

        def test_two(agentkit_cassette):
            assert agent_module.agent.run_sync("two").data == "live answer"
        """
    )
    recorded = project.runpytest_subprocess(*QUIET, "-n", "2", "--agentkit-record-mode=once")
    recorded.assert_outcomes(passed=4)
    recorded.stdout.fnmatch_lines(["*4 cassette(s) used: 4 run(s) recorded*"])
    files = sorted(p.relative_to(project.path).as_posix() for p in (project.path / "cassettes").rglob("*.yaml"))
    assert files == [
        "cassettes/test_agents/test_async.yaml",
        "cassettes/test_agents/test_sync.yaml",
        "cassettes/test_more/test_one.yaml",
        "cassettes/test_more/test_two.yaml",
    ]
    assert "two" in (project.path / "cassettes/test_more/test_two.yaml").read_text()
    replayed = project.runpytest_subprocess(*QUIET, "-n", "2")
    replayed.assert_outcomes(passed=4)
    replayed.stdout.fnmatch_lines(["*4 run(s) replayed*"])


def test_allow_marker_lifts_the_guard_for_live_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(agent_module=AGENT_MODULE)
    pytester.makepyfile(
        test_live="""
        import pytest
        import agent_module

        @pytest.mark.agentkit_allow_model_requests
        def test_live():
            assert agent_module.agent.run_sync("hello").data == "live answer"
        """
    )
    pytester.syspathinsert()
    run(pytester).assert_outcomes(passed=1)


def test_nested_test_modules_get_their_path_under_cassettes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(agent_module=AGENT_MODULE)
    pytester.mkpydir("suite")
    (pytester.path / "suite" / "test_deep.py").write_text(
        "import agent_module\n\ndef test_deep(agentkit_cassette):\n    agent_module.agent.run_sync('x')\n"
    )
    pytester.syspathinsert()
    run(pytester, "--agentkit-record-mode=once").assert_outcomes(passed=1)
    assert (pytester.path / "cassettes" / "suite" / "test_deep" / "test_deep.yaml").exists()


def test_agent_snapshot_fixture_stores_the_node_sequence(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_snap="""
        from agentkit import Agent
        from agentkit.models import TestModel

        agent = Agent(TestModel(custom_result_text="done"))

        @agent.tool_plain
        def add(a: int, b: int) -> int:
            return a + b

        def test_run(agent_snapshot):
            assert agent.run_sync("add") == agent_snapshot
        """
    )
    created = pytester.runpytest("-p", "no:hypothesispytest", "-p", "no:cacheprovider", "--snapshot-update")
    created.assert_outcomes(passed=1)
    (stored,) = (pytester.path / "__snapshots__").rglob("*.run.txt")
    text = stored.read_text()
    assert "[0] ModelRequestNode" in text
    assert "add" in text
    matched = pytester.runpytest("-p", "no:hypothesispytest", "-p", "no:cacheprovider")
    matched.assert_outcomes(passed=1)


def test_xdist_workers_sharing_one_cassette_lose_no_run(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    pytester.makepyfile(agent_module=AGENT_MODULE)
    pytester.makepyfile(
        test_shared="""
        import pytest
        import agent_module

        pytestmark = pytest.mark.agentkit_cassette(path="cassettes/shared.yaml")

        @pytest.mark.parametrize("n", range(6))
        def test_prompt(n):
            assert agent_module.agent.run_sync(f"question {n}").data == "live answer"
        """
    )
    pytester.syspathinsert()
    recorded = pytester.runpytest_subprocess(*QUIET, "-n", "2", "--agentkit-record-mode=new_episodes")
    recorded.assert_outcomes(passed=6)
    text = (pytester.path / "cassettes" / "shared.yaml").read_text()
    assert sorted(n for n in range(6) if f"question {n}" in text) == list(range(6))
    replayed = pytester.runpytest_subprocess(*QUIET, "-n", "2")
    replayed.assert_outcomes(passed=6)
