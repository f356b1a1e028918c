"""Facts about lm-evaluation-harness tasks that result files do not carry: chance levels and directions.

Used by the importers of harness output (``pythia`` for v0.3, ``lm-eval`` for 0.4).
"""

from __future__ import annotations

# Chance accuracy = 1 / number of answer options, for multiple-choice tasks whose options are fixed.
# lambada is open-vocabulary next-word prediction (chance ~0). Tasks not listed have no known chance level
# (or, like ARC's few 3- and 5-option questions, are close enough to the listed value).
KNOWN_CHANCE: dict[str, float] = {
    "piqa": 0.5, "winogrande": 0.5, "wsc": 0.5, "wsc273": 0.5, "boolq": 0.5, "copa": 0.5, "rte": 0.5,
    "arc_easy": 0.25, "arc_challenge": 0.25, "sciq": 0.25, "logiqa": 0.25, "hellaswag": 0.25, "openbookqa": 0.25,
    "mmlu": 0.25, "lambada_openai": 0.0, "lambada_standard": 0.0,
}
# MMLU subjects are four-way: "hendrycksTest-<subject>" in harness v0.3, "mmlu_<subject>" in 0.4.
FOUR_WAY_PREFIXES = ("hendrycksTest-", "mmlu_")
ACCURACY_METRICS = frozenset({"acc", "acc_norm", "acc_mutual_info"})
# Means of per-example 0/1 outcomes: for these (only) the number of examples gives binomial noise, so
# importers set a score's n_examples for them and leave it empty for perplexities, bits per byte, BLEU ...
PROPORTION_METRICS = ACCURACY_METRICS | {"exact_match", "em", "pass@1", "pct_stereotype", "inst_level_acc"}
# Metrics whose direction is fixed whatever the task; the harness's own higher_is_better wins where given.
LOWER_IS_BETTER = frozenset({"perplexity", "ppl", "word_perplexity", "byte_perplexity", "bits_per_byte",
                             "likelihood_difference", "ter"})
HIGHER_IS_BETTER = frozenset({"acc", "acc_norm", "acc_mutual_info", "exact_match", "f1", "mcc", "bleu", "chrf",
                              "em", "pass@1", "mc1", "mc2"})


def task_chance(task: str) -> float | None:
    """The chance accuracy of ``task`` if it is a known fixed-option or open-vocabulary task, else None."""
    if task in KNOWN_CHANCE:
        return KNOWN_CHANCE[task]
    if task.startswith(FOUR_WAY_PREFIXES):
        return 0.25
    return None


def metric_direction(metric: str) -> bool | None:
    """True if higher is better, False if lower is, None if unknown."""
    if metric in LOWER_IS_BETTER:
        return False
    if metric in HIGHER_IS_BETTER:
        return True
    return None
