"""The package's layers stay honest: imports only go down, no circles, a light public face.

Layers, lowest first (README, "Layout"): a module may import modules of its own
layer or of a lower one, never of a higher one. The rule is read from the
import graph of the source (every ``import`` and ``from … import``, also inside
functions; imports under ``if TYPE_CHECKING:`` are annotations only and exempt).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

import sim

PACKAGE = Path(sim.__file__).resolve().parent

# (layer name, module prefixes) from the bottom up.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("core", ("sim.core", "sim.resources", "sim.data")),
    ("config", ("sim.schema", "sim.config", "sim.paramsets")),
    ("results", ("sim.results", "sim.identity", "sim.runner")),
    ("viz", ("sim.viz",)),
    ("analysis", ("sim.analysis",)),
    ("app", ("sim.app",)),
    ("cli", ("sim.cli", "sim.__main__")),
)
# The public face (sim/__init__.py) re-exports the run API and the model lazily.
FACE_MAY_IMPORT = "results"
# Third-party packages the model core must not import (a notebook uses it alone).
CORE_FORBIDDEN = ("hydra", "omegaconf", "matplotlib", "scipy", "solara", "sim.viz")
HEAVY = ("hydra", "matplotlib", "solara", "scipy")


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(module: str) -> int | None:
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    return None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, module: str) -> set[str]:
    """Absolute names of every module ``path`` imports outside TYPE_CHECKING blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            found.add(base)
            # ``from sim.viz import maps`` imports the module sim.viz.maps.
            found.update(f"{base}.{a.name}" for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    g = nx.DiGraph()
    for name, path in modules.items():
        g.add_node(name)
        for target in _imports(path, name):
            if target in modules and target != name:
                g.add_edge(name, target)
            elif not target.startswith("sim"):
                g.nodes[name].setdefault("external", set()).add(target)
    return g


def test_every_module_belongs_to_a_layer(graph):
    orphans = sorted(m for m in graph if m != "sim" and _layer(m) is None)
    assert not orphans, f"modules outside every layer (add them to LAYERS, README): {orphans}"


def test_no_module_imports_from_a_layer_above_it(graph):
    face = [name for name, _ in LAYERS].index(FACE_MAY_IMPORT)
    bad = []
    for src, dst in graph.edges:
        lo = face if src == "sim" else _layer(src)
        hi = _layer(dst)
        if lo is not None and hi is not None and hi > lo:
            bad.append(f"{src} ({LAYERS[lo][0]}) imports {dst} ({LAYERS[hi][0]})")
    assert not bad, "imports from a higher layer:\n" + "\n".join(sorted(bad))


def test_no_import_cycles(graph):
    # The package itself (sim/__init__.py) is the public face and only re-exports.
    inner = graph.subgraph(m for m in graph if m != "sim" and not m.endswith("__init__"))
    cycles = list(nx.simple_cycles(inner))
    assert not cycles, f"import cycles: {cycles}"


def test_core_imports_no_framework(graph):
    bad = []
    for name, data in graph.nodes(data=True):
        if _layer(name) != 0:
            continue
        external = data.get("external", set()) | {d for d in graph.successors(name)}
        for target in external:
            if any(target == f or target.startswith(f + ".") for f in CORE_FORBIDDEN):
                bad.append(f"{name} imports {target}")
    assert not bad, "\n".join(sorted(bad))


def test_no_private_names_of_other_modules(graph):
    """``from sim.x import _helper`` across modules is a leak of an internal."""
    bad = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sim"):
                bad += [f"{_module_name(path)}: {node.module}.{a.name}"
                        for a in node.names if a.name.startswith("_")]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("statement", ["import sim", "import sim.core",
                                       "import sim; sim.Params; sim.ConfigError"])
def test_public_face_is_light(statement):
    code = (f"{statement}\nimport sys\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", f"{statement!r} loaded {out.stdout.strip()}"


def test_public_face_names():
    assert set(sim.__all__) == {"run", "ScamModel", "Params", "ConfigError", "RunResult"}
    for name in sim.__all__:
        assert getattr(sim, name) is not None
