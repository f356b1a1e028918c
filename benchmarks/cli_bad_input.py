"""Bad input against every command: each probe must end in one line on stderr and exit status 2.

Runs each probe as a user would (a fresh `python -m scalecheck.cli ...`, the same code as the installed
`scalecheck` script) in a scratch folder, and classifies the outcome:

  one_line_exit_2     exit 2, exactly one line on stderr, no traceback (what every probe must give)
  tracebacks          a Python traceback on stderr
  silently_accepted   exit 0: the bad input was taken (a wrong or empty result)
  other               any other exit, several lines, or the time limit

Probes are kinds of bad input (a file that breaks a rule, a flag out of range, a flag combination that would be
ignored, an output path that cannot be written) crossed with every command that takes that input: the testbed
files go to `show`, `reality-check`, `backtest`, `sensitivity`, `inverse-scaling` and `import csv`. Every
non-conforming probe is listed, then the final JSON line:
{"probes": N, "one_line_exit_2": N, "tracebacks": 0, "silently_accepted": 0, "other": 0, "kinds": K, ...}.

    python benchmarks/cli_bad_input.py [--workers 2] [--only SUBSTRING]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANALYSES = ("reality-check", "backtest", "sensitivity", "inverse-scaling")
TESTBED_COMMANDS = ("show", *ANALYSES, "import")
TIME_LIMIT_S = 300

HEADER = "model,task,metric,value,stderr,n_examples,chance,shots,family,corpus,params,tokens,holdout,loss_val"


def good_rows() -> list[str]:
    """A small valid testbed: 6 models of one family on two tasks (the probes break one thing in it)."""
    rows = []
    for i in range(6):
        params = 10 ** (7 + i * 0.5)
        for task, base in (("qa", 0.3), ("memo", 0.9)):
            value = base + (0.08 if task == "qa" else -0.06) * i
            holdout = "true" if i == 5 else "false"
            rows.append(f"m{i},{task},accuracy,{value:.3f},0.01,1000,0.25,0,fam,web,{params:.4g},{20 * params:.4g},"
                        f"{holdout},{4 - 0.3 * i:.2f}")
    return rows


def edit(line: int, column: str, value: str) -> list[str]:
    """The good rows with one field of one data line (2 = the first) replaced."""
    rows = good_rows()
    cols = HEADER.split(",")
    fields = rows[line - 2].split(",")
    fields[cols.index(column)] = value
    rows[line - 2] = ",".join(fields)
    return rows


def csv_text(rows: list[str], header: str = HEADER) -> str:
    return header + "\n" + "\n".join(rows) + "\n"


# Kinds of bad testbed file: name -> file content (bytes or text) and its suffix.
def bad_files() -> dict[str, tuple[bytes | str, str]]:
    good = good_rows()
    return {
        "value text": (csv_text(edit(3, "value", "oops")), ".csv"),
        "value NaN": (csv_text(edit(3, "value", "nan")), ".csv"),
        "value inf": (csv_text(edit(3, "value", "inf")), ".csv"),
        "accuracy 1.5": (csv_text(edit(3, "value", "1.5")), ".csv"),
        "accuracy -0.2": (csv_text(edit(3, "value", "-0.2")), ".csv"),
        "accuracy 1e308": (csv_text(edit(3, "value", "1e308")), ".csv"),
        "accuracy in percent": (csv_text(edit(4, "value", "85.3")), ".csv"),
        "chance 7": (csv_text(edit(2, "chance", "7")), ".csv"),
        "chance differs within a task": (csv_text(edit(4, "chance", "0.5")), ".csv"),
        "stderr negative": (csv_text(edit(3, "stderr", "-0.1")), ".csv"),
        "stderr inf": (csv_text(edit(3, "stderr", "inf")), ".csv"),
        "n_examples negative": (csv_text(edit(3, "n_examples", "-10")), ".csv"),
        "n_examples fractional": (csv_text(edit(3, "n_examples", "0.5")), ".csv"),
        "params negative": (csv_text([r.replace("1e+07,", "-1e+07,") if r.startswith("m0,") else r for r in good]),
                            ".csv"),
        "params overflow": (csv_text([r.replace("1e+07,", "1e400,") if r.startswith("m0,") else r for r in good]),
                            ".csv"),
        "tokens zero": (csv_text([r.replace("2e+08,", "0,") if r.startswith("m0,") else r for r in good]), ".csv"),
        "loss negative": (csv_text([r.replace(",4.00", ",-4.00") if r.startswith("m0,") else r for r in good]),
                          ".csv"),
        "model metadata conflict": (csv_text(edit(3, "family", "other")), ".csv"),
        "duplicate score": (csv_text(good + [good[0].replace(",0.300,", ",0.310,")]), ".csv"),
        "missing value column": (csv_text([r.split(",", 3)[0] + "," + ",".join(r.split(",")[1:3]) for r in good],
                                          "model,task,metric"), ".csv"),
        "unknown column": (csv_text([r + ",x" for r in good], HEADER + ",colour"), ".csv"),
        "empty file": ("", ".csv"),
        "header only": (HEADER + "\n", ".csv"),
        "not UTF-8": ((csv_text(good[:2]) + "m9,qa,accuracy,0.5,0.01,1000,0.25,0,f\xe9m,web,1e9,2e10,false,3.0\n")
                      .encode("latin-1"), ".csv"),
        "unclosed quote": (csv_text(good[:3] + ['m9,"qa,accuracy,0.5']), ".csv"),
        "extra fields": (csv_text(good[:3] + [good[3] + ",1,2,3"]), ".csv"),
        "missing task name": (csv_text(edit(3, "task", "")), ".csv"),
        "shots fractional": (csv_text(edit(3, "shots", "1.5")), ".csv"),
        "higher_is_better maybe": (csv_text([r + ",maybe" for r in good], HEADER + ",higher_is_better"), ".csv"),
        "holdout perhaps": (csv_text(edit(3, "holdout", "perhaps")), ".csv"),
        "shell script": ("#!/bin/sh\necho hi\n", ".sh"),
        "corrupt parquet": (b"PAR1\x00\x01garbage" * 10, ".parquet"),
    }


@dataclass(frozen=True)
class Probe:
    kind: str
    argv: tuple[str, ...]


def testbed_probe(kind: str, command: str, path: str) -> Probe:
    if command == "import":
        return Probe(kind, ("import", "csv", path, "-o", "imported.parquet"))
    if command == "show":
        return Probe(kind, ("show", path))
    return Probe(kind, (command, path, "-o", f"out-{command}"))


def probes(work: Path) -> list[Probe]:
    out: list[Probe] = []
    for i, (kind, (content, suffix)) in enumerate(bad_files().items()):
        path = work / f"bad{i:02d}{suffix}"
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        out.extend(testbed_probe(kind, c, path.name) for c in TESTBED_COMMANDS)

    good = work / "good.csv"
    good.write_text(csv_text(good_rows()))
    (work / "empty-folder").mkdir()
    (work / "a-file").write_text("not a folder\n")
    (work / "no-holdouts.csv").write_text(csv_text([r.replace(",true,", ",false,") for r in good_rows()]))
    (work / "broken.yaml").write_text("models: [\n  - name: a\n")
    (work / "ladder.yaml").write_text("models:\n  - name: m5\n    holdout: true\n")
    (work / "task.jsonl").write_text('{"prompt": "Q", "classes": [" a", " b"], "answer_index": 0}\n')
    (work / "task2.jsonl").write_text('{"prompt": "R", "classes": [" c", " d"], "answer_index": 1}\n')
    (work / "bad-task.jsonl").write_text('{"prompt": "Q", "classes": [" a", " b"], "answer_index": 7}\n')

    for command in TESTBED_COMMANDS:
        if command == "import":
            out.append(Probe("a folder instead of a file", ("import", "csv", "empty-folder", "-o", "x.parquet")))
            out.append(Probe("missing file", ("import", "csv", "nope.csv", "-o", "x.parquet")))
        else:
            out.append(testbed_probe("a folder instead of a file", command, "empty-folder"))
            out.append(testbed_probe("missing file or unknown built-in name", command, "gadre2042"))
    tasks = {"reality-check": "qa", "backtest": "qa", "sensitivity": "qa", "inverse-scaling": "memo"}
    for command in ANALYSES:
        base = (command, "good.csv", "--tasks", tasks[command])
        out += [
            Probe("unknown --x", (*base, "--x", "nope", "-o", "o")),
            Probe("unknown --by column", (*base, "--by", "colour", "-o", "o")),
            Probe("unknown task", (command, "good.csv", "--tasks", "nope", "-o", "o")),
            Probe("unknown metric", (*base, "--metric", "acuracy", "-o", "o")),
            Probe("metric list with a typo", (*base, "--metric", "accuracy,nope", "-o", "o")),
            Probe("unknown shot count", (*base, "--shots", "7", "-o", "o")),
            Probe("shots not a number", (*base, "--shots", "five", "-o", "o")),
            Probe("unknown variant", (*base, "--variant", "mc", "-o", "o")),
            Probe("unknown --checkpoints", (*base, "--checkpoints", "some", "-o", "o")),
            Probe("seed not a number", (*base, "--seed", "x", "-o", "o")),
            Probe("unknown option", (*base, "--colour", "red", "-o", "o")),
            Probe("unwritable output folder", (*base, "-o", "a-file/out")),
            Probe("output is an existing file", (*base, "-o", "good.csv")),
        ]
    for command in ("backtest", "sensitivity"):
        base = (command, "good.csv", "--tasks", "qa")
        out += [Probe("--level above 1", (*base, "--level", "1.5", "-o", "o")),
                Probe("--level 0", (*base, "--level", "0", "-o", "o"))]
    bt = ("backtest", "good.csv", "--tasks", "qa")
    out += [
        Probe("--n-boot negative", (*bt, "--n-boot", "-5", "-o", "o")),
        Probe("--n-boot huge", (*bt, "--n-boot", "100000000", "-o", "o")),
        Probe("unknown form", (*bt, "--form", "cubic", "-o", "o")),
        Probe("unknown scheme", (*bt, "--scheme", "random", "-o", "o")),
        Probe("--holdout without --scheme holdout", (*bt, "--holdout", "ladder.yaml", "-o", "o")),
        Probe("--scheme holdout without hold-outs", ("backtest", "no-holdouts.csv", "--scheme", "holdout", "-o", "o")),
        Probe("--holdout missing file", (*bt, "--scheme", "holdout", "--holdout", "nope.yaml", "-o", "o")),
        Probe("--holdout broken YAML", (*bt, "--scheme", "holdout", "--holdout", "broken.yaml", "-o", "o")),
        Probe("--factors corpus with --by none", ("sensitivity", "good.csv", "--tasks", "qa", "--by", "none",
                                                  "--factors", "corpus", "-o", "o")),
        Probe("unknown --xs", ("sensitivity", "good.csv", "--tasks", "qa", "--xs", "nope", "-o", "o")),
        Probe("unknown factor", ("sensitivity", "good.csv", "--factors", "weather", "-o", "o")),
        Probe("--alpha above 1", ("inverse-scaling", "good.csv", "--alpha", "2", "-o", "o")),
        Probe("--alpha negative", ("inverse-scaling", "good.csv", "--alpha", "-0.1", "-o", "o")),
        Probe("unknown correction", ("inverse-scaling", "good.csv", "--correction", "bonferroni", "-o", "o")),
        Probe("--level where there is none", ("reality-check", "good.csv", "--level", "0.9", "-o", "o")),
        Probe("unknown source", ("import", "pythai", "x", "-o", "x.parquet")),
        Probe("a file where a folder is read", ("import", "gadre2024", "good.csv", "-o", "x.parquet")),
        Probe("output is a folder", ("import", "csv", "good.csv", "-o", "empty-folder")),
        Probe("output type unknown", ("import", "csv", "good.csv", "-o", "x.xlsx")),
        Probe("unwritable output folder", ("import", "csv", "good.csv", "-o", "a-file/x.parquet")),
        Probe("unknown command", ("reality-chek",)),
        Probe("unknown ladder", ("ladders", "pyhtia")),
        Probe("unknown option", ("sources", "--all")),
        # evaluate: everything here is refused before a model loads.
        Probe("unwritable output folder", ("evaluate", "--model", "m", "--task", "task.jsonl", "-o", "a-file/o")),
        Probe("output is an existing file", ("evaluate", "--model", "m", "--task", "task.jsonl", "-o", "good.csv")),
        Probe("missing task file", ("evaluate", "--model", "m", "--task", "nope.jsonl", "-o", "o")),
        Probe("bad task row", ("evaluate", "--model", "m", "--task", "bad-task.jsonl", "-o", "o")),
        Probe("negative shots", ("evaluate", "--model", "m", "--task", "task.jsonl", "--shots", "-1", "-o", "o")),
        Probe("--chunk 0", ("evaluate", "--model", "m", "--task", "task.jsonl", "--chunk", "0", "-o", "o")),
        Probe("--threads 0", ("evaluate", "--model", "m", "--task", "task.jsonl", "--threads", "0", "-o", "o")),
        Probe("--name with two tasks", ("evaluate", "--model", "m", "--task", "task.jsonl", "task2.jsonl",
                                        "--name", "x", "-o", "o")),
        Probe("--address without ray", ("evaluate", "--model", "m", "--task", "task.jsonl", "--address", "h:1",
                                        "-o", "o")),
        Probe("missing ladder file", ("evaluate", "--ladder", "nope.yaml", "--task", "task.jsonl", "-o", "o")),
        Probe("broken ladder YAML", ("evaluate", "--ladder", "broken.yaml", "--task", "task.jsonl", "-o", "o")),
        Probe("--ladder and --model", ("evaluate", "--ladder", "ladder.yaml", "--model", "m", "--task",
                                       "task.jsonl", "-o", "o")),
        Probe("empty separator", ("evaluate", "--model", "m", "--task", "task.jsonl", "--separator", "", "-o", "o")),
    ]
    return out


def run_probe(probe: Probe, work: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
           "HF_HUB_OFFLINE": "1", "COLUMNS": "120"}
    t0 = time.perf_counter()
    try:
        r = subprocess.run([sys.executable, "-m", "scalecheck.cli", *probe.argv], cwd=work, capture_output=True,
                           text=True, timeout=TIME_LIMIT_S, env=env)
        rc, err = r.returncode, r.stderr
    except subprocess.TimeoutExpired:
        rc, err = None, "(time limit)"
    lines = [line for line in err.splitlines() if line.strip()]
    if rc is not None and "Traceback" in err:
        outcome = "tracebacks"
    elif rc == 0:
        outcome = "silently_accepted"
    elif rc == 2 and len(lines) == 1:
        outcome = "one_line_exit_2"
    else:
        outcome = "other"
    return {"kind": probe.kind, "argv": " ".join(probe.argv), "rc": rc, "outcome": outcome,
            "stderr": err.strip()[-400:], "seconds": round(time.perf_counter() - t0, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", default=None, help="run only the probes whose kind contains this text")
    ap.add_argument("--show", action="store_true", help="print every probe's stderr, not only the failures'")
    args = ap.parse_args()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="scalecheck-bad-input-") as tmp:
        work = Path(tmp)
        todo = [p for p in probes(work) if args.only is None or args.only in p.kind]
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            results = list(pool.map(lambda p: run_probe(p, work), todo))
    counts = {k: sum(r["outcome"] == k for r in results)
              for k in ("one_line_exit_2", "tracebacks", "silently_accepted", "other")}
    for r in results:
        if args.show or r["outcome"] != "one_line_exit_2":
            print(f"[{r['outcome']}] {r['kind']}: scalecheck {r['argv']} -> rc {r['rc']}\n    "
                  + r["stderr"].replace("\n", "\n    "))
    commands = sorted({r["argv"].split()[0] for r in results})
    print(json.dumps({"probes": len(results), **counts, "kinds": len({r["kind"] for r in results}),
                      "commands": commands, "seconds": round(time.perf_counter() - t0, 1)}))


if __name__ == "__main__":
    main()
