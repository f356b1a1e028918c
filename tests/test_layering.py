"""Data flows one way: nothing low imports anything high (see scalecheck/__init__.py)."""

import ast
from pathlib import Path

import pytest

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


# --- one front door and one result surface ----------------------------------------------------------------------
# Each public analysis function takes what is analysed as a Selection (``selection=``); its other keywords are
# shortcuts. How each is called here beside the selection, and the testbed it runs on.
ANALYSES = {
    "reality_check": ("scalecheck.trends", "small_testbed", {}),
    "backtest": ("scalecheck.backtest", "small_testbed", {"scheme": "holdout"}),
    "sensitivity": ("scalecheck.sensitivity", "small_testbed", {}),
    "inverse_scaling": ("scalecheck.inverse_scaling", "small_testbed", {}),
    "ladder_prediction": ("scalecheck.backtest", "small_ladder", {"n_boot": 0}),
}
ANALYSIS_PACKAGES = ("scalecheck.trends", "scalecheck.backtest", "scalecheck.sensitivity", "scalecheck.inverse_scaling")


@pytest.fixture(scope="module")
def small_testbed():
    from scalecheck.backtest.synthetic import exponential_accuracy, synthetic_testbed

    return synthetic_testbed({"rising": exponential_accuracy, "also_rising": exponential_accuracy},
                             corpora=("a", "b"), seed=3, holdout_sizes=(3e9,))


@pytest.fixture(scope="module")
def small_ladder():
    """A two-step ladder: 3 sizes x 2 token budgets, 4 checkpoints a run, and a larger target run; tasks t and u,
    each with a task loss (bpb) and an accuracy, in the paper's setting (5-shot, rc)."""
    import numpy as np
    import pandas as pd

    from scalecheck import Testbed
    from scalecheck.backtest.synthetic import chinchilla_loss

    rng = np.random.default_rng(0)
    models, scores = [], []
    runs = [(f"{n:.0e}-{m}x", n, 20 * n * m, False) for n in (2e8, 4e8, 8e8) for m in (1, 2)]
    for run, n, d_final, holdout in [*runs, ("target", 4e9, 20 * 4e9, True)]:
        for i in range(1, 5):
            bpb = 0.5 * float(chinchilla_loss(n, d_final * i / 4)) - 0.6 + rng.normal(0, 0.003)
            acc = 0.25 + 0.75 / (1 + np.exp(8.0 * (bpb - 0.6)))
            models.append({"model": f"{run}@{i}", "source": "synthetic", "family": "toy", "params": n,
                           "tokens": d_final * i / 4, "run": run, "step": i, "holdout": holdout})
            scores += [{"model": f"{run}@{i}", "task": task, "metric": metric, "value": v, "shots": 5,
                        "variant": "rc", "higher_is_better": metric == "acc"}
                       for task in ("t", "u") for metric, v in (("bpb", bpb), ("acc", acc))]
    return Testbed.build(pd.DataFrame(models), pd.DataFrame(scores),
                         pd.DataFrame({"task": ["t", "u"], "metric": ["acc", "acc"], "shots": [5, 5]}))


def _run(name, request, selection, **more):
    import importlib

    module, testbed, keywords = ANALYSES[name]
    fn = getattr(importlib.import_module(module), name)
    data = request.getfixturevalue(testbed)
    if name == "ladder_prediction":
        train = sorted(r for r in data.models["run"].unique() if r != "target")
        return fn(data, train, {"big": ["target"]}, selection=selection, **keywords, **more)
    return fn(data, selection=selection, **keywords, **more)


def test_every_public_analysis_function_is_checked():
    """Every function an analysis package exports that returns an analysis result (a type with ``summary`` and
    ``write``) is in ANALYSES, so a new analysis cannot skip the checks below."""
    import importlib
    import inspect

    found = set()
    for package in ANALYSIS_PACKAGES:
        mod = importlib.import_module(package)
        for name in mod.__all__:
            fn = getattr(mod, name)
            if not inspect.isfunction(fn):
                continue
            returned = inspect.signature(fn).return_annotation
            cls = getattr(importlib.import_module(fn.__module__), returned, None) if isinstance(returned, str) \
                else returned
            if inspect.isclass(cls) and hasattr(cls, "summary") and hasattr(cls, "write"):
                found.add(name)
    assert found == set(ANALYSES)


@pytest.mark.parametrize("name", sorted(ANALYSES))
def test_every_public_analysis_function_accepts_a_selection(name, request):
    """Each analysis takes ``selection=`` and analyses what it picks: one task of two, here."""
    import importlib
    import inspect

    from scalecheck.observations import Selection

    fn = getattr(importlib.import_module(ANALYSES[name][0]), name)
    assert "selection" in inspect.signature(fn).parameters, f"{name} takes no selection="
    task = "t" if ANALYSES[name][1] == "small_ladder" else "rising"
    sel = Selection(tasks=(task,), x="params") if name == "inverse_scaling" else Selection(tasks=(task,))
    result = _run(name, request, sel)
    assert set(result.frame()["task"]) == {task}, f"{name} did not analyse the selection's task alone"


