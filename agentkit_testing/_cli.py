"""The `agentkit` command: show, diff and verify cassettes, and run the demo agent.

This is the only module that imports click, and nothing imports it: it is the console script
`agentkit = agentkit_testing._cli:main` declared in pyproject.toml.
"""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import click

from agentkit import Agent, AgentkitError
from agentkit_testing._cassette._eager import each_checked_run
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._cassette._io import file_format_for
from agentkit_testing._cassette._records import RecordedRun
from agentkit_testing._cassette._show import diff_cassettes, render_runs, summarize_runs
from agentkit_testing._exceptions import CassetteError

__all__ = ("main",)

_FILE = click.Path(exists=True, dir_okay=False)


def _load(path: str) -> Cassette:
    try:
        return Cassette.load(path)
    except CassetteError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(_unreadable(path, error)) from None


def _unreadable(path: str, error: OSError) -> str:
    return f"{path}: cannot read the cassette ({error.strerror or error}); check the path and its permissions"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="agentkit", prog_name="agentkit")
def main() -> None:
    """agentkit: an agent runtime whose every step is a node, with record/replay testing."""


@main.group()
def cassette() -> None:
    """Look into cassettes: recorded agent runs that tests replay offline."""


@cassette.command()
@click.argument("file", type=_FILE)
def show(file: str) -> None:
    """Print the runs of FILE as trees of nodes: what each request sent, got back and ran."""
    try:
        text = render_runs(Path(file), _each_run(file))
    except CassetteError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(_unreadable(file, error)) from None
    click.echo(text, nl=False)


def _each_run(file: str) -> Iterator[RecordedRun]:
    """The runs of the cassette FILE one at a time, checked as `Cassette.load` checks them: a big file's
    decoded runs are never all in memory at once."""
    path = Path(file)
    return each_checked_run(path, file_format_for(path))


@cassette.command()
@click.argument("old", type=_FILE)
@click.argument("new", type=_FILE)
@click.option("--exact", is_flag=True, help="Also compare timestamps and tool-call ids.")
@click.option("--html", "html", type=click.Path(dir_okay=False), help="Also write the side-by-side page to this file.")
def diff(old: str, new: str, exact: bool, html: str | None) -> None:
    """Show what changed from recording OLD to recording NEW; exits 1 when they differ."""
    before, after = _load(old), _load(new)
    if html is not None:
        _write_page([before, after], Path(html))
    changes = diff_cassettes(before, after, exact=exact)
    if not changes:
        click.echo(f"no differences between {old} and {new}")
        return
    click.echo(changes, nl=False)
    raise SystemExit(1)


@cassette.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def verify(paths: tuple[str, ...]) -> None:
    """Check that each cassette is well formed and of a version this agentkit reads; exits 1 when one is not.

    PATHS are cassette files, each checked whatever it holds, or folders, searched as `check` searches
    them: every .yaml, .yml and .json file under each that says it is an agentkit cassette. A folder
    with none fails, so a mistyped path cannot pass for a clean one.
    """
    failed = False
    files: dict[Path, None] = {}  # in the order given, each once
    for path in map(Path, paths):
        if not path.is_dir():
            files[path] = None
            continue
        found, others = _cassettes_under(path)
        if not found:
            click.echo(f"FAIL {path}: no agentkit cassette under this folder{_skipped(others)}", err=True)
            failed = True
        elif others:
            click.echo(f"skip {path}: {len(others)} file(s) that are not agentkit cassettes{_skipped(others)}")
        files.update(dict.fromkeys(found))
    for file in files:
        try:
            summary = summarize_runs(file, _each_run(str(file)))
        except CassetteError as error:
            click.echo(f"FAIL {error}", err=True)
            failed = True
        except OSError as error:
            click.echo(f"FAIL {_unreadable(str(file), error)}", err=True)
            failed = True
        else:
            click.echo(f"ok   {summary}")
    if failed:
        raise SystemExit(1)


def _skipped(others: list[Path]) -> str:
    """Why the files of a folder that `verify` passed over were left out, and how to check one anyway."""
    if not others:
        return " (no .yaml, .yml or .json file)"
    return (
        f" (such as {others[0]}: no 'agentkit-cassette' in its first {_MARKER_WINDOW} bytes); "
        "name a file to verify it whatever it holds"
    )


