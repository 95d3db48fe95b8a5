"""Modules that other code imported: found without importing them, and never seen half-imported."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

__all__ = ("imported",)


def imported(name: str) -> ModuleType | None:
    """The module `name` if it has been imported, else `None` (and it is not imported here).

    A module is in `sys.modules` from the start of its import, so another thread can find it there
    half-initialized (`asyncio` without `get_running_loop` yet); `import_module` waits for that
    thread's import to finish and returns the whole module.
    """
    if name not in sys.modules:
        return None
    return importlib.import_module(name)
