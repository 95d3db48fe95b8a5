"""What provider models share: loading their SDK lazily and finding their API key."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

from agentkit._exceptions import UserError

__all__ = ("import_sdk", "read_api_key")


def import_sdk(module: str, extra: str) -> ModuleType:
    """Import a provider SDK, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise UserError(
            f"The {module!r} package is needed for this model but is not installed; "
            f"install it with `pip install 'agentkit[{extra}]'`"
        ) from error


def read_api_key(explicit: str | None, env_var: str, provider: str) -> str:
    """The API key given explicitly, else from `env_var`; a clear error naming `env_var` when neither."""
    key = explicit if explicit is not None else os.environ.get(env_var)
    if not key:
        raise UserError(
            f"No API key for {provider}: set the {env_var} environment variable or pass api_key=... "
            "(tests: replay a cassette instead, which needs no key)"
        )
    return key
