"""pydantic-ai's request switch under the plugin's guards, also when pydantic-ai is imported during a test."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

__all__ = ("pydantic_ai_requests",)

_MODULE = "pydantic_ai.models"
_wanted: list[bool] = []
"""What the guards open now want the switch to be, innermost last: for an import during them."""
_import_values: list[bool] = []
"""pydantic-ai's own value of the switch, as its import set it (when the import came during a guard)."""


@contextmanager
def pydantic_ai_requests(allowed: bool) -> Iterator[None]:
    """Set pydantic-ai's own request switch, `pydantic_ai.models.ALLOW_MODEL_REQUESTS`, for the block.

    It is what stops a pydantic-ai agent that no marker names (so no cassette covers it) from
    reaching its provider while the test does not record; pydantic-ai's provider models check it
    before every request, in every thread. The plugin never imports pydantic-ai: if it is imported
    already, the switch is set now; if code imports it during the block (a test importing it in its
    body), the switch is set as that import ends (`_SwitchOnImport`). The value before the block is
    put back after it (for an import during the block: the enclosing guard's, or pydantic-ai's own).
    """
    _watch_imports()
    models: Any = sys.modules.get(_MODULE)
    before: bool | None = getattr(models, "ALLOW_MODEL_REQUESTS", None)
    if models is not None and before is not None:
        models.ALLOW_MODEL_REQUESTS = allowed
    _wanted.append(allowed)
    try:
        yield
    finally:
        _wanted.pop()
        models = sys.modules.get(_MODULE)
        if models is not None and hasattr(models, "ALLOW_MODEL_REQUESTS"):
            if before is not None:
                models.ALLOW_MODEL_REQUESTS = before
            elif _wanted:
                models.ALLOW_MODEL_REQUESTS = _wanted[-1]
            elif _import_values:
                models.ALLOW_MODEL_REQUESTS = _import_values[-1]


class _SwitchOnImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when `pydantic_ai.models` is imported while a guard is open, it has the
    other finders find it and sets the switch as soon as the module has run."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _MODULE or not _wanted:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec: importlib.machinery.ModuleSpec | None = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader: Any = spec.loader
        run = getattr(loader, "exec_module", None)
        if run is None:
            return spec

        def exec_module(module: ModuleType) -> None:
            run(module)
            own = getattr(module, "ALLOW_MODEL_REQUESTS", None)
            if own is not None and _wanted:
                _import_values.append(own)
                setattr(module, "ALLOW_MODEL_REQUESTS", _wanted[-1])  # noqa: B010

        loader.exec_module = exec_module  # this spec's own loader (finders make one per spec)
        return spec


def _watch_imports() -> None:
    if not any(isinstance(finder, _SwitchOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _SwitchOnImport())
