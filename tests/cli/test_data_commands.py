import subprocess
import sys

import pandas as pd

from scalecheck.cli import main


def test_show_builtin(capsys):
    assert main(["show"]) == 0
    out = capsys.readouterr().out
    assert "104 models" in out and "46 tasks" in out and "c4_val" in out


def test_import_round_trip_and_show(tmp_path, shared_data, capsys, builtin_testbed):
    out = tmp_path / "g.parquet"
    assert main(["import", "gadre2024", str(shared_data / "gadre2024"), "-o", str(out)]) == 0
    assert len(pd.read_parquet(out)) == 104 * 46
    assert main(["show", str(out)]) == 0
    assert "104 models" in capsys.readouterr().out


def test_bad_input_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("model,task,metric,value\na,t,acc,oops\n")
    r = subprocess.run([sys.executable, "-m", "scalecheck.cli", "show", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "line 2" in r.stderr and "value" in r.stderr
    assert "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "scalecheck.cli", "import", "gadre2024", str(tmp_path / "none"),
                        "-o", str(tmp_path / "x.parquet")], capture_output=True, text=True)
    assert r.returncode == 2 and "none" in r.stderr and r.stderr.count("\n") == 1
    r = subprocess.run([sys.executable, "-m", "scalecheck.cli", "import", "gadre2024", str(bad),
                        "-o", str(tmp_path / "x.parquet")], capture_output=True, text=True)
    assert r.returncode == 2 and "folder" in r.stderr


def test_sources_lists_importers(capsys):
    assert main(["sources"]) == 0
    assert "gadre2024" in capsys.readouterr().out
