"""Start-up time of the command: `scalecheck --help` and `scalecheck COMMAND --help` (target: under 0.5 s).

Runs each in a fresh interpreter several times (as `python -m scalecheck.cli`, the same code as the installed
`scalecheck` script) and reports the median wall time and the median CPU time (user + system, which a busy
machine does not inflate) per command, and a bare `python -c pass` for scale, then a final JSON line. Also checks that the help path imports none of
the heavy libraries (pandas, scipy, matplotlib, torch, pyarrow).

    python benchmarks/cli_startup.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time


def _commands() -> list[str]:
    """'' (bare --help) and every sub-command the parser has."""
    from scalecheck.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return ["", *sub.choices]


COMMANDS = _commands()
HEAVY = ("pandas", "scipy", "matplotlib", "torch", "pyarrow", "statsmodels", "ray")
TARGET_S = 0.5


def _run(args: list[str], cmd: list[str] | None = None) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    cmd = cmd or [sys.executable, "-m", "scalecheck.cli", *args, "--help"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def heavy_imports() -> list[str]:
    code = ("import sys, contextlib, io\nfrom scalecheck.cli import main\n"
            f"for c in {COMMANDS!r}:\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        try:\n            main([c, '--help'] if c else ['--help'])\n"
            "        except SystemExit:\n            pass\n"
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=os.environ)
    return [m for m in out.stdout.strip().split(",") if m]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    _run([])  # warm the file cache
    rows = {}
    for command in COMMANDS:
        walls, cpus = zip(*(_run([command] if command else []) for _ in range(args.repeat)), strict=True)
        rows[command or "(none)"] = {"wall_s": round(statistics.median(walls), 3),
                                     "cpu_s": round(statistics.median(cpus), 3)}
        print(f"scalecheck {command + ' ' if command else ''}--help: median wall {rows[command or '(none)']['wall_s']:.3f} s, "
              f"cpu {rows[command or '(none)']['cpu_s']:.3f} s")
    # The bare interpreter, for scale: on a busy machine every wall time above grows with it.
    bare = statistics.median(_run([], [sys.executable, "-c", "pass"])[0] for _ in range(args.repeat))
    print(f"python -c pass: median wall {bare:.3f} s")
    heavy = heavy_imports()
    worst_wall = max(r["wall_s"] for r in rows.values())
    worst_cpu = max(r["cpu_s"] for r in rows.values())
    print(json.dumps({"benchmark": "cli_startup", "repeat": args.repeat, "target_s": TARGET_S,
                      "max_median_wall_s": worst_wall, "max_median_cpu_s": worst_cpu,
                      "under_target": worst_wall < TARGET_S, "python_bare_wall_s": round(bare, 3),
                      "heavy_modules_imported_by_help": heavy,
                      "per_command": rows}))


if __name__ == "__main__":
    main()
