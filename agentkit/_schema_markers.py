"""Pydantic markers for `Annotated` types that import pydantic only when a schema is first built.

The message types carry pydantic metadata (`Discriminator`, `Tag`, validators, serializers) so
that a history round-trips through JSON. Creating those objects imports most of pydantic, which
`import agentkit` should not pay for: a `PydanticMarker` stands in for one, builds it at the
first schema build that meets it, and hands it pydantic's own handler, so the schema (and its
JSON schema) is exactly the one the real marker gives.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ("PydanticMarker", "SchemaOf")


class PydanticMarker:
    """`PydanticMarker('Discriminator', 'kind')` behaves as `pydantic.Discriminator('kind')` in `Annotated`."""

    __slots__ = ("_args", "_built", "_kwargs", "_name")

    def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
        self._name = name
        self._args = args
        self._kwargs = kwargs
        self._built: Any = None

    def build(self) -> Any:
        """The pydantic object this marker stands for (made once; racing threads make equal ones)."""
        built = self._built
        if built is None:
            built = self._built = getattr(importlib.import_module("pydantic"), self._name)(*self._args, **self._kwargs)
        return built

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        return self.build().__get_pydantic_core_schema__(source, handler)

    def __repr__(self) -> str:
        arguments = [repr(arg) for arg in self._args] + [f"{key}={value!r}" for key, value in self._kwargs.items()]
        return f"{self._name}({', '.join(arguments)})"


class SchemaOf:
    """`Annotated` metadata that validates a field as `target` (pydantic's `GetPydanticSchema`, without pydantic)."""

    __slots__ = ("_target",)

    def __init__(self, target: Any) -> None:
        self._target = target

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        return handler(self._target)

    def __repr__(self) -> str:
        return f"SchemaOf({self._target!r})"
