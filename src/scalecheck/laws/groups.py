"""Group-aware laws: one law whose shape is shared and whose offsets differ per group, or one law per group.

A testbed whose models come from several corpora or families (Gadre et al.'s three corpora, Pythia standard and
deduplicated, Sloth's 22 families) pools series that may follow visibly different laws. Pooled, the law fits their
mixture, and the largest models of each group are predicted from the others' curve. Three ways to fit a series
whose points carry a group label (``Series.groups``), as :data:`GROUPINGS` names them:

* ``pooled``: one law for every point (the law ignores the groups);
* ``offsets``: one law shape shared by every group, shifted per group on the fitting scale (additively; for
  loss laws fitted on log y, multiplicatively): ``g(y) = g(f(x)) + o_group``, the offsets centred to a weighted
  mean of zero so that the shared law is the groups' average. Fitted jointly by backfitting (alternating
  the exact least-squares offsets, group means of the residuals, with the law refitted to the shifted scores by
  the usual engine) until the offsets move by less than 1e-6 of the data's spread;
* ``separate``: all parameters per group (each group its own law).

``auto`` (the default wherever a law is fitted for prediction) chooses among them **by the Bayesian information
criterion on the fit set**: ``n ln(RSS_w / n) + p ln n`` on the fitting scale, with ``p`` = k, k + G - 1 and G k
parameters, among the candidates that could be fitted (``separate`` needs every group to have a usable fit).
BIC rather than a hypothesis test because the three candidates are not one nested pair. Under one shared law,
BIC's ln n penalty per parameter keeps ``pooled`` (tested by simulation: a single law in several groups stays
pooled, groups offset or with different slopes are recovered). Where the forecast is chosen by an inner backtest
(``--form auto``, :mod:`scalecheck.laws.select`), that backtest chooses each form's grouping too, by how it
extrapolates a group's larger sizes; BIC chooses only where no inner backtest is possible, or for a named form.

A group the fit set never saw is predicted by the pooled law's level: the shared law without offset (``offsets``)
or the pooled law (``separate``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..observations import Series
from .api import fit_batch, series_arrays, specialised
from .fitting import from_fit_scale, to_fit_scale
from .forms import Form
from .result import LawFit

MODES = ("pooled", "offsets", "separate")  # the groupings a fit can have, simplest first
GROUPINGS = ("auto", *MODES)  # what can be asked for
BACKFIT_ITERATIONS = 30
BACKFIT_TOL = 1e-6  # stop when no offset moves by more than this fraction of the data's spread (fitting scale)


@dataclass(frozen=True, eq=False)
class GroupLawFit:
    """A law fitted to a series with groups: which grouping was chosen, and the laws that predict each group.

    ``mode`` is the grouping used (``pooled``, ``offsets`` or ``separate``); ``law`` the pooled law (``pooled``),
    the shared shape (``offsets``) or the pooled law kept for unseen groups (``separate``); ``offsets`` the
    per-group shifts on the fitting scale; ``per_group`` the per-group laws (``separate``). ``bic`` holds the
    criterion of each candidate that could be fitted (NaN for one that could not), ``requested`` the grouping
    asked for.
    """

    mode: str
    law: LawFit
    requested: str = "auto"
    offsets: dict[str, float] = field(default_factory=dict)
    per_group: dict[str, LawFit] = field(default_factory=dict)
    bic: dict[str, float] = field(default_factory=dict)
    choice: object = None  # the inner backtest's FormChoice, when the form was chosen (scalecheck.laws.select)

    @property
    def form(self) -> str:
        return self.law.form

    @property
    def usable(self) -> bool:
        if self.mode == "separate":
            return bool(self.per_group) and all(f.usable for f in self.per_group.values())
        return self.law.usable

    @property
    def reason(self) -> str:
        if self.mode == "separate" and not self.per_group:
            return "no group's own law could be fitted"
        return "" if self.usable else self.law.reason

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.offsets) | set(self.per_group)))

    def part(self, group: str) -> tuple[LawFit, float]:
        """The law that predicts ``group`` and the shift (fitting scale) added to its prediction."""
        if self.mode == "separate":
            return self.per_group.get(group, self.law), 0.0
        if self.mode == "offsets":
            return self.law, float(self.offsets.get(group, 0.0))
        return self.law, 0.0

    def predict(self, x, groups: Sequence[str]) -> np.ndarray:
        """Point predictions at ``x`` (the law's own axis, as :func:`scalecheck.laws.law_x`) for models of
        ``groups`` (one label per point)."""
        x = np.asarray(x, float)
        out = np.full(len(groups), np.nan)
        for g, idx in _by_group(groups).items():
            law, shift = self.part(g)
            out[idx] = shifted(law.law, law.predict(x[idx]), shift)
        return out

    def interval(self, x, groups: Sequence[str], level: float | None = None, kind: str = "prediction",
                 model=None) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, float)
        lo, hi = np.full(len(groups), np.nan), np.full(len(groups), np.nan)
        for g, idx in _by_group(groups).items():
            law, shift = self.part(g)
            a, b = law.interval(x[idx], level=level, kind=kind, model=model)
            lo[idx], hi[idx] = shifted(law.law, a, shift), shifted(law.law, b, shift)
        return lo, hi

    def prediction_rows(self, test: Series, level: float, model=None) -> dict[str, np.ndarray]:
        """Per held-out point of ``test`` (each from its own group's law and shift): ``predicted`` (the predictive
        median), ``lo``, ``hi`` (the prediction interval at ``level``), ``distance`` (past the fitted range),
        ``level_to_cover`` (the smallest central level whose interval holds the truth), as a backtest scores them,
        and ``curve`` (the law itself, which the excursion rule judges)."""
        from .api import law_x
        from .prediction import DEFAULT
        from .prediction import distance as prediction_distance

        n = len(test)
        out = {k: np.full(n, np.nan) for k in ("predicted", "lo", "hi", "distance", "level_to_cover", "curve")}
        pm = model or DEFAULT
        xt = law_x(test, self.law.law)
        for g, idx in _by_group(test.groups).items():
            part, shift = self.part(g)
            if not part.usable:
                continue
            xg = xt[idx]
            out["curve"][idx] = shifted(part.law, part.predict(xg), shift)
            # The point forecast is the predictive distribution's median, so every interval holds it.
            out["predicted"][idx] = shifted(part.law, part.quantile(xg, 0.5, model=model), shift)
            a, b = part.interval(xg, level=level, kind="prediction", model=model)
            out["lo"][idx], out["hi"][idx] = shifted(part.law, a, shift), shifted(part.law, b, shift)
            out["distance"][idx] = prediction_distance(part, xg)
            # The truth moved back by the group's shift is what the shared law's interval must hold.
            out["level_to_cover"][idx] = pm.level_to_cover(part, xg, shifted(part.law, test.y[idx], -shift))
        return out

    @property
    def n_params(self) -> int:
        """Parameters of the chosen grouping: k (pooled), k + G - 1 (offsets), G k (separate)."""
        k = self.law.law.k
        if self.mode == "offsets":
            return k + max(len(self.offsets) - 1, 0)
        if self.mode == "separate":
            return k * max(len(self.per_group), 1)
        return k

    def fitted(self, series: Series) -> np.ndarray:
        """The law's values at the points of ``series`` (each point from its own group's law)."""
        from .api import law_x

        return self.predict(law_x(series, self.law.law), series.groups)

    def describe(self) -> str:
        if self.mode == "pooled":
            return "one law for every group"
        if self.mode == "offsets":
            offs = ", ".join(f"{g} {v:+.3g}" for g, v in sorted(self.offsets.items()))
            return f"one law shape, offsets per group ({offs})"
        return f"one law per group ({', '.join(sorted(self.per_group))})"

    def to_dict(self) -> dict:
        from .result import json_safe

        return json_safe({"mode": self.mode, "requested": self.requested, "form": self.form,
                          "params": self.law.params, "offsets": self.offsets, "bic": self.bic,
                          "per_group": {g: f.params for g, f in self.per_group.items()},
                          "usable": self.usable, "reason": self.reason})


def shifted(form: Form, value, shift: float) -> np.ndarray:
    """``value`` moved by ``shift`` on ``form``'s fitting scale (additive; multiplicative for log-fitted laws)."""
    v = np.asarray(value, float)
    if shift == 0.0:
        return v
    with np.errstate(all="ignore"):
        return from_fit_scale(form, to_fit_scale(form, v) + shift)