@cassette.command()
@click.argument("files", nargs=-1, required=True, type=_FILE)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="The page to write (default: NAME.html here).")
def view(files: tuple[str, ...], output: str | None) -> None:
    """Write one self-contained HTML page of FILE, or of two recordings OLD NEW side by side.

    The page needs no network and opens from disk: a node timeline per run, search, a run picker.
    """
    if len(files) > 2:
        raise click.UsageError(f"view takes one cassette, or two to compare; got {len(files)}")
    stems = [Path(file).stem for file in files]
    default = f"{stems[0]}.html" if len(stems) == 1 else f"{stems[0]}-vs-{stems[1]}.html"
    _write_page([_load(file) for file in files], Path(output or default))


@cassette.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--agent", "agent_path", required=True, help="The agent to check against, as module:attribute.")
@click.option("--deps", "deps_path", help="Deps for dynamic system prompts, as module:attribute (called if callable).")
def check(paths: tuple[str, ...], agent_path: str, deps_path: str | None) -> None:
    """List the cassettes whose agent definition changed since recording; exits 1 when any did.

    PATHS are cassette files or folders (searched for agentkit cassettes). The agent's system
    prompts, tools and their schemas, result tools, model and settings are compared with the first
    request of each recorded run, before anything is replayed.
    """
    stale = importlib.import_module("agentkit_testing._stale")
    agent = _agent_option(agent_path)
    deps = _import_object(deps_path, "--deps") if deps_path else None
    if callable(deps):
        deps = deps()
    try:
        definition = anyio.run(lambda: stale.probe_definition(agent, deps=deps))
    except Exception as error:  # the user's own prompt functions may raise anything: report, don't crash
        click.echo(f"could not probe {agent_path}: {type(error).__name__}: {error}", err=True)
        click.echo("  (dynamic system prompts may need deps: pass --deps module:attribute)", err=True)
        definition = None
    failed = False
    for file in [file for path in paths for file in _cassette_files(Path(path))]:
        try:
            (result,) = stale.check_cassettes([file], agent, definition)
        except CassetteError as error:
            click.echo(f"error   {error}", err=True)
            failed = True
            continue
        except OSError as error:
            click.echo(f"error   {_unreadable(str(file), error)}", err=True)
            failed = True
            continue
        runs = f"{len(result.runs)} run(s)" if result.runs else f"no runs of agent {agent.name!r}"
        click.echo(f"{result.status:<8}{result.path}  ({runs})")
        for run in result.runs:
            for change in run.changes:
                click.echo(f"    {run.run_id}: " + change.replace("\n", "\n      "))
        failed = failed or result.status == "stale"
    if failed:
        raise SystemExit(1)


@cassette.command(name="fork")
@click.argument("file", type=_FILE)
@click.option("--run", "run_id", required=True, help="The id of the recorded run to fork, e.g. run-1.")
@click.option("--at-node", "at_node", required=True, type=int, help="The ModelRequestNode from which the run is live.")
@click.option("--agent", "agent_path", required=True, help="The agent to run, as module:attribute.")
@click.option(
    "--model",
    "model_name",
    help="The model for the live part: a name ('openai:gpt-4o-mini') or a Model as module:attribute "
    "(default: the agent's own).",
)
@click.option("--deps", "deps_path", help="The run's deps, as module:attribute (called if callable).")
@click.option(
    "--ignore", "ignored", multiple=True, help="A field left out when comparing the replayed part (repeatable)."
)
@click.option("--external", "external", multiple=True, help="A tool not called in the replayed part (repeatable).")
def fork_run(
    file: str,
    run_id: str,
    at_node: int,
    agent_path: str,
    model_name: str | None,
    deps_path: str | None,
    ignored: tuple[str, ...],
    external: tuple[str, ...],
) -> None:
    """Replay run --run of FILE up to node --at-node as recorded, then continue it live; add it to FILE.

    Nodes are counted as `agentkit cassette show` numbers them; --at-node must be one of the run's
    ModelRequestNodes (0 runs everything live). The new run names its parent and the fork point.
    """
    fork_module = importlib.import_module("agentkit_testing._fork")
    matching_module = importlib.import_module("agentkit_testing._matching")
    agent = _agent_option(agent_path)
    deps = _import_object(deps_path, "--deps") if deps_path else None
    if callable(deps):
        deps = deps()
    model = _model_option(model_name) if model_name else None
    try:
        result = fork_module.fork_sync(
            _load(file),
            agent=agent,
            run=run_id,
            at_node=at_node,
            model=model,
            deps=deps,
            matching=matching_module.Matching(ignore=ignored),
            external_tools=external,
        )
    except CassetteError as error:
        notes = "".join(f"\n{note}" for note in getattr(error, "__notes__", ()))
        raise click.ClickException(f"{error}{notes}") from None
    except AgentkitError as error:  # the live part failed (no key, server down, model misbehaving)
        raise click.ClickException(
            f"{file}: the fork of run {run_id!r} at node {at_node} failed, nothing was written: "
            f"{type(error).__name__}: {error}"
        ) from None
    forked = result.run
    click.echo(f"{file}: added {forked.id}, forked from {run_id} at node {at_node} ({forked.model})")
    click.echo(f"result: {forked.result.data if forked.result is not None else None!r}")
    click.echo(f"see it with: agentkit cassette show {file}   or   agentkit cassette view {file}")


