"""Data flows one way: nothing low imports anything high (see scalecheck/__init__.py)."""

import ast
from pathlib import Path

import scalecheck

PKG = Path(scalecheck.__file__).parent
# Lower number = lower layer. A module may import only from its own layer or lower ones.
LAYERS = {"errors": 0, "schema": 0, "progress": 0, "sources": 1, "evaluation": 1, "observations": 2, "laws": 3,
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
