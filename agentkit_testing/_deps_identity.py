"""The identity of a run's deps: a short digest that is the same in every process, or says what it left out.

Replay tells runs apart by their deps (two runs with one prompt for two users), but a cassette
must never hold the deps themselves (they carry clients, keys, personal data). So a run records
`"<type> sha256:<16 hex>"`: the SHA-256 of a canonical JSON form of the deps, built only from what
is stable across processes — JSON scalars, containers (sets and dicts sorted), dataclasses,
pydantic models, named tuples, enums, bytes, classes and functions by qualified name, and objects
whose own `repr` holds no memory address (dates, paths, decimals, UUIDs...); the values of
secret-named fields (`api_key`, `password`, ...) are left out, so a key that differs between the
recording machine and CI does not change the identity. Anything else (an
HTTP client, a lock, a plain object) is never digested by `id()` or by a default repr: it enters
the form by its type name only, and the identity lists it (`, not digested: .client (httpx.AsyncClient)`),
so two deps that differ only there are honestly indistinguishable.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import json
import re
import types
from collections.abc import Callable, Mapping
from typing import Any

import pydantic

from agentkit_testing._secrets import is_secret_name

__all__ = ("deps_identity",)

_MAX_DEPTH = 32
_MAX_NODES = 20_000
_SHOWN_OPAQUE = 3
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{4,}\b")
_SCALARS = (str, int, float, bool, type(None))
_SECRET = {"secret": "not digested"}


def deps_identity(deps: Any, prepare: Callable[[Any], Any] | None = None) -> str:
    """`"<type> sha256:<16 hex>"` for `deps` (`"None"` without deps), naming the parts it could not digest.

    Args:
        deps: the run's dependencies.
        prepare: applied to the canonical form before hashing (the cassette's scrubber and the
            matching normalizers), so secrets and volatile strings do not change the identity.
    """
    if deps is None:
        return "None"
    form = _CanonicalForm()
    canonical = form.of(deps, "", 0)
    if prepare is not None:
        canonical = prepare(canonical)
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    identity = f"{_type_name(type(deps))} sha256:{digest}"
    if form.opaque:
        shown = ", ".join(form.opaque[:_SHOWN_OPAQUE])
        more = len(form.opaque) - _SHOWN_OPAQUE
        identity += f", not digested: {shown}" + (f" and {more} more" if more > 0 else "")
    return identity


class _CanonicalForm:
    """Builds the canonical JSON form of one value, collecting the paths of the parts left out."""

    def __init__(self) -> None:
        self.opaque: list[str] = []
        self._nodes = 0
        self._open: set[int] = set()

    def of(self, value: Any, path: str, depth: int) -> Any:
        kind = type(value)
        if kind in _SCALARS:
            return value
        self._nodes += 1
        if self._nodes > _MAX_NODES:
            if self._nodes == _MAX_NODES + 1:
                return self._left_out(path, f"and what follows: more than {_MAX_NODES} values")
            return {"not_digested": "too large"}
        if depth > _MAX_DEPTH:
            return self._left_out(path, "too deep")
        if id(value) in self._open:
            return self._left_out(path, "cycle")
        self._open.add(id(value))
        try:
            return self._of_compound(value, kind, path, depth + 1)
        finally:
            self._open.discard(id(value))

    def _of_compound(self, value: Any, kind: type, path: str, depth: int) -> Any:
        if isinstance(value, enum.Enum):
            return {"enum": _type_name(kind), "value": self.of(value.value, f"{path}.value", depth)}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            names = [field.name for field in dataclasses.fields(value)]
            return self._fields(value, kind, names, path, depth)
        if isinstance(value, pydantic.BaseModel):
            return self._fields(value, kind, list(type(value).model_fields), path, depth)
        if isinstance(value, tuple) and hasattr(kind, "_fields"):
            return self._fields(value, kind, list(kind._fields), path, depth)
        if isinstance(value, list | tuple):
            return [self.of(item, f"{path}[{index}]", depth) for index, item in enumerate(value)]
        if isinstance(value, Mapping):
            return self._mapping(value, path, depth)
        if isinstance(value, set | frozenset):
            items = [self.of(item, f"{path}{{}}", depth) for item in value]
            return {"set": sorted(items, key=_sort_key)}
        if isinstance(value, bytes | bytearray):
            return {"bytes": bytes(value).hex()}
        if isinstance(value, type):
            return {"class": _type_name(value)}
        if isinstance(value, types.FunctionType | types.BuiltinFunctionType):
            return {"function": f"{value.__module__}.{value.__qualname__}"}
        if isinstance(value, types.MethodType):
            return {"method": value.__func__.__qualname__, "self": self.of(value.__self__, f"{path}.__self__", depth)}
        if isinstance(value, functools.partial):
            return {
                "partial": self.of(value.func, f"{path}.func", depth),
                "args": self.of(list(value.args), f"{path}.args", depth),
                "keywords": self.of(dict(value.keywords), f"{path}.keywords", depth),
            }
        if isinstance(value, types.ModuleType):
            return {"module": value.__name__}
        return self._by_repr(value, kind, path)

    def _fields(self, value: Any, kind: type, names: list[str], path: str, depth: int) -> Any:
        fields = {name: self._named(name, getattr(value, name), f"{path}.{name}", depth) for name in names}
        return {"type": _type_name(kind), "fields": fields}

    def _named(self, name: str, value: Any, path: str, depth: int) -> Any:
        # A key may differ between the recording machine and CI: a secret never changes the identity.
        return _SECRET if is_secret_name(name) else self.of(value, path, depth)

    def _mapping(self, value: Mapping[Any, Any], path: str, depth: int) -> Any:
        if all(type(key) is str for key in value):
            return {"dict": {key: self._named(key, item, f"{path}[{key!r}]", depth) for key, item in value.items()}}
        pairs = [
            [self.of(key, f"{path}<key {index}>", depth), self.of(item, f"{path}[{index}]", depth)]
            for index, (key, item) in enumerate(value.items())
        ]
        return {"pairs": sorted(pairs, key=lambda pair: _sort_key(pair[0]))}

    def _by_repr(self, value: Any, kind: type, path: str) -> Any:
        if any("__repr__" in vars(base) for base in kind.__mro__[:-1]):
            try:
                shown = repr(value)
            except Exception as error:  # a broken __repr__ only means the value is not digested: say so
                return self._left_out(path, f"{_type_name(kind)}, repr raised {type(error).__name__}")
            if not _ADDRESS.search(shown):
                return {"type": _type_name(kind), "repr": shown}
        return self._left_out(path, _type_name(kind))

    def _left_out(self, path: str, why: str) -> Any:
        self.opaque.append(f"{path or '.'} ({why})")
        return {"not_digested": why}


def _type_name(kind: type) -> str:
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def _sort_key(item: Any) -> str:
    return json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
