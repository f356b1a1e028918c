"""Every command in the README runs as written (issue 17, item 2).

The README's ```bash blocks are read line by line (continuations joined, comments dropped, ``&&`` chains split,
``$(...)`` expanded by bash), and each ``scalecheck`` command is run in a scratch folder laid out as the README
assumes: ``../shared/data`` beside it, and the files a user brings (``my_scores.csv``, ``ladder.yaml``) or an
earlier ``scalecheck evaluate`` wrote (``out/memo-trap-5``, ``out/prize``). Its ```python blocks run too.

What cannot run here is listed below with the reason, and is still parsed by the real argument parser (so a
renamed flag in the README fails this test): installs, ``make``, a Ray cluster, and ``evaluate`` runs that
download models from the hub (tests never touch the network; tests/evaluation scores real and tiny models).
A README command that is neither run nor listed fails the test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalecheck.cli import build_parser, main

README = Path(__file__).resolve().parents[2] / "README.md"

# Other programs in the README's command blocks, and why they are not run here.
NOT_SCALECHECK = {
    "pip": "installs into the environment (the test suite runs after it)",
    "make": "`make demo` is `scalecheck reality-check` and `scalecheck inverse-scaling`, both run below; "
            "`make test` runs this suite",
    "ray": "starts or stops a Ray cluster (tests/evaluation/test_ray.py runs a local one)",
}
# scalecheck commands that are parsed but not run: argv prefix -> why.
PARSED_ONLY = {
    ("evaluate", "--ladder", "ladder.yaml"): "the ladder's models come from the hub (network)",
    ("evaluate", "--model", "EleutherAI/pythia-70m"): "downloads a model from the hub (network)",
    ("evaluate", "--model"): "scores the real SmolLM2 model for minutes (tests/evaluation/test_real_model.py "
                             "runs it on a few rows)",
}


def readme_blocks(language: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.S | re.M)


def readme_commands() -> list[str]:
    """Each command line of the README's bash blocks (``a && b`` gives two)."""
    commands = []
    for block in readme_blocks("bash"):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = re.sub(r"(^|\s)#.*$", "", line).strip()  # the README's comments follow whitespace
            commands.extend(part.strip() for part in line.split(" && ") if part.strip())
    return commands


def expand(command: str, cwd: Path) -> list[str]:
    """The argv bash would build from the line (quotes, ``$(...)``), without running the command itself."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    r = subprocess.run(["bash", "-c", f"printf '%s\\0' {command}"], capture_output=True, text=True, cwd=cwd,
                       env=env, check=True)
    return r.stdout.split("\0")[:-1]


def _my_scores(path: Path) -> None:
    """What a user's own CSV looks like: 2 families x 6 sizes, two tasks, one scored at 0 and 5 shots."""
    rng = np.random.default_rng(0)
    rows = []
    for family, shift in (("alpha", 0.0), ("beta", 0.03)):
        for i, params in enumerate(np.geomspace(7e7, 7e9, 6)):
            model = f"{family}-{i}"
            meta = {"model": model, "family": family, "corpus": "web", "params": params, "tokens": 20 * params,
                    "n_examples": 1000, "chance": 0.25, "holdout": False}
            rows.append({**meta, "task": "easy_qa", "metric": "accuracy", "shots": 0,
                         "value": 0.25 + 0.1 * i + shift + rng.normal(0, 0.01)})
            rows.append({**meta, "task": "easy_qa", "metric": "accuracy", "shots": 5,
                         "value": 0.28 + 0.1 * i + shift + rng.normal(0, 0.01)})
            rows.append({**meta, "task": "memo_like", "metric": "accuracy", "shots": 0,
                         "value": 0.9 - 0.05 * i - shift + rng.normal(0, 0.01)})
    pd.DataFrame(rows).to_csv(path, index=False)


def _evaluate_output(folder: Path, shots: tuple[int, ...]) -> None:
    """The long format `scalecheck evaluate` writes (scores.csv), for 6 sizes of one family on memo-trap."""
    folder.mkdir(parents=True)
    rows = []
    for i, params in enumerate(np.geomspace(7e7, 7e9, 6)):
        for k in shots:
            acc = 0.85 - 0.06 * i + 0.01 * k
            meta = {"model": f"tiny-{i}", "task": "memo-trap", "shots": k, "variant": "", "n_examples": 936,
                    "source": "evaluate", "family": "tiny", "params": params, "task_type": "multiple choice"}
            rows.append({**meta, "metric": "accuracy", "value": acc, "stderr": np.sqrt(acc * (1 - acc) / 935),
                         "chance": 0.5, "higher_is_better": True})
            rows.append({**meta, "metric": "loss", "value": -np.log(acc), "stderr": 0.01, "chance": np.log(2),
                         "higher_is_better": False})
    pd.DataFrame(rows).to_csv(folder / "scores.csv", index=False)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, shared_data):
    root = tmp_path_factory.mktemp("readme")
    (root / "shared").symlink_to(shared_data.parent, target_is_directory=True)  # ../shared/data from work/
    work = root / "work"
    work.mkdir()
    _my_scores(work / "my_scores.csv")
    (work / "ladder.yaml").write_text("family: alpha\nmodels:\n  - name: alpha-5\n    holdout: true\n"
                                      "  - name: beta-5\n    holdout: true\n")
    _evaluate_output(work / "out" / "memo-trap-5", (0, 5))
    _evaluate_output(work / "out" / "prize", (0, 1, 5))
    return work


def _parsed_only(argv: list[str]) -> str | None:
    for prefix, why in PARSED_ONLY.items():
        if tuple(argv[1:1 + len(prefix)]) == prefix:
            return why
    return None


def test_the_readme_has_the_commands_this_test_expects():
    commands = readme_commands()
    assert len(commands) >= 25
    programs = {c.split()[0] for c in commands}
    assert programs == {"scalecheck", *NOT_SCALECHECK}, programs
    assert len(readme_blocks("python")) >= 2


def test_every_readme_command_runs_as_written(workdir, monkeypatch, capsys):
    monkeypatch.chdir(workdir)
    ran, parsed = [], []
    for command in readme_commands():
        argv = expand(command, workdir)
        if argv[0] in NOT_SCALECHECK:
            continue
        assert argv[0] == "scalecheck", command
        if _parsed_only(argv):
            build_parser().parse_args(argv[1:])  # the flags exist and take these values
            parsed.append(command)
            continue
        rc = main(argv[1:])
        captured = capsys.readouterr()
        assert rc == 0, f"{command}\n{captured.err}"
        ran.append(command)
    assert len(ran) >= 18 and len(parsed) <= 5, (ran, parsed)
    # The README's own report folders exist where it says they are written.
    assert (workdir / "scalecheck-report" / "report.html").is_file()
    mine = pd.read_csv(workdir / "my-report" / "verdicts.csv")
    assert not (mine["category"] == "insufficient-data").any(), mine  # two settings: one chosen, not refused
    assert (workdir / "mine.parquet").is_file() and (workdir / "gadre.parquet").is_file()


def test_every_readme_python_block_runs(workdir):
    for block in readme_blocks("python"):
        r = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True, cwd=workdir)
        assert r.returncode == 0, f"{block}\n{r.stderr[-2000:]}"
