"""The import direction DESIGN.md promises: the harness uses only public agentkit modules, never the reverse."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every absolute import in a file as a dotted name, with its line: modules, `module.name` for from-imports,
    and the literal names given to `importlib.import_module` (an import by name is an import too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
        elif _imports_by_name(node):
            found.append((node.lineno, node.args[0].value))  # type: ignore[attr-defined]
    return found


def _imports_by_name(node: ast.AST) -> bool:
    """`import_module("literal")` or `importlib.import_module("literal")`."""
    if not isinstance(node, ast.Call) or not node.args or not isinstance(node.args[0], ast.Constant):
        return False
    function = node.func
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
    return name == "import_module" and isinstance(node.args[0].value, str)


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", sources("agentkit_testing"), ids=lambda path: str(path.relative_to(ROOT)))
def test_the_harness_imports_only_public_agentkit_modules(path: Path) -> None:
    private = [
        f"line {line}: {name}"
        for line, name in imported_modules(path)
        if name.split(".")[0] == "agentkit" and any(part.startswith("_") for part in name.split(".")[1:])
    ]
    assert private == []


@pytest.mark.parametrize("path", sources("agentkit"), ids=lambda path: str(path.relative_to(ROOT)))
def test_the_runtime_never_imports_the_harness(path: Path) -> None:
    upward = [f"line {line}: {name}" for line, name in imported_modules(path) if name.startswith("agentkit_testing")]
    assert upward == []
