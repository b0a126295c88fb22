"""Stairs one way: sim/'s imports form no cycle and never reach up (issue 19, item 2).

The package is read from its source (tests/layering.py): every import counts, at the top of a
file or inside a function, except those under ``if TYPE_CHECKING:``, which never run. Three
rules hold:

- no two files, and no two folders, import each other, directly or round a longer circle;
- a folder imports only the folders on the lines below it in :data:`LAYERS` (the order of the
  architecture, ground first);
- a file imports the project at its top, never inside a function, and imports a library inside
  a function only if it is one of :data:`HEAVY`.

Each rule is also shown failing on a planted violation, so none of them passes by accident.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from layering import Import, cycles, graph, imports, unit, upward

SIM = Path(__file__).resolve().parent.parent / "sim"

LAYERS: list[list[str]] = [
    ["sim"],  # sim/__init__.py: the version and a lazy public API (imports nothing of sim)
    ["errors"],
    ["limits"],
    ["scenario"],
    ["engine"],
    ["uncertainty"],
    ["batch"],
    ["outputs"],
    ["model"],
    ["sweep"],
    ["whatif"],
    ["decide"],
    ["history"],
    ["app"],
    ["cli"],
    ["__main__"],
]
"""sim/'s folders (and top-level files) from the ground up: a line may import only the lines
before it (the layout of the architecture, scenario < engine < ... < cli)."""

HEAVY = {
    "pymoo": "the policy search's optimiser (decide extra)",
    "ema_workbench": "PRIM for sim discover (decide extra)",
    "torch": "neural posterior estimation for sim calibrate --crosscheck (crosscheck extra)",
    "sbi": "neural posterior estimation for sim calibrate --crosscheck (crosscheck extra)",
    "solara": "the dashboard (dashboard extra)",
    "dask": "a cluster executor (dask extra)",
    "distributed": "a cluster executor (dask extra)",
    "SALib": "Sobol and Morris designs and analyses, only for those sweeps",
    "matplotlib": "figures: loading pyplot is most of what a `sim run --no-plot` would add",
    "scipy": "distributions of an uncertainty FILE: `sim run` without one never draws",
}
"""Libraries a file may import inside a function, because loading them costs a command that
does not use them; every other import sits at the top of its file."""


def project(found: list[Import], package: str = "sim") -> list[Import]:
    return [i for i in found if i.target == package or i.target.startswith(package + ".")]


def problems(found: list[Import], order: list[list[str]], package: str = "sim") -> list[str]:
    """Every breach of the three rules, in words (empty when the stairs run one way)."""
    own = project(found, package)
    said = []
    files = graph((i.source, i.target) for i in own)
    for circle in cycles(files):
        said.append(f"files import one another in a circle: {', '.join(circle)}")
    pairs = [(unit(i.source, package), unit(i.target, package)) for i in own]
    for circle in cycles(graph(pairs)):
        said.append(f"folders import one another in a circle: {', '.join(circle)}")
    for source, target in upward(pairs, order):
        where = [f"{i.source}:{i.line}" for i in own
                 if (unit(i.source, package), unit(i.target, package)) == (source, target)]
        said.append(f"{source} imports {target}, which is not below it ({', '.join(where)})")
    for i in found:
        if i.in_function and (i in own or i.target not in HEAVY):
            said.append(f"{i.source}:{i.line} imports {i.target} inside a function; move it "
                        "to the top of the file")
    return said


def test_sim_imports_run_one_way():
    found = imports(SIM)
    assert len(project(found)) > 100  # the reader sees the package (not an empty folder)
    assert problems(found, LAYERS) == []


def test_every_folder_of_sim_has_its_place():
    units = {unit(name) for name in (i.source for i in imports(SIM))}
    placed = {name for line in LAYERS for name in line}
    assert units <= placed, f"not in LAYERS: {sorted(units - placed)}"


def plant(tmp_path: Path, files: dict[str, str]) -> Path:
    """A package ``pkg`` holding ``files`` (path inside the package -> source)."""
    root = tmp_path / "pkg"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    for folder in [root, *[p for p in root.rglob("*") if p.is_dir()]]:
        (folder / "__init__.py").touch()
    return root


TOY_ORDER = [["pkg"], ["low"], ["high"]]
GOOD = {
    "low/a.py": "import json\n",
    "low/b.py": "from pkg.low import a\n",
    "high/c.py": """
        from typing import TYPE_CHECKING

        from pkg.low.b import a

        if TYPE_CHECKING:
            from pkg.high.d import D  # type-only: never runs

        def f():
            import scipy  # heavy: allowed in a function
    """,
    "high/d.py": "from pkg.high import c\nD = 1\n",
}


def toy_problems(tmp_path: Path, files: dict[str, str]) -> list[str]:
    return problems(imports(plant(tmp_path, files)), TOY_ORDER, package="pkg")


def test_a_clean_toy_package_passes(tmp_path):
    assert toy_problems(tmp_path, GOOD) == []


@pytest.mark.parametrize("name,change,expected", [
    ("file cycle", {"low/a.py": "from pkg.low import b\n"},
     "files import one another in a circle: pkg.low.a, pkg.low.b"),
    ("longer circle through a function", {"low/a.py": "def f():\n    from pkg.high import d\n"},
     "folders import one another in a circle: high, low"),
    ("upward import", {"low/a.py": "from pkg.high.d import D\n"},
     "low imports high, which is not below it (pkg.low.a:1)"),
    ("relative upward import", {"low/a.py": "from ..high import d\n"},
     "low imports high, which is not below it (pkg.low.a:1)"),
    ("folder left out of the order", {"side/e.py": "from pkg.low import a\n"},
     "side imports low, which is not below it (pkg.side.e:1)"),
    ("project import in a function", {"high/d.py": "def f():\n    from pkg.low import a\n"},
     "pkg.high.d:2 imports pkg.low.a inside a function; move it to the top of the file"),
    ("light library in a function", {"low/a.py": "def f():\n    import json\n"},
     "pkg.low.a:2 imports json inside a function; move it to the top of the file"),
])
def test_each_rule_fails_on_a_planted_breach(tmp_path, name, change, expected):
    found = toy_problems(tmp_path, {**GOOD, **change})
    assert expected in found, found


def test_type_checking_else_branch_runs_and_counts(tmp_path):
    files = {**GOOD, "low/a.py": """
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            pass
        else:
            from pkg.low import b
    """}
    assert "files import one another in a circle: pkg.low.a, pkg.low.b" in \
        toy_problems(tmp_path, files)