def _by_group(groups: Sequence[str]) -> dict[str, np.ndarray]:
    g = np.asarray([str(v) for v in groups], object)
    return {k: np.flatnonzero(g == k) for k in sorted(set(g.tolist()))}


def bic(law: LawFit, n_params: int) -> float:
    """BIC of a fitted law on its fitting scale, counting ``n_params`` parameters (weighted RSS, Gaussian)."""
    if not law.usable:
        return math.nan
    return _bic(law.law, law.x, law.y, law.predict(law.x), law.sigma, n_params)


def _bic(form: Form, x, y, fitted, sigma, n_params: int) -> float:
    with np.errstate(all="ignore"):
        r = to_fit_scale(form, np.asarray(y, float)) - to_fit_scale(form, np.asarray(fitted, float))
    w = _weights(form, y, sigma)
    n = len(r)
    rss = float(np.sum(w * r * r))
    if not np.isfinite(rss) or n <= n_params:
        return math.nan
    return n * math.log(max(rss, 1e-300) / n) + n_params * math.log(n)


def _weights(form: Form, y, sigma) -> np.ndarray:
    y = np.asarray(y, float)
    if sigma is None:
        return np.ones(len(y))
    s = np.asarray(sigma, float)
    g = s / y if form.log_residuals else s
    with np.errstate(all="ignore"):
        w = 1.0 / g**2
    w = np.where(np.isfinite(w) & (w > 0), w, np.nan)
    w = np.where(np.isnan(w), np.nanmedian(w) if np.isfinite(w).any() else 1.0, w)
    return w / w.mean()


