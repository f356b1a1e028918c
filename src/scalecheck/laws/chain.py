"""Two-step laws (scale -> loss -> metric, as the OLMo ladder and Gadre et al. predict downstream metrics)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from .fitting import from_fit_scale, to_fit_scale
from .result import LawFit, json_safe

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, eq=False)  # arrays inside: identity, not elementwise, equality
class ChainFit:
    """``metric = step2(step1(scale))`` with both steps' uncertainty.

    With bootstraps on both steps, draw i of the chain uses replicate i of each step (pair draws; the shorter
    bootstrap sets the number of draws). ``prediction`` intervals add step 1's deviation of a new model from its
    law (sampling noise, excess scatter and extrapolation, :mod:`scalecheck.laws.prediction`) to the loss, and
    step 2's to the metric. Without bootstraps: the delta method, ``var = f2'(L)^2 var(L) + var2(L)``.
    """

    step1: LawFit
    step2: LawFit
    seed: int = 0
    level: float = 0.9

    @property
    def usable(self) -> bool:
        return self.step1.usable and self.step2.usable

    @property
    def reason(self) -> str:
        bits = [f"step 1: {self.step1.reason}" if not self.step1.usable else "",
                f"step 2: {self.step2.reason}" if not self.step2.usable else ""]
        return "; ".join(b for b in bits if b)

    def predict(self, x) -> np.ndarray:
        return self.step2.predict(self.step1.predict(x))

    def draws(self, x, kind: str = "confidence", model=None) -> np.ndarray | None:
        """Paired draws of the chain's prediction at x (n_draws, m) on the metric's scale: bootstrap curves
        (``confidence``), or a new model's loss drawn from step 1's prediction variance and its score from step
        2's about step 2's curve at that loss (``prediction``; :mod:`scalecheck.laws.prediction`)."""
        rng = np.random.default_rng([self.seed, 2])
        xa, _ = self.step1._x(x)
        g1 = self.step1.fit_scale_draws(xa, kind, rng, model=model)
        bp2 = self.step2.boot_params
        if g1 is None or bp2 is None:
            return None
        loss = from_fit_scale(self.step1.law, g1)
        law2 = self.step2.law
        if kind == "prediction":
            with np.errstate(all="ignore"):
                g = to_fit_scale(law2, law2.predict_params(self.step2.param_vector, loss))
            sd2 = _model(model).point_sd(self.step2, self.step1.predict(xa).ravel())
            return from_fit_scale(law2, g + rng.normal(0.0, 1.0, size=g.shape) * sd2)
        bp2 = bp2[np.all(np.isfinite(bp2), axis=1)]
        nb = min(len(loss), len(bp2))
        if nb < 2:
            return None
        with np.errstate(all="ignore"):
            return law2.predict_params(bp2[:nb], loss[:nb])

    def interval(self, x, level: float | None = None, kind: str = "confidence",
                 model=None) -> tuple[np.ndarray, np.ndarray]:
        if kind not in ("confidence", "prediction"):
            raise ValueError(f"kind must be 'confidence' or 'prediction', not {kind!r}")
        level = self.level if level is None else float(level)
        xa, shape = self.step1._x(x)
        if not self.usable:
            return np.full(shape, np.nan), np.full(shape, np.nan)
        d = self.draws(xa, kind, model)
        a = (1 - level) / 2
        if d is not None:
            lo, hi = np.nanquantile(d, [a, 1 - a], axis=0)
            return lo.reshape(shape), hi.reshape(shape)
        lo, hi = self._delta(xa, level, kind, model)
        return lo.reshape(shape), hi.reshape(shape)

    def _delta(self, xa, level, kind, model=None):
        s1, s2 = self.step1, self.step2
        loss = s1.predict(xa).ravel()
        g1 = to_fit_scale(s1.law, loss)
        pm = _model(model)
        if kind == "prediction":
            var_g1 = pm.point_sd(s1, xa) ** 2
        else:
            var_g1 = s1.fit_scale_variance(xa)
        # dL/dg1 by central differences through the inverse scale, then df2/dL.
        h = 1e-6 * np.maximum(np.abs(g1), 1e-3)
        dl = (from_fit_scale(s1.law, g1 + h) - from_fit_scale(s1.law, g1 - h)) / (2 * h)
        hl = 1e-6 * np.maximum(np.abs(loss), 1e-3)
        g2 = lambda v: to_fit_scale(s2.law, s2.predict(v).ravel())  # noqa: E731
        df = (g2(loss + hl) - g2(loss - hl)) / (2 * hl)
        if kind == "prediction":
            var = (df * dl) ** 2 * var_g1 + pm.point_sd(s2, loss) ** 2
            q = stats.norm.ppf(0.5 + level / 2)
        else:
            var = (df * dl) ** 2 * var_g1 + s2.fit_scale_variance(loss)
            q = stats.t.ppf(0.5 + level / 2, max(min(s1.quality.dof, s2.quality.dof), 1))
        sd = np.sqrt(np.maximum(var, 0.0))
        centre = g2(loss)
        return from_fit_scale(s2.law, centre - q * sd), from_fit_scale(s2.law, centre + q * sd)

    def summary(self) -> pd.DataFrame:
        """Both steps' :meth:`LawFit.summary` one under the other, ``step`` 1 (scale -> loss) then 2 (loss ->
        metric). ``str(chain)`` is the same as text."""
        import pandas as pd

        return pd.concat([self.step1.summary().assign(step=1), self.step2.summary().assign(step=2)],
                         ignore_index=True)[["step", *LawFit.SUMMARY_COLUMNS]]

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(str(self))}</pre>"

    def __str__(self) -> str:
        head = "Two-step law: scale -> loss -> metric" + ("" if self.usable else f"  UNUSABLE: {self.reason}")
        return "\n".join([head, "Step 1 (scale -> loss)", str(self.step1), "Step 2 (loss -> metric)",
                          str(self.step2)])

    def to_dict(self) -> dict:
        return json_safe({"usable": self.usable, "reason": self.reason, "seed": self.seed, "level": self.level,
                       "step1": self.step1.to_dict(), "step2": self.step2.to_dict()})


def _model(model):
    from .prediction import DEFAULT

    return DEFAULT if model is None else model


def fit_chain(step1: LawFit, step2: LawFit, *, seed: int | None = None, level: float | None = None) -> ChainFit:
    """Compose a scale -> loss law (``step1``) with a loss -> metric law (``step2``)."""
    return ChainFit(step1, step2, seed=step2.seed if seed is None else seed,
                    level=step2.level if level is None else level)