def _model_option(name: str) -> Any:
    """A model name the agent understands, or a `module:attribute` naming a `Model` object."""
    models = importlib.import_module("agentkit.models")
    try:
        return models.infer_model(name)
    except AgentkitError:
        try:
            model = _import_object(name, "--model")
        except click.BadParameter as error:
            raise click.BadParameter(
                f"{name!r} is neither a model name ('test', 'openai:NAME', 'anthropic:NAME') nor a Model "
                f"as module:attribute ({error.message})",
                param_hint="--model",
            ) from None
    if not isinstance(model, models.Model):
        raise click.BadParameter(f"{name!r} is {type(model).__name__}, not a Model", param_hint="--model")
    return model


def _agent_option(path: str) -> Any:
    """The agentkit `Agent` that `--agent module:attribute` names."""
    agent = _import_object(path, "--agent")
    if not isinstance(agent, Agent):
        kind = "function" if inspect.isfunction(agent) else type(agent).__name__
        raise click.BadParameter(
            f"{path!r} is a {kind}, not an agentkit Agent; name the module attribute that holds the Agent",
            param_hint="--agent",
        )
    return agent


def _import_object(path: str, option: str) -> Any:
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise click.BadParameter(f"expected module:attribute, got {path!r}", param_hint=option)
    sys.path.insert(0, os.getcwd())
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise click.BadParameter(f"cannot load {path!r}: {error}", param_hint=option) from None
    finally:
        sys.path.remove(os.getcwd())


def _cassette_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    found, _ = _cassettes_under(path)
    return found


def _cassettes_under(folder: Path) -> tuple[list[Path], list[Path]]:
    """The .yaml, .yml and .json files under `folder` that declare the agentkit cassette format, and the others."""
    patterns = ("*.yaml", "*.yml", "*.json")
    candidates = sorted(file for pattern in patterns for file in folder.rglob(pattern) if not file.is_dir())
    found: list[Path] = []
    others: list[Path] = []
    for file in candidates:
        try:
            declares = _declares_agentkit_format(file)
        except OSError:  # unreadable (a broken link, no permission): kept, so reading it reports why, by path
            declares = True
        (found if declares else others).append(file)
    return found, others


_MARKER_WINDOW = 4096
"""How far into a file the format marker is looked for: a cassette's header comment comes before it."""


def _declares_agentkit_format(path: Path) -> bool:
    with path.open("rb") as file:
        return b"agentkit-cassette" in file.read(_MARKER_WINDOW)


def _write_page(cassettes: list[Cassette], target: Path) -> None:
    try:
        viewer = importlib.import_module("agentkit_testing._viewer._page")
        page = viewer.pages_for(cassettes)
    except ModuleNotFoundError as error:
        raise click.ClickException(
            f"the cassette page needs Jinja2 ({error}); install it with: pip install 'agentkit[testing]'"
        ) from None
    try:
        target.write_text(page, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(
            f"cannot write the page to {target} ({error.strerror or error}); check that its folder exists "
            "and is writable, or pass another -o"
        ) from None
    click.echo(f"wrote {target} ({len(page.encode()):,} bytes): open it in a browser")


@main.command()
def demo() -> None:
    """Run the demo agent: two tools on the embedded TestModel, printing its node sequence."""
    # `python -m agentkit` is the demo's public entry point; the harness uses no private runtime module.
    done = subprocess.run([sys.executable, "-m", "agentkit"], capture_output=True, text=True, check=False)
    click.echo(done.stdout, nl=False)
    if done.returncode != 0:
        raise click.ClickException(f"`{sys.executable} -m agentkit` failed (exit {done.returncode}):\n{done.stderr}")
