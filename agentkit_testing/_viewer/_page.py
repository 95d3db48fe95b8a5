"""The cassette page: one self-contained HTML file per cassette, or per pair of recordings side by side.

The only module that imports Jinja2. Every value is escaped by the template engine (autoescape on);
the page loads nothing from the network (its Content-Security-Policy forbids it) and opens from disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agentkit_testing._cassette._file import Cassette
from agentkit_testing._cassette._show import summarize
from agentkit_testing._viewer._model import RunView, build_run_views, pair_runs

if TYPE_CHECKING:
    import jinja2

__all__ = ("pages_for", "render_cassette_page", "render_diff_page")

_TEMPLATES = Path(__file__).parent / "templates"
_BAR_PIXELS = 160


@dataclass(frozen=True)
class _Pair:
    id: str
    prompt: str
    old: RunView | None
    new: RunView | None
    changed_nodes: frozenset[int]
    changed: bool
    scale: int
    search_text: str


def render_cassette_page(
    cassette: Cassette, *, highlight: tuple[str, int] | None = None, notice: str | None = None
) -> str:
    """The page of one cassette: a run picker, search, and each run's node timeline.

    `highlight` names a (run id, node index) to mark and scroll to, e.g. where a replay diverged;
    `notice` is text shown above the runs, e.g. the divergence message.
    """
    runs = build_run_views(cassette.runs)
    return (
        _environment()
        .get_template("cassette.html.j2")
        .render(
            title=f"Cassette {_name(cassette)}",
            summary=summarize(cassette),
            runs=runs,
            highlight=highlight,
            notice=notice,
        )
    )


def render_diff_page(old: Cassette, new: Cassette) -> str:
    """Two recordings side by side: changed nodes marked, unchanged runs collapsed."""
    pairs = [_pair(before, after) for before, after in pair_runs(build_run_views(old.runs), build_run_views(new.runs))]
    return (
        _environment()
        .get_template("diff.html.j2")
        .render(
            title=f"Cassette diff: {_name(new)}",
            old_name=str(old.path or "(before)"),
            new_name=str(new.path or "(after)"),
            pairs=pairs,
            changed_count=sum(pair.changed for pair in pairs),
        )
    )


def _pair(old: RunView | None, new: RunView | None) -> _Pair:
    either = old if old is not None else new
    assert either is not None
    old_prints = _fingerprints(old)
    new_prints = _fingerprints(new)
    changed_nodes = frozenset(
        index for index in old_prints.keys() | new_prints.keys() if old_prints.get(index) != new_prints.get(index)
    )
    same_header = old is not None and new is not None and (old.prompt, old.model) == (new.prompt, new.model)
    scale = max(old.max_tokens if old else 0, new.max_tokens if new else 0)
    return _Pair(
        id=either.id,
        prompt=either.prompt,
        old=old,
        new=new,
        changed_nodes=changed_nodes,
        changed=bool(changed_nodes) or not same_header,
        scale=scale,
        search_text=" ".join(run.search_text for run in (old, new) if run is not None),
    )


def _name(cassette: Cassette) -> str:
    return cassette.path.name if cassette.path is not None else "(not saved)"


def _fingerprints(run: RunView | None) -> dict[int, str]:
    return {} if run is None else {node.index: node.fingerprint() for node in run.nodes}


def _bar_width(count: int | None, scale: int) -> int:
    if not count or scale <= 0:
        return 2
    return max(2, round(count / scale * _BAR_PIXELS))


def _environment() -> jinja2.Environment:
    import jinja2  # the viewer's one third-party library, imported only when a page is made

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("j2", "html"), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["bar_width"] = _bar_width
    return environment


def pages_for(cassettes: Sequence[Cassette]) -> str:
    """The page for one cassette, or the side-by-side page for two."""
    if len(cassettes) == 1:
        return render_cassette_page(cassettes[0])
    old, new = cassettes
    return render_diff_page(old, new)
