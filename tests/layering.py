"""Read the import graph of a package from its source, for tests/test_layering.py.

Every ``.py`` file is parsed with :mod:`ast`; an import counts wherever it sits (at the top, in
a function, under ``try``), except in the body of ``if TYPE_CHECKING:``, which never runs. An
import of the project names the module it loads: ``from sim.a import b`` is an edge to
``sim.a.b`` if that is a module, else to ``sim.a``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Import:
    """One import statement's target, where it sits and whether it runs inside a function."""

    source: str
    """The importing module's dotted name."""
    target: str
    """The imported module's dotted name (a project module, or the top name of a library)."""
    line: int
    in_function: bool


def module_name(root: Path, path: Path) -> str:
    """The dotted name of a file under ``root`` (the package folder): ``sim/a/__init__.py`` is
    ``sim.a``."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path) -> dict[str, Path]:
    """Every module of the package at ``root``: dotted name -> file."""
    return {module_name(root, path): path for path in sorted(root.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk(node: ast.AST, in_function: bool) -> Iterator[tuple[ast.AST, bool]]:
    """Every import node under ``node``, with whether it sits in a function; skips the body of
    ``if TYPE_CHECKING:`` (its ``else`` runs, so it is read)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, in_function
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _walk(ast.Module(body=[other], type_ignores=[]), in_function)
        else:
            inside = in_function or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            yield from _walk(child, inside)


def _resolve(source: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` names (relative levels resolved)."""
    if not node.level:
        return node.module or ""
    base = source.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(root: Path) -> list[Import]:
    """Every import in the package at ``root``: project modules by their dotted name, other
    libraries by their top-level name."""
    known = modules(root)
    package = root.name
    found: list[Import] = []
    for source, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, in_function in _walk(tree, False):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                base = _resolve(source, path.name == "__init__.py", node)
                names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                         for alias in node.names]
            for name in dict.fromkeys(names):
                if name == package or name.startswith(package + "."):
                    while name not in known:
                        name = name.rsplit(".", 1)[0]
                else:
                    name = name.split(".")[0]
                found.append(Import(source, name, node.lineno, in_function))
    return found


def unit(name: str, package: str = "sim") -> str:
    """The folder a module belongs to, or the module's own name for a file at the top:
    ``sim.engine.step`` -> ``engine``, ``sim.model`` -> ``model``, ``sim`` -> ``sim``."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else package


def graph(edges: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """Adjacency sets from (source, target) pairs, self-loops dropped."""
    adjacency: dict[str, set[str]] = {}
    for source, target in edges:
        adjacency.setdefault(source, set())
        adjacency.setdefault(target, set())
        if source != target:
            adjacency[source].add(target)
    return adjacency


def cycles(adjacency: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan), each sorted:
    every import cycle lies inside one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(adjacency.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(adjacency):
        if node not in index:
            visit(node)
    return sorted(found)


def upward(edges: Iterable[tuple[str, str]], order: list[list[str]]) -> list[tuple[str, str]]:
    """The (source, target) unit pairs where a unit imports one on a later line of ``order``
    (a list of lines, ground first; units on one line may not import one another either, and
    a unit on no line is reported against itself)."""
    level = {name: i for i, line in enumerate(order) for name in line}
    wrong = []
    for source, target in sorted(set(edges)):
        if source == target:
            continue
        if source not in level or target not in level or level[target] >= level[source]:
            wrong.append((source, target))
    return wrong
