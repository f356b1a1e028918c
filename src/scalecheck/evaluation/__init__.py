"""Evaluation: score ladders of Hugging Face models on Inverse Scaling Prize task files.

Layer 1 (beside ``sources``): imports only errors, schema and sources. torch and transformers are imported
only when a model is loaded, so reading tasks and results needs neither.

    from scalecheck.evaluation import Evaluation, Setting, resolve_tasks
    from scalecheck.sources.ladder_file import read_ladder

    ev = Evaluation.run(read_ladder("ladder.yaml"), resolve_tasks(["memo-trap_classification.jsonl", "tasks/"]),
                        [Setting(shots=0), Setting(shots=5)], output="out/suite")
    print(ev.summary())
    tables = results_tables("out/suite")   # joins the testbed (scalecheck.schema.Tables)

Executors (:mod:`.executors`): local by default; ``executor=RayExecutor(address)`` from :mod:`.ray_executor`
runs one Ray actor per model across a cluster (``pip install 'scalecheck[ray]'``).
"""

from .backend import BackendStats, HFBackend, ModelSpec
from .executors import LocalExecutor
from .metrics import MetricSummary, example_metrics, summarise
from .plan import Setting
from .runner import Evaluation, ModelResult, PlanProgress, results_tables
from .store import ResultStore
from .tasks import FORMATS, PRIZE_TASKS, Example, Task, parse_classes, read_task, resolve_tasks

__all__ = ["BackendStats", "HFBackend", "ModelSpec", "MetricSummary", "example_metrics", "summarise",
           "Evaluation", "ModelResult", "PlanProgress", "Setting", "results_tables", "ResultStore", "FORMATS",
           "PRIZE_TASKS", "Example", "Task", "parse_classes", "read_task", "resolve_tasks", "LocalExecutor"]
