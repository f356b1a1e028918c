"""Several settings (shots, variant): the default the evidence supports, or one line naming the flag (issue 17, 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalecheck import Testbed
from scalecheck.errors import SelectionError
from scalecheck.observations import Selection
from scalecheck.observations.settings import choose_setting


def _testbed(settings_per_task: dict[str, list[tuple[int, str, int]]]) -> Testbed:
    """Tasks scored at (shots, variant, number of models) each; models m0.. at growing params."""
    n_models = max(n for rows in settings_per_task.values() for *_, n in rows)
    models = pd.DataFrame({"model": [f"m{i}" for i in range(n_models)], "source": "test",
                           "family": "f", "params": np.geomspace(1e7, 1e10, n_models)})
    rows = []
    for task, settings in settings_per_task.items():
        for shots, variant, n in settings:
            for i in range(n):
                rows.append({"model": f"m{i}", "task": task, "metric": "acc", "value": 0.3 + 0.05 * i,
                             "n_examples": 500, "chance": 0.25, "shots": shots, "variant": variant})
    return Testbed.build(models, pd.DataFrame(rows), name="t")


def test_pythia_like_the_shot_count_every_task_has():
    tb = _testbed({"arc": [(0, "", 8), (5, "", 8)], "crows": [(0, "", 8)]})
    choice = choose_setting(tb)
    assert choice.selection.shots == 0 and choice.selection.variant is None
    assert choice.notes == ("shots: 0 (of 0, 5; the setting every task has) - pass --shots to choose",)


def test_olmo_like_the_variant_on_clearly_the_most_models():
    tb = _testbed({"arc": [(5, "mc", 2), (5, "rc", 10)], "hs": [(5, "mc", 2), (5, "rc", 10)]})
    choice = choose_setting(tb)
    assert choice.selection.variant == "rc" and choice.selection.shots is None
    assert "rc (of mc, rc; the one scored on the most models: 10 against 2)" in choice.notes[0]


def test_a_tie_is_refused_naming_the_flag_and_its_values():
    tb = _testbed({"arc": [(0, "", 8), (5, "", 8)], "hs": [(0, "", 8), (5, "", 7)]})
    with pytest.raises(SelectionError, match=r"choose one: --shots 0 or --shots 5"):
        choose_setting(tb)


def test_no_value_shared_by_every_task_is_refused():
    tb = _testbed({"a": [(0, "", 8), (1, "", 8)], "b": [(5, "", 8), (10, "", 8)]})
    with pytest.raises(SelectionError, match=r"no one value is shared by every task; choose one with --shots"):
        choose_setting(tb)


def test_nothing_to_choose_leaves_the_selection_alone():
    tb = _testbed({"a": [(0, "", 8)], "b": [(25, "", 8)]})  # each task has its own one setting (ObsScaling)
    assert choose_setting(tb) == choose_setting(tb, Selection())
    assert choose_setting(tb).notes == () and choose_setting(tb).selection == Selection()
    both = _testbed({"a": [(0, "", 8), (5, "", 8)]})
    given = Selection(shots=5)
    assert choose_setting(both, given).selection == given  # a setting the user named is never overridden


def test_the_chosen_setting_makes_every_task_analysable():
    from scalecheck.trends import reality_check

    tb = _testbed({"arc": [(0, "", 8), (5, "", 8)], "crows": [(0, "", 8)]})
    plain = reality_check(tb, selection=Selection(x="params"))
    assert (plain.frame()["category"] == "insufficient-data").any()  # what the user met before
    chosen = reality_check(tb, selection=Selection.of(choose_setting(tb).selection, x="params"))
    assert not (chosen.frame()["category"] == "insufficient-data").any()


def test_load_takes_a_file_path_alone_and_unknown_sources_get_the_closest_name(tmp_path):
    import scalecheck
    from scalecheck.errors import ScalecheckError

    tb = _testbed({"a": [(0, "", 6)]})
    f = tmp_path / "mine.csv"
    tb.to_frame().to_csv(f, index=False)
    assert len(scalecheck.load(str(f)).scores) == 6
    with pytest.raises(ScalecheckError, match=r"did you mean 'pythia'\?.*'testbed'"):
        scalecheck.load("pythai", tmp_path)
