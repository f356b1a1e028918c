"""`scalecheck --help` stays fast: the help path imports none of the heavy libraries (benchmarks/cli_startup.py
times it)."""

import subprocess
import sys

HEAVY = ("pandas", "scipy", "matplotlib", "torch", "pyarrow", "statsmodels", "ray", "rich")


def test_help_imports_no_heavy_library():
    code = ("import sys, contextlib, io\nfrom scalecheck.cli import main\n"
            "from scalecheck.cli import build_parser\n"
            "sub = next(a for a in build_parser()._actions if a.dest == 'command')\n"
            "for c in ['', *sub.choices]:\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        try:\n            main([c, '--help'] if c else ['--help'])\n"
            "        except SystemExit:\n            pass\n"
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"--help imported {out.stdout.strip()}"