def fit_grouped(series_list: Sequence[Series], form: str | Form = "exponential", grouping: str = "auto",
                **kw) -> list[GroupLawFit]:
    """Fit ``form`` to each series with its groups (``Series.groups``) taken into account (see the module doc).

    ``grouping``: one of :data:`GROUPINGS`. Keyword arguments go to :func:`scalecheck.laws.fit_batch` for the
    final fits (``n_boot``, ``seed``, ``level``, ...). A series with one group is fitted pooled whatever asked.
    """
    if grouping not in GROUPINGS:
        raise ValueError(f"grouping must be one of {', '.join(GROUPINGS)}, not {grouping!r}")
    series_list = list(series_list)
    out: list[GroupLawFit | None] = [None] * len(series_list)
    # Series whose form specialises alike (e.g. one chance level) are fitted in one batch.
    for law, idx in specialised(series_list, form).items():
        for i, f in zip(idx, _fit_grouped([series_list[i] for i in idx], law, grouping, kw), strict=True):
            out[i] = f
    return out  # type: ignore[return-value]


def fit_groupings(series_list: Sequence[Series], form: str | Form = "exponential", **kw
                  ) -> list[dict[str, GroupLawFit]]:
    """Per series, ``form`` fitted each way, keyed by grouping, each as :func:`fit_grouped` asked for that grouping
    fits it: ``pooled`` alone for a series with one group; for one with several, all three (``offsets`` whose
    backfit failed is the pooled law, saying so in ``mode``). For choosing the grouping by something other than
    BIC (an inner backtest: :mod:`scalecheck.laws.select`) without fitting the pooled law once per grouping.
    Keyword arguments as :func:`fit_grouped`."""
    series_list = list(series_list)
    out: list[dict[str, GroupLawFit]] = [{} for _ in series_list]
    for law, idx in specialised(series_list, form).items():
        for i, (cand, crit) in zip(idx, _fit_candidates([series_list[i] for i in idx], law, "auto", kw),
                                   strict=True):
            modes = MODES if crit is not None else ("pooled",)
            out[i] = {m: GroupLawFit(f.mode, f.law, requested=m, offsets=f.offsets, per_group=f.per_group)
                      for m in modes for f in (cand.get(m, cand["pooled"]),)}
    return out


def _fit_candidates(series_list: list[Series], law: Form, grouping: str, kw: dict
                    ) -> list[tuple[dict[str, GroupLawFit], dict[str, float] | None]]:
    """Per series, the groupings ``grouping`` asks for that could be fitted, and their BIC (None for a series
    fitted pooled without a choice: one group, or "pooled" asked for)."""
    arrays = [series_arrays(s, law) for s in series_list]
    pooled = fit_batch([a[0] for a in arrays], [a[1] for a in arrays], law, sigmas=[a[2] for a in arrays],
                       clusters=[a[3] for a in arrays], **kw)
    out: list[tuple[dict[str, GroupLawFit], dict[str, float] | None]] = [
        ({"pooled": GroupLawFit("pooled", f, requested=grouping)}, None) for f in pooled]
    multi = [i for i, s in enumerate(series_list) if grouping != "pooled" and len(set(s.groups)) >= 2]
    if not multi:
        return out
    want_offsets = grouping in ("auto", "offsets")
    want_separate = grouping in ("auto", "separate")
    offsets = _fit_offsets(law, [arrays[i] for i in multi], [series_list[i].groups for i in multi], kw) \
        if want_offsets else [None] * len(multi)
    separate = _fit_separate(law, [arrays[i] for i in multi], [series_list[i].groups for i in multi], kw) \
        if want_separate else [None] * len(multi)
    for j, i in enumerate(multi):
        groups = series_list[i].groups
        G = len(set(groups))
        cand = out[i][0]
        crit = {"pooled": bic(pooled[i], law.k)}
        if offsets[j] is not None:
            shape, offs = offsets[j]
            cand["offsets"] = GroupLawFit("offsets", shape, requested=grouping, offsets=offs)
            fitted = shifted_fitted(law, shape, groups, offs)
            crit["offsets"] = (_bic(law, shape.x, arrays[i][1], fitted, arrays[i][2], law.k + G - 1)
                               if shape.usable else math.nan)
        if separate[j] is not None:
            per = separate[j]
            crit["separate"] = _separate_bic(law, per, law.k * G)
            # A group whose own law cannot be fitted is predicted by the pooled law (and rules out "auto"'s pick).
            cand["separate"] = GroupLawFit("separate", pooled[i], requested=grouping,
                                           per_group={g: f for g, f in per.items() if f.usable})
        out[i] = (cand, crit)
    return out


