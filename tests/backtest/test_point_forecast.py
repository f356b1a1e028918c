"""The backtest's point forecast is the predictive distribution's median, so every interval holds it, even where
the distribution expects a law to deliver only part of its predicted change (the law's own curve then lies past
the interval's upper end)."""

import numpy as np

from scalecheck.backtest import backtest
from scalecheck.backtest.synthetic import exponential_accuracy, synthetic_testbed
from scalecheck.laws.prediction import PredictionModel

# A model that expects at most half of the predicted change: the law's curve, far past its data, is outside.
HALF = PredictionModel(low=0.0, high=0.5, residual=1.0, distance=1.0, saturation=np.inf, df=np.inf)


def test_point_forecast_is_the_median_inside_every_interval():
    tb = synthetic_testbed({"t": exponential_accuracy}, seed=3, holdout_sizes=(1e9, 3e9))
    for model in (None, HALF):
        f = backtest(tb, "exponential", scheme="expanding", n_boot=0, level=0.5, prediction_model=model,
                     verdicts=False, groups="pooled").frame()
        ok = f[f["usable"].astype(bool)]
        assert len(ok) > 10
        assert ((ok["lo"] <= ok["predicted"] + 1e-12) & (ok["predicted"] <= ok["hi"] + 1e-12)).all()
    # With HALF the median sits at a quarter of the change: below the law wherever the law rises past its data.
    f = backtest(tb, "exponential", scheme="expanding", n_boot=0, prediction_model=HALF, verdicts=False,
                 groups="pooled").frame()
    far = f[f["usable"].astype(bool) & (f["distance"] > 0.2)]
    assert len(far) and (far["level_to_cover"] >= 0).all()
    assert (far["predicted"] < far["hi"]).all()
