"""How the analysis reads and labels its results, as a user meets them (issues 17 and 22): one default in the help,
every reported metric, the decline's stretch, a word for a noisy series, stars only on trends, per-family rows,
and labels without "25.0-shot" or "nan-shot"."""

import dataclasses
import io

import numpy as np
import pandas as pd
import pytest

from scalecheck.cli import main
from scalecheck.inverse_scaling import DECLINE_STRETCH, PRIZE_TERMS, TERM_MEANING, inverse_scaling, prize_term
from scalecheck.inverse_scaling.analysis import adjust, setting_label
from scalecheck.inverse_scaling.synthetic import draw_ladder
from scalecheck.observations import Testbed
from scalecheck.trends import Verdict


def test_help_names_one_default_testbed(capsys):
    with pytest.raises(SystemExit):
        main(["inverse-scaling", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: michaelov2023)" in text and "Gadre" not in text
    assert "c4_val" not in text  # the shared --x default (a validation loss) does not hold here


def test_every_reported_metric_is_analysed_by_default(builtin_michaelov):
    r = inverse_scaling(builtin_michaelov, tasks=["truthfulqa_mc"], over_training=False)
    assert [u[1] for u in r.units] == ["mc1", "mc2"]
    assert r.label(r.units[1]) == "truthfulqa_mc [mc2]"


def _ladder(values: np.ndarray, sd: float = 0.01, name: str = "t") -> Testbed:
    """One task over 8 sizes with the given scores and sampling sd (no checkpoints)."""
    n = len(values)
    models = pd.DataFrame({"model": [f"m{i}" for i in range(n)], "source": "sim", "family": "sim",
                           "size": [f"s{i}" for i in range(n)], "params": np.geomspace(1e7, 1e10, n),
                           "tokens": 3e11})
    scores = pd.DataFrame({"model": models["model"], "task": name, "metric": "acc", "value": values,
                           "stderr": sd, "chance": 0.25, "higher_is_better": True, "shots": 0, "variant": ""})
    return Testbed.build(models, scores, name="ladder")


def test_a_series_swinging_far_beyond_its_noise_without_a_trend_is_noisy_not_flat():
    # repetitive_algebra's shape on Pythia: 0.67, 0.20, 0.47, ... 0.11 with sds of 1.5 points.
    zigzag = _ladder(np.array([0.671, 0.203, 0.47, 0.368, 0.384, 0.553, 0.494, 0.106]), sd=0.015)
    quiet = _ladder(0.5 + np.array([0.004, -0.006, 0.002, 0.0, -0.003, 0.005, -0.002, 0.001]), sd=0.015)
    for tb, want in ((zigzag, "noisy"), (quiet, "flat")):
        t = inverse_scaling(tb).tests[0]
        assert t.term == want and not t.significant, (t.term, t.category, t.reason)
    # The classifier's own noisy category reads noisy too (before, it was counted as a standard trend).
    v = Verdict(task="t", scope="all", category="noisy", confidence=0.9, reason="", evidence={})
    assert prize_term(v) == "noisy" and "noisy" in PRIZE_TERMS and "noisy" in TERM_MEANING


def test_the_decline_says_which_stretch_it_measures():
    tb = draw_ladder(["inverted-U", "U-shaped", "inverse"], seed=7, n_steps=1)
    r = inverse_scaling(tb)
    ov = r.overview().set_index("task")
    assert ov.loc["inverted-U-0", "decline_from"] == "turn to largest"
    assert ov.loc["U-shaped-1", "decline_from"] == "smallest to turn"
    assert ov.loc["inverse-2", "decline_from"] == "smallest to largest"
    assert set(DECLINE_STRETCH) == set(PRIZE_TERMS)
    assert "decline_from" in pd.read_csv(io.StringIO(r.frame().to_csv(index=False))).columns


def test_a_star_only_on_a_trend():
    tb = draw_ladder(["inverse", "flat"], seed=2, n_steps=1)
    t = inverse_scaling(tb).tests
    forced = [dataclasses.replace(x, p_value=1e-9) for x in t]
    for x in adjust(forced):
        assert x.significant == (x.term == "inverse"), (x.term, x.significant)
        assert x.p_adjusted < 1e-6  # the p-value is kept; only the star is a trend's


def _three_families(seed: int = 11) -> Testbed:
    parts = []
    models = []
    for k, fam in enumerate(("alpha", "beta", "gamma")):
        tb = draw_ladder(["inverse"], seed=seed + k, n_steps=1)
        models.append(tb.models.assign(model=lambda d, f=fam: f + "-" + d["model"], family=fam,
                                       run=lambda d, f=fam: f + "-" + d["run"]))
        parts.append(tb.scores.assign(model=lambda d, f=fam: f + "-" + d["model"]))
    return Testbed.build(pd.concat(models, ignore_index=True), pd.concat(parts, ignore_index=True), name="fams")


def test_with_several_families_the_overview_keeps_each_family_s_star_and_numbers(capsys):
    r = inverse_scaling(_three_families())
    ov = r.overview()
    assert ov["family"].tolist() == ["alpha", "beta", "gamma"]
    assert (ov["over_scale"] == "inverse*").all()
    assert ov["decline_points"].notna().all() and (ov["decline_se"] > 3).all() and (ov["p_adjusted"] < 0.05).all()
    from rich.console import Console

    from scalecheck.cli.inverse_scaling import render_summary

    console = Console(file=io.StringIO(), width=200)
    render_summary(r, console)
    text = console.file.getvalue()
    assert text.count("inverse*") == 3 and "3/3 families" not in text


def test_setting_labels_are_counts_never_floats_or_nan():
    assert setting_label(25.0, "") == "25-shot" and setting_label(np.int64(5), "rc") == "5-shot, rc"
    assert setting_label(float("nan"), "") == "" and setting_label(None, "mc") == "mc"
    assert setting_label(pd.NA, "") == ""


def test_console_labels_tell_metrics_and_settings_apart_without_double_spaces():
    tb = draw_ladder(["inverse"], seed=4, n_steps=1)
    s = tb.scores
    loss = s.assign(metric="loss", value=-np.log(s["value"]), higher_is_better=False, stderr=0.01)
    # One task at 25 shots and one with no shot count at all (a source that records none).
    none = s.assign(task="other", shots=pd.NA)
    tb = Testbed.build(tb.models, pd.concat([s.assign(shots=25), loss.assign(shots=25), none], ignore_index=True))
    r = inverse_scaling(tb)
    from rich.console import Console

    from scalecheck.cli.inverse_scaling import render_summary

    console = Console(file=io.StringIO(), width=200)
    render_summary(r, console)
    text = console.file.getvalue()
    assert "inverse-0 [acc] (25-shot)" in text and "inverse-0 [loss] (25-shot)" in text
    assert "25.0-shot" not in text and "nan-shot" not in text and "None-shot" not in text
    labels = [r.label(u) for u in r.units]
    assert all("  " not in x for x in labels) and len(set(labels)) == len(labels), labels



def test_no_verdict_shows_no_effect():
    # A constant series has no verdict: the overview shows no decline for it (before: "+0.0 pts (0.0 se)").
    r = inverse_scaling(_ladder(np.full(8, 0.5)))
    row = r.overview().iloc[0]
    assert row["over_scale"] == "insufficient-data"
    assert np.isnan(row["decline"]) and np.isnan(row["decline_points"]) and np.isnan(row["decline_se"])
