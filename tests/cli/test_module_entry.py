"""``python -m scalecheck`` is the same command line as the ``scalecheck`` script (the newcomer tour tried it first)."""

import subprocess
import sys


def test_python_dash_m_scalecheck_runs_the_command_line():
    done = subprocess.run([sys.executable, "-m", "scalecheck", "--version"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "scalecheck" in done.stdout.lower()
