"""The declared dependency floors are the ones CI tests (.ci/floor-constraints.txt), so they cannot drift."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _floors() -> dict[str, str]:
    text = (ROOT / "pyproject.toml").read_text()  # no tomllib: Python 3.10 is supported
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M).group(1)
    deps = re.findall(r'"([^"]+)"', block)
    out = {}
    for d in deps:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", d.replace(" ", ""))
        assert m, f"{d}: every core dependency declares a floor (name>=version)"
        out[m.group(1).lower()] = m.group(2)
    return out


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / ".ci" / "floor-constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def test_ci_installs_the_declared_floors():
    floors, pins = _floors(), _pins()
    assert set(floors) == set(pins)
    for name, floor in floors.items():
        f = floor.split(".")
        assert pins[name].split(".")[:len(f)] == f, f"{name}: pyproject says >={floor}, CI tests {pins[name]}"


def test_no_unused_tqdm():
    text = (ROOT / "pyproject.toml").read_text()
    assert "tqdm" not in text
