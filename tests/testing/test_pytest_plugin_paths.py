"""Where the plugin puts a test's cassette, and the clear errors for a marker or a path it cannot use."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

QUIET = ("-p", "no:hypothesispytest", "-p", "no:syrupy", "-p", "no:cacheprovider")

AGENT_MODULE = textwrap.dedent(
    """
    from agentkit import Agent, ModelResponse, TextPart
    from agentkit.models import FunctionModel


    def answer(messages, info):
        return ModelResponse(parts=[TextPart("answer")], model_name="local-1")


    agent = Agent(FunctionModel(answer, model_name="local-1"), name="support")
    """
)

SECRET = "zq7Xw2Pp9LmN4kR8tYv1Bc6Hd3Jf5Gs0"


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(agent_module=AGENT_MODULE)
    pytester.syspathinsert()
    return pytester


def test_a_secret_in_a_parametrized_test_id_is_not_in_the_cassette_file_name(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    project.makepyfile(
        test_keys="""
        import os
        import pytest
        import agent_module


        @pytest.mark.parametrize("key", [os.environ["OPENAI_API_KEY"], "plain"])
        def test_with_key(agentkit_cassette, key):
            agent_module.agent.run_sync("hello")
        """
    )
    result = project.runpytest(*QUIET, "--agentkit-record-mode=once")
    result.assert_outcomes(passed=2)
    names = sorted(path.name for path in (project.path / "cassettes" / "test_keys").iterdir())
    assert len(names) == 2
    assert "test_with_key[plain].yaml" in names
    assert not any(SECRET in name for name in names), names
    assert SECRET not in result.stdout.str().split("agentkit cassettes")[-1]
    project.runpytest(*QUIET).assert_outcomes(passed=2)  # replays from the same names


MARKED = textwrap.dedent(
    """
    import pytest
    import agent_module


    @pytest.mark.agentkit_cassette("cassettes/positional.yaml")
    def test_positional():
        agent_module.agent.run_sync("hello")


    @pytest.mark.agentkit_cassette(recordmode="once")
    def test_misspelled():
        agent_module.agent.run_sync("hello")
    """
)


def test_a_marker_argument_the_plugin_does_not_take_is_an_error_naming_the_test_and_the_fix(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_marked=MARKED)
    result = project.runpytest(*QUIET, "--agentkit-record-mode=once")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*test_marked.py::test_positional: the agentkit_cassette marker takes keyword arguments only*"
            "path='cassettes/positional.yaml'*",
            "*test_marked.py::test_misspelled: the agentkit_cassette marker has no argument 'recordmode'*record_mode*",
        ]
    )
    assert not (project.path / "cassettes").exists()  # nothing was recorded under another name


@pytest.mark.parametrize("mode", ["none", "once"])
def test_a_cassette_path_that_is_a_directory_is_an_error_naming_it(project: pytest.Pytester, mode: str) -> None:
    project.makepyfile(
        test_dir="""
        import agent_module


        def test_a(agentkit_cassette):
            agent_module.agent.run_sync("hello")
        """
    )
    (project.path / "cassettes" / "test_dir" / "test_a.yaml").mkdir(parents=True)
    result = project.runpytest(*QUIET, f"--agentkit-record-mode={mode}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*test_dir.py::test_a: the cassette path *test_a.yaml is a directory, not a file*"])


def test_a_cassette_folder_that_is_a_file_is_an_error_naming_it(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_dir="""
        import agent_module


        def test_a(agentkit_cassette):
            agent_module.agent.run_sync("hello")
        """
    )
    (project.path / "cassettes").mkdir()
    (project.path / "cassettes" / "test_dir").write_text("not a folder")
    result = project.runpytest(*QUIET, "--agentkit-record-mode=once")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*test_dir.py::test_a: cannot make the cassette folder *test_dir: *is a file*"])
    assert (project.path / "cassettes" / "test_dir").read_text() == "not a folder"


def test_tests_whose_names_make_one_cassette_file_name_are_refused_not_mixed(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_where="""
        import pytest
        import agent_module


        @pytest.mark.parametrize("where", ["a/b", "a_b"])
        def test_where(agentkit_cassette, where):
            agent_module.agent.run_sync("hello")


        @pytest.mark.parametrize("where", ["x/y"])
        @pytest.mark.agentkit_cassette(path="cassettes/own.yaml")
        def test_named(where):
            agent_module.agent.run_sync("hello")
        """
    )
    result = project.runpytest(*QUIET, "--agentkit-record-mode=once")
    result.assert_outcomes(passed=1, errors=2)  # each would have replayed the other's recording
    result.stdout.fnmatch_lines(
        ["*test_where.py::test_where[[]a/b[]]*test_where.py::test_where[[]a_b[]]*test_where[[]a_b[]].yaml*path=*"]
    )
    assert not (project.path / "cassettes" / "test_where").exists()


FAILING_FIRST_RECORDING = textwrap.dedent(
    """
    import pytest
    from agentkit import Agent
    from agentkit.models import FunctionModel


    def broken(messages, info):
        raise ConnectionError("the server is down")


    agent = Agent(FunctionModel(broken, model_name="local-1"))


    def test_by_fixture(agentkit_cassette):
        agent.run_sync("hello")


    @pytest.mark.agentkit_cassette(path="cassettes/deeper/still/marked.yaml")
    def test_by_marker():
        agent.run_sync("hello")
    """
)


def test_a_first_recording_that_fails_before_any_answer_creates_no_folder(project: pytest.Pytester) -> None:
    project.makepyfile(test_first=FAILING_FIRST_RECORDING)
    result = project.runpytest(*QUIET, "--agentkit-record-mode=once")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*ConnectionError: the server is down*"])
    assert not (project.path / "cassettes").exists()


def test_a_failed_first_recording_keeps_the_folders_that_were_there(project: pytest.Pytester) -> None:
    project.makepyfile(test_first=FAILING_FIRST_RECORDING)
    empty = project.path / "cassettes" / "test_first"
    empty.mkdir(parents=True)
    (project.path / "cassettes" / "deeper").mkdir()
    result = project.runpytest(*QUIET, "--agentkit-record-mode=once")
    result.assert_outcomes(failed=2)
    assert empty.is_dir()
    assert list(empty.iterdir()) == []
    assert sorted(path.name for path in (project.path / "cassettes").iterdir()) == ["deeper", "test_first"]
    assert list((project.path / "cassettes" / "deeper").iterdir()) == []
