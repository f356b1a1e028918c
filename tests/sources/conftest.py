"""Helpers shared by the importer tests."""

from __future__ import annotations

import json

import pytest

from scalecheck import Testbed
from scalecheck.cli import main


def _edit_json(path, fn):
    """Apply ``fn`` to the parsed JSON file in place (to plant one defect in a copy of a release file)."""
    d = json.loads(path.read_text())
    fn(d)
    path.write_text(json.dumps(d))


def _import_round_trip(source, path, expected: Testbed, tmp_path):
    """`scalecheck import SOURCE PATH -o x.parquet`, read back: all three tables equal ``expected``."""
    out = tmp_path / "round_trip.parquet"
    assert main(["import", source, str(path), "-o", str(out)]) == 0
    back = Testbed.read(out)
    assert back.models.equals(expected.models)
    assert back.scores.equals(expected.scores)
    assert back.tasks.equals(expected.tasks)


@pytest.fixture
def edit_json():
    return _edit_json


@pytest.fixture
def import_round_trip():
    return _import_round_trip