def _fit_grouped(series_list: list[Series], law: Form, grouping: str, kw: dict) -> list[GroupLawFit]:
    out: list[GroupLawFit] = []
    for cand, crit in _fit_candidates(series_list, law, grouping, kw):
        if crit is None:
            out.append(cand["pooled"])
            continue
        if grouping == "auto":
            ok = {m: v for m, v in crit.items() if np.isfinite(v) and cand[m].usable}
            mode = min(ok, key=lambda m: (ok[m], MODES.index(m))) if ok else "pooled"
        else:
            # A grouping asked for that could not be fitted (the offsets' backfit failed) falls back to one law for
            # all, and says so (``mode``).
            mode = grouping if grouping in cand else "pooled"
        chosen = cand[mode]
        out.append(GroupLawFit(chosen.mode, chosen.law, requested=grouping, offsets=chosen.offsets,
                               per_group=chosen.per_group, bic={m: crit.get(m, math.nan) for m in MODES}))
    return out


def shifted_fitted(form: Form, law: LawFit, groups: Sequence[str], offsets: dict[str, float]) -> np.ndarray:
    """The offset law's fitted values at its own points (the shape's prediction moved by each point's offset)."""
    base = law.predict(law.x)
    shift = np.array([offsets.get(str(g), 0.0) for g in groups])
    with np.errstate(all="ignore"):
        return from_fit_scale(form, to_fit_scale(form, base) + shift)


def _separate_bic(form: Form, per: dict[str, LawFit], n_params: int) -> float:
    if not per or not all(f.usable for f in per.values()):
        return math.nan
    x = np.concatenate([f.x for f in per.values()])
    y = np.concatenate([f.y for f in per.values()])
    fitted = np.concatenate([f.predict(f.x) for f in per.values()])
    sig = [f.sigma for f in per.values()]
    sigma = None if any(s is None for s in sig) else np.concatenate(sig)
    return _bic(form, x, y, fitted, sigma, n_params)


def _fit_separate(form: Form, arrays, groups_list, kw) -> list[dict[str, LawFit] | None]:
    xs, ys, sigmas, clusters, owner = [], [], [], [], []
    for j, ((x, y, sigma, cl), groups) in enumerate(zip(arrays, groups_list, strict=True)):
        for g, idx in _by_group(groups).items():
            xs.append(x[idx])
            ys.append(y[idx])
            sigmas.append(None if sigma is None else sigma[idx])
            clusters.append(None if cl is None else np.asarray(cl)[idx])
            owner.append((j, g))
    fits = fit_batch(xs, ys, form, sigmas=sigmas, clusters=clusters, **kw)
    out: list[dict[str, LawFit] | None] = [dict() for _ in arrays]
    for (j, g), f in zip(owner, fits, strict=True):
        out[j][g] = f  # type: ignore[index]
    return out


