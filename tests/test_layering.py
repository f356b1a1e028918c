"""Data flows one way: nothing low imports anything high (see scalecheck/__init__.py)."""

import ast
from pathlib import Path

import scalecheck

PKG = Path(scalecheck.__file__).parent
# Lower number = lower layer. A module may import only from its own layer or lower ones.
LAYERS = {"errors": 0, "schema": 0, "progress": 0, "tables": 0, "sources": 1, "evaluation": 1, "observations": 2, "laws": 3,
          "trends": 4, "backtest": 5, "sensitivity": 5, "inverse_scaling": 5, "report": 6, "cli": 7, "__init__": 8, "__main__": 8}


def layer_of(rel: Path) -> int:
    return LAYERS[rel.parts[0].removesuffix(".py")]


def test_no_upward_imports():
    bad = []
    for f in PKG.rglob("*.py"):
        rel = f.relative_to(PKG)
        if rel.parts[0].removesuffix(".py") not in LAYERS:
            bad.append(f"{rel}: package not assigned a layer in tests/test_layering.py")
            continue
        mine = layer_of(rel)
        for node in ast.walk(ast.parse(f.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom):
                if node.level == 0 and (node.module or "").startswith("scalecheck."):
                    targets = [node.module.split(".")[1]]
                elif node.level > 0:
                    depth = len(rel.parts) - node.level  # parts above the file itself
                    base = list(rel.parts[:depth]) if depth > 0 else []
                    mod = (node.module or "").split(".") if node.module else []
                    full = base + mod
                    if full:
                        targets = [full[0]]
                    else:
                        targets = [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name.split(".")[1] for a in node.names if a.name.startswith("scalecheck.")]
            for t in targets:
                t = t.removesuffix(".py")
                if t in LAYERS and LAYERS[t] > mine:
                    bad.append(f"{rel} imports {t}")
    assert not bad, bad


def _module_name(rel: Path) -> str:
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["scalecheck", *parts])


def _imports(f: Path) -> list[tuple[str, str, int]]:
    """(module imported from, name imported, line) for every scalecheck import in ``f`` (lazy ones too)."""
    rel = f.relative_to(PKG)
    me = _module_name(rel).split(".")
    package = me if rel.name == "__init__.py" else me[:-1]
    out = []
    for node in ast.walk(ast.parse(f.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "scalecheck":
                out.extend((target, a.name, node.lineno) for a in node.names)
        elif isinstance(node, ast.Import):
            out.extend((a.name, "", node.lineno) for a in node.names if a.name.split(".")[0] == "scalecheck")
    return out


def _is_module(name: str) -> bool:
    path = PKG.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def test_no_import_cycles_inside_a_package():
    """Modules of one package import each other one way (a package's own __init__ re-exports do not count)."""
    graph: dict[str, set[str]] = {}
    for f in PKG.rglob("*.py"):
        me = _module_name(f.relative_to(PKG))
        for target, name, _ in _imports(f):
            mod = f"{target}.{name}" if name and _is_module(f"{target}.{name}") else target
            same_package = mod.split(".")[:2] == me.split(".")[:2] and mod.count(".") >= 2
            if same_package and mod != me and not me.startswith(mod + "."):
                graph.setdefault(me, set()).add(mod)
    cycles, state, stack = [], {}, []

    def visit(u):
        state[u] = "open"
        stack.append(u)
        for v in sorted(graph.get(u, ())):
            if state.get(v) == "open":
                cycles.append(" -> ".join(stack[stack.index(v):] + [v]))
            elif v not in state:
                visit(v)
        stack.pop()
        state[u] = "done"

    for u in sorted(graph):
        if u not in state:
            visit(u)
    assert not cycles, cycles


def test_no_private_names_imported_across_modules():
    """A leading underscore means "this module's own": a helper another module needs is made public.

    A private *module* (``sources/_readers.py``, ``cli/_common.py``) is its package's own: importable from
    inside that package only."""
    bad = []
    for f in PKG.rglob("*.py"):
        rel = f.relative_to(PKG)
        me = _module_name(rel)
        for target, name, line in _imports(f):
            if name.startswith("_") and not name.startswith("__") and not _is_module(f"{target}.{name}"):
                bad.append(f"{rel}:{line} imports the private {name} from {target}")
            full = f"{target}.{name}" if name and _is_module(f"{target}.{name}") else target
            parts = full.split(".")
            for i, part in enumerate(parts):
                if part.startswith("_") and not part.startswith("__"):
                    owner = ".".join(parts[:i])  # the package the private module belongs to
                    if not (me == owner or me.startswith(owner + ".")):
                        bad.append(f"{rel}:{line} imports {full}, private to {owner}")
    assert not bad, bad


def test_one_did_you_mean():
    """Every "did you mean" goes through scalecheck.errors (one matcher, one cutoff): no module but errors.py
    calls difflib itself."""
    bad = [str(f.relative_to(PKG)) for f in PKG.rglob("*.py")
           if f.name != "errors.py" and "difflib" in {a.name for n in ast.walk(ast.parse(f.read_text()))
                                                     if isinstance(n, ast.Import) for a in n.names}
           | {n.module for n in ast.walk(ast.parse(f.read_text())) if isinstance(n, ast.ImportFrom)}]
    assert not bad, bad