def _result_makers():
    """Result type -> a function (pytest's request, tmp_path) -> a small one. Every type in src/ with a
    ``summary`` (or ``write``) method is here or in NOT_RESULTS."""
    import json

    import numpy as np

    from scalecheck.observations import Selection

    def law(request, tmp_path):
        from scalecheck.laws import fit

        x = np.linspace(2.5, 5.0, 12)
        return fit(x, 8 * np.exp(-1.2 * x) + 0.25 + np.random.default_rng(1).normal(0, 0.01, 12), "exponential")

    def chain(request, tmp_path):
        from scalecheck.laws import fit, fit_chain

        x = np.linspace(1.0, 2.0, 10)
        return fit_chain(fit(x, 5.5 - x, "linear"), law(request, tmp_path))

    def verdict(request, tmp_path):
        from scalecheck.trends import classify

        return classify(request.getfixturevalue("small_testbed").series("rising", "c4_val"))

    def evaluation(request, tmp_path):
        # Built from its parts (scoring a model is tests/evaluation's business): one model, one task, one setting.
        from scalecheck.evaluation import Evaluation, Setting, read_task
        from scalecheck.evaluation.metrics import MetricSummary
        from scalecheck.evaluation.result import ModelResult
        from scalecheck.sources.ladder_file import LadderModel

        path = tmp_path / "t_classification.jsonl"
        path.write_text(json.dumps({"prompt": "a b:", "classes": [" x", " y"], "answer_index": 0}) + "\n")
        task = read_task(path)
        r = ModelResult(LadderModel(name="tiny", params=1e6), "key", task, Setting(0), ({"correct": True},),
                        (MetricSummary("acc", 1.0, 0.0, 1, 0.5, True),))
        return Evaluation((task,), (Setting(0),), (r,))

    def analysis(name, **keywords):
        return lambda request, tmp_path: _run(name, request, Selection(**keywords))

    return {"LawFit": law, "ChainFit": chain, "Verdict": verdict, "Evaluation": evaluation,
            "RealityCheck": analysis("reality_check", by="corpus"), "Backtest": analysis("backtest"),
            "Sensitivity": analysis("sensitivity", by="corpus"),
            "InverseScaling": analysis("inverse_scaling", x="params"),
            "LadderPrediction": analysis("ladder_prediction", tasks=("t",))}


RESULT_TYPES = sorted(_result_makers())
# Types with a summary() or write() that are not analysis results, and where they are checked.
NOT_RESULTS = {"Testbed": "the data, not a result: test_the_testbed_summarises_as_a_frame",
               "Report": "an HTML page (report/html.py): write(path) writes that one page"}


def test_every_result_type_is_checked():
    """Every class in src/ that defines ``summary`` or ``write`` is a result type checked below (or named in
    NOT_RESULTS), so a new result cannot skip the shared surface."""
    found = {node.name for f in PKG.rglob("*.py") for node in ast.walk(ast.parse(f.read_text()))
             if isinstance(node, ast.ClassDef)
             and any(isinstance(b, ast.FunctionDef) and b.name in ("summary", "write") for b in node.body)}
    assert found == set(RESULT_TYPES) | set(NOT_RESULTS)


@pytest.mark.parametrize("name", RESULT_TYPES)
def test_every_result_summarises_as_a_frame_and_writes_report_files(name, request, tmp_path):
    """Results are frozen and share one surface: summary() a DataFrame, write(dir) a ReportFiles."""
    import pandas as pd

    from scalecheck.tables import ReportFiles

    result = _result_makers()[name](request, tmp_path)
    assert type(result).__name__ == name
    assert type(result).__dataclass_params__.frozen, f"{name} is not a frozen dataclass"
    summary = result.summary()
    assert isinstance(summary, pd.DataFrame) and len(summary), f"{name}.summary() is not a DataFrame with rows"
    if hasattr(result, "write"):
        files = result.write(tmp_path / "out")
        assert isinstance(files, ReportFiles), f"{name}.write() returns {type(files).__name__}, not ReportFiles"
        assert files.tables and all(p.is_file() for p in files.paths)
    else:  # a fit or a verdict: its text is str(), the table is summary()
        assert str(result) and str(result) != repr(result)


def test_figures_reach_disk_one_way():
    """Every figure file is written by report.figures.write_figures (named by figure_stems): no module saves a
    matplotlib figure itself, and no other report or command module writes bytes to disk."""
    bad = []
    for f in PKG.rglob("*.py"):
        rel = f.relative_to(PKG)
        if rel == Path("report/figures.py"):
            continue
        writers = ("savefig", "write_bytes") if rel.parts[0] in ("report", "cli") else ("savefig",)
        bad += [f"{rel}:{n.lineno}" for n in ast.walk(ast.parse(f.read_text()))
                if isinstance(n, ast.Attribute) and n.attr in writers]
    assert not bad, bad


def test_the_testbed_summarises_as_a_frame(small_testbed):
    import pandas as pd

    s = small_testbed.summary()
    assert isinstance(s, pd.DataFrame) and set(s["corpus"]) == {"a", "b"} and s["models"].sum() == len(
        small_testbed.models)