def _fit_offsets(form: Form, arrays, groups_list, kw) -> list[tuple[LawFit, dict[str, float]] | None]:
    """Backfit shape and offsets for every series at once (one batched fit per iteration)."""
    S = len(arrays)
    gy = [to_fit_scale(form, np.asarray(a[1], float)) for a in arrays]
    idx = [_by_group(g) for g in groups_list]
    w = [_weights(form, a[1], a[2]) for a in arrays]
    spread = [max(float(np.ptp(v)), 1e-12) for v in gy]
    off = [dict.fromkeys(ix, 0.0) for ix in idx]
    active = list(range(S))
    quick = {k: v for k, v in kw.items() if k in ("loss", "huber_delta", "starts")}
    for _ in range(BACKFIT_ITERATIONS):
        if not active:
            break
        ys = [_unshift(form, gy[j], idx[j], off[j]) for j in active]
        fits = fit_batch([arrays[j][0] for j in active], ys, form, sigmas=[arrays[j][2] for j in active],
                         loo=False, n_boot=0, **quick)
        still = []
        for j, f in zip(active, fits, strict=True):
            if not f.usable:
                off[j] = None  # type: ignore[call-overload]
                continue
            with np.errstate(all="ignore"):
                r = gy[j] - to_fit_scale(form, f.predict(arrays[j][0]))
            new = {g: float(np.sum(w[j][ix] * r[ix]) / np.sum(w[j][ix])) for g, ix in idx[j].items()}
            # Centre: the shared law is the groups' (point-weighted) average.
            centre = float(np.sum([np.sum(w[j][ix]) * new[g] for g, ix in idx[j].items()]) / np.sum(w[j]))
            new = {g: v - centre for g, v in new.items()}
            moved = max(abs(new[g] - off[j][g]) for g in new)
            off[j] = new
            if moved > BACKFIT_TOL * spread[j]:
                still.append(j)
        active = still
    live = [j for j in range(S) if off[j] is not None]
    out: list[tuple[LawFit, dict[str, float]] | None] = [None] * S
    if not live:
        return out
    finals = fit_batch([arrays[j][0] for j in live], [_unshift(form, gy[j], idx[j], off[j]) for j in live], form,
                       sigmas=[arrays[j][2] for j in live], clusters=[arrays[j][3] for j in live], **kw)
    for j, f in zip(live, finals, strict=True):
        out[j] = (f, off[j]) if f.usable else None
    return out


def _unshift(form: Form, gy: np.ndarray, idx: dict[str, np.ndarray], off: dict[str, float]) -> np.ndarray:
    """Scores with each group's offset removed, back on y's own scale."""
    z = gy.copy()
    for g, ix in idx.items():
        z[ix] -= off[g]
    with np.errstate(all="ignore"):
        return from_fit_scale(form, z)


def fit_group_law(series: Series, form: str | Form = "exponential", grouping: str = "auto", **kw) -> GroupLawFit:
    """One series' group-aware law (see :func:`fit_grouped`): what the reality check's fitted law of a pooled
    series with several corpora or families should be (``.fitted(series)``, ``.n_params``, ``.describe()``)."""
    return fit_grouped([series], form, grouping, **kw)[0]


def fit_for_group(series: Series, form: str | Form, groups: Sequence[str] | str | None = None,
                  grouping: str = "auto", **kw) -> LawFit:
    """One plain :class:`LawFit` that predicts models of ``groups`` (one label or several) group-aware: for a chain
    or a report that takes a single law (the two-step chain's step 1, a figure's curve).

    The grouping is chosen as :func:`fit_grouped` chooses it (BIC on point fits); then the law is refitted with
    ``kw`` (``n_boot``, ``clusters``, ``loss``, ...) by :func:`scalecheck.laws.fit_series`:

    * ``pooled``, a series with one group, targets in several groups or in none the fit set has: on every point,
      exactly as an ungrouped fit (a single group is unchanged);
    * ``separate``: on the target group's own points;
    * ``offsets``: on every point, each group's scores moved onto the target group's level (its offset minus the
      point's own, on the fitting scale), so the shared shape is learned from every group and the level is the
      target's; the refit's residuals, bootstrap and prediction intervals are those of the offset law.
    """
    from .api import fit_series

    if isinstance(groups, str):
        groups = [groups]
    want = {str(g) for g in (groups or ())}
    present = set(map(str, series.groups))
    if grouping == "pooled" or len(present) < 2 or len(want) != 1 or not want <= present:
        return fit_series(series, form, **kw)
    (target,) = want
    point = {k: v for k, v in kw.items() if k in ("loss", "huber_delta", "starts", "seed")}
    chosen = fit_group_law(series, form, grouping, loo=False, n_boot=0, **point)
    if chosen.mode == "separate" and target in chosen.per_group:
        mine = np.array([str(g) == target for g in series.groups])
        kw = {k: (np.asarray(v)[mine] if k == "clusters" and v is not None else v) for k, v in kw.items()}
        return fit_series(series.subset(mine), form, **kw)
    if chosen.mode == "offsets" and target in chosen.offsets:
        law = chosen.law.law
        shift = np.array([chosen.offsets[target] - chosen.offsets.get(str(g), 0.0) for g in series.groups])
        with np.errstate(all="ignore"):
            moved = from_fit_scale(law, to_fit_scale(law, np.asarray(series.y, float)) + shift)
        from dataclasses import replace

        return fit_series(replace(series, y=moved), form, **kw)
    return fit_series(series, form, **kw)
