"""Evaluation: score ladders of Hugging Face models on Inverse Scaling Prize task files.

Layer 1 (beside ``sources``): imports only errors, schema and sources. torch and transformers are imported
only when a model is loaded, so reading tasks and results needs neither.

    from scalecheck.evaluation import Evaluation, Setting, read_task
    from scalecheck.sources.ladder_file import read_ladder

    ev = Evaluation.run(read_ladder("ladder.yaml"), read_task("memo-trap_classification.jsonl"),
                        Setting(shots=5), output="out/memo-trap-5shot")
    print(ev.summary())
    tables = results_tables("out/memo-trap-5shot")   # joins the testbed (scalecheck.schema.Tables)
"""

from .backend import BackendStats, HFBackend, ModelSpec
from .metrics import MetricSummary, example_metrics, summarise
from .runner import Evaluation, ModelResult, Setting, results_tables
from .store import ResultStore
from .tasks import FORMATS, Example, Task, parse_classes, read_task

__all__ = ["BackendStats", "HFBackend", "ModelSpec", "MetricSummary", "example_metrics", "summarise",
           "Evaluation", "ModelResult", "Setting", "results_tables", "ResultStore", "FORMATS", "Example", "Task",
           "parse_classes", "read_task"]
