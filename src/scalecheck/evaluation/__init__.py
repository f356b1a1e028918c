"""Evaluation: score ladders of Hugging Face models on Inverse Scaling Prize task files.

Layer 1 (beside ``sources``): imports only errors, schema and sources. torch and transformers are imported
only when a model is loaded, so reading tasks and results needs neither.

    from scalecheck.evaluation import Evaluation, Setting, resolve_tasks
    from scalecheck.sources.ladder_file import read_ladder

    ev = Evaluation.run(read_ladder("ladder.yaml"), resolve_tasks(["memo-trap_classification.jsonl", "tasks/"]),
                        [Setting(shots=0), Setting(shots=5)], output="out/suite")
    print(ev.summary_text())                # ev.summary(): the same as a DataFrame
    tables = results_tables("out/suite")   # joins the testbed (scalecheck.schema.Tables)

Roles: :mod:`.models` (``ModelSpec``: a model's identity and load options), :mod:`.tasks` and :mod:`.plan` (what
is scored), :mod:`.backends` (the ``Scorer`` contract and its registry; ``hf`` the reference), :mod:`.executors`
(local by default; ``executor=RayExecutor(address)`` runs one Ray actor per model across a cluster, ``pip install
'scalecheck[ray]'``), :mod:`.driver` (``evaluate``: the event loop that alone writes the :mod:`.store`) and
:mod:`.result` (``Evaluation``: what it returns and writes).
"""

# Names are imported on first use (PEP 562): a Ray worker unpickling the actor class imports this package, and
# must not pay for pandas (result, driver) or the sources (about 1-2 s of CPU per worker on 2 cores, per model).
_LAZY = {
    "BackendStats": "backends", "Scorer": "backends", "check_backend": "backends", "make_backend": "backends",
    "register_backend": "backends", "HFBackend": "backends.hf", "ModelSpec": "models", "checkpoints": "models",
    "LocalExecutor": "executors", "RayExecutor": "executors", "EvaluationInterrupted": "driver",
    "model_result": "result",
    "MetricSummary": "metrics", "example_metrics": "metrics", "summarise": "metrics", "Setting": "plan",
    "Evaluation": "result", "ModelResult": "result", "results_tables": "result",
    "ResultStore": "store", "FORMATS": "tasks", "PRIZE_TASKS": "tasks", "Example": "tasks", "Task": "tasks",
    "parse_classes": "tasks", "read_task": "tasks", "resolve_tasks": "tasks",
}

__all__ = ["BackendStats", "Scorer", "check_backend", "make_backend", "register_backend", "HFBackend", "ModelSpec",
           "checkpoints", "RayExecutor", "EvaluationInterrupted", "MetricSummary", "example_metrics", "summarise",
           "Evaluation", "ModelResult", "Setting", "results_tables", "ResultStore", "FORMATS",
           "PRIZE_TASKS", "Example", "Task", "parse_classes", "read_task", "resolve_tasks", "LocalExecutor"]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
