"""The testbed: models at several scales and their scores on tasks, as three pandas tables."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError, SelectionError
from ..schema import LOSS_PREFIX, SCALE_AXES, Tables, build_tables, loss_names
from .series import Series

log = logging.getLogger(__name__)  # decisions made silently: points dropped from a series

_META_KEY = b"scalecheck.testbed"
FORMAT_VERSION = "1"


@dataclass(frozen=True, eq=False)
class Testbed:
    """Models (one row per model or checkpoint), scores (long), tasks (one row per task).

    Build one with :func:`scalecheck.load`, :meth:`from_tables`, :meth:`read` or :meth:`from_frame`;
    the tables are validated and sorted on construction, so equal inputs give equal testbeds.
    """

    models: pd.DataFrame
    scores: pd.DataFrame
    tasks: pd.DataFrame
    name: str = ""
    __test__ = False  # not a pytest test class, despite the name

    @classmethod
    def from_tables(cls, tables: Tables, name: str = "") -> Testbed:
        return cls(tables.models, tables.scores, tables.tasks, name)

    @classmethod
    def build(cls, models: pd.DataFrame, scores: pd.DataFrame, tasks: pd.DataFrame | None = None,
              name: str = "") -> Testbed:
        return cls.from_tables(build_tables(models, scores, tasks), name)

    # --- what is in it -----------------------------------------------------------------------------------
    @property
    def loss_names(self) -> list[str]:
        return loss_names(self.models)

    @property
    def task_names(self) -> list[str]:
        return self.tasks["task"].tolist()

    @property
    def x_names(self) -> list[str]:
        """Everything a series can be plotted against: the validation losses, then the scale axes."""
        return self.loss_names + [a for a in SCALE_AXES if self.models[a].notna().any()]

    def __len__(self) -> int:
        return len(self.models)

    def __repr__(self) -> str:
        return (f"Testbed({self.name or 'unnamed'}: {len(self.models)} models, {len(self.tasks)} tasks, "
                f"{len(self.scores)} scores, losses={self.loss_names})")

    def equals(self, other: Testbed) -> bool:
        return (self.models.equals(other.models) and self.scores.equals(other.scores)
                and self.tasks.equals(other.tasks))

    def summary(self) -> pd.DataFrame:
        """One row per family and corpus: how many models, runs and checkpoints, the scale ranges, and how many
        tasks and scores (the shared ``summary()`` of every result, a DataFrame; :meth:`describe` has the rest)."""
        m = self.models.assign(family=self.models["family"].fillna("-"), corpus=self.models["corpus"].fillna("-"))
        scored = self.scores.merge(m[["model", "family", "corpus"]], on="model", how="left")
        g = m.groupby(["family", "corpus"], dropna=False)
        out = g.agg(models=("model", "size"), runs=("run", "nunique"), checkpoints=("step", "count"))
        for axis in SCALE_AXES:
            out[f"{axis}_min"], out[f"{axis}_max"] = g[axis].min(), g[axis].max()
        sg = scored.groupby(["family", "corpus"], dropna=False)
        out["tasks"], out["scores"] = sg["task"].nunique(), sg.size()
        return out.fillna({"tasks": 0, "scores": 0}).astype({"tasks": int, "scores": int}).reset_index()

    def describe(self) -> dict:
        """What ``scalecheck show`` prints: counts, scale ranges, tasks and losses."""
        m = self.models
        groups = (m.assign(family=m["family"].fillna("-"), corpus=m["corpus"].fillna("-"))
                  .groupby(["family", "corpus"], dropna=False).size().rename("models").reset_index())
        ranges = {a: (float(m[a].min()), float(m[a].max())) for a in SCALE_AXES if m[a].notna().any()}
        settings = self.scores.groupby(["shots", "variant"], dropna=False).size()
        return {
            "name": self.name,
            "n_models": len(m),
            "n_tasks": len(self.tasks),
            "n_scores": len(self.scores),
            "groups": groups.to_dict("records"),
            "ranges": ranges,
            "losses": self.loss_names,
            "metrics": sorted(self.scores["metric"].unique().tolist()),
            "n_settings": int(len(settings)),
            "n_holdout": int(m["holdout"].sum()),
            "tasks": self.task_names,
        }

    # --- selecting series ---------------------------------------------------------------------------------
    def default_x(self) -> str:
        """The x an analysis uses when none is named: c4_val where the testbed has it (the Gadre et al.
        convention), else its first validation loss, else FLOPs."""
        if "c4_val" in self.loss_names:
            return "c4_val"
        if self.loss_names:
            return self.loss_names[0]
        return "flops"

    def x_column(self, x: str) -> tuple[str, bool]:
        """The models column holding ``x`` and whether it is a loss; a one-line SelectionError if it is unknown."""
        if x in SCALE_AXES:
            return x, False
        name = x[len(LOSS_PREFIX):] if x.startswith(LOSS_PREFIX) else x
        if name in self.loss_names:
            return LOSS_PREFIX + name, True
        raise SelectionError(f"unknown x {x!r}; choose one of: {', '.join(self.x_names)}")

    def _resolve(self, task: str, metric: str | None, shots: int | None, variant: str | None) -> pd.DataFrame:
        sub = self.scores[self.scores["task"] == task]
        if sub.empty:
            raise SelectionError(f"unknown task {task!r} ({len(self.tasks)} tasks; see `scalecheck show`)")
        if metric is None:
            row = self.tasks[self.tasks["task"] == task]
            default = row["metric"].iloc[0] if len(row) else pd.NA
            metrics = sub["metric"].unique().tolist()
            if pd.notna(default) and default in metrics:
                metric = default
            elif len(metrics) == 1:
                metric = metrics[0]
            else:
                raise SelectionError(f"task {task!r} has several metrics {sorted(metrics)}; name one")
        sub = sub[sub["metric"] == metric]
        if sub.empty:
            raise SelectionError(f"task {task!r} has no metric {metric!r}")
        if shots is not None:
            sub = sub[sub["shots"] == shots]
        if variant is not None:
            sub = sub[sub["variant"] == variant]
        settings = sub[["shots", "variant"]].drop_duplicates()
        if len(settings) > 1:
            opts = [f"shots={r.shots}, variant={r.variant!r}" for r in settings.itertuples()]
            raise SelectionError(f"task {task!r} [{metric}] has several settings ({'; '.join(opts)}); choose one")
        if sub.empty:
            raise SelectionError(f"task {task!r} [{metric}] has no scores with shots={shots}, variant={variant!r}")
        return sub

    def series(self, task: str, x: str = "c4_val", *, metric: str | None = None, where: dict | None = None,
               shots: int | None = None, variant: str | None = None, group_by: str = "corpus") -> Series:
        """One task and metric against ``x`` (a validation-loss name, or params/params_nonembed/tokens/flops).

        ``where`` filters models by column values (``{"corpus": "rpj"}``); ``group_by`` names the model column
        whose value labels each point (for colours and per-group work).
        """
        xcol, is_loss = self.x_column(x)
        sub = self._resolve(task, metric, shots, variant)
        models = self.models
        if where:
            for k, v in where.items():
                if k not in models.columns:
                    raise SelectionError(f"cannot filter on {k!r}: not a model column")
                models = models[models[k] == v]
        df = sub.merge(models, on="model", how="inner", validate="one_to_one")
        ok = df[xcol].notna() & df["value"].notna()
        n_dropped = int((~ok).sum())
        if n_dropped:
            log.debug("%s vs %s: dropped %d model(s) without a value or an x", task, x, n_dropped)
        df = df[ok].sort_values([xcol, "model"], kind="mergesort")
        first = sub.iloc[0]
        chance = df["chance"].dropna()
        hib = sub["higher_is_better"].dropna()
        return Series(
            task=task, metric=str(first["metric"]), x_name=x[len(LOSS_PREFIX):] if x.startswith(LOSS_PREFIX) else x,
            x=df[xcol].to_numpy(float), y=df["value"].to_numpy(float), stderr=df["stderr"].to_numpy(float),
            n_examples=df["n_examples"].to_numpy(float), models=tuple(df["model"].tolist()),
            params=df["params"].to_numpy(float), tokens=df["tokens"].to_numpy(float),
            flops=df["flops"].to_numpy(float),
            groups=tuple(df[group_by].fillna("-").astype(str).tolist()) if group_by in df else ("-",) * len(df),
            holdout=df["holdout"].fillna(False).to_numpy(bool),
            chance=float(chance.iloc[0]) if len(chance) else float("nan"),
            higher_is_better=bool(hib.iloc[0]) if len(hib) else True,
            x_is_loss=is_loss, scope=dict(where or {}),
            shots=None if pd.isna(first["shots"]) else int(first["shots"]), variant=str(first["variant"]),
            n_dropped=n_dropped,
        )

    def split_series(self, task: str, x: str = "c4_val", by: str = "corpus", **kwargs) -> dict[str, Series]:
        """One series per value of the model column ``by`` (corpus, family, ...)."""
        if by not in self.models.columns:
            raise SelectionError(f"cannot split by {by!r}: not a model column")
        values = sorted(self.models[by].dropna().unique().tolist())
        return {v: self.series(task, x, where={by: v}, group_by=by, **kwargs) for v in values}

    def iter_series(self, x: str = "c4_val", *, by: str | None = None, tasks: list[str] | None = None,
                    metric: str | None = None) -> Iterator[Series]:
        """Every task's series (pooled, or one per value of ``by``), in task order."""
        for task in tasks or self.task_names:
            if by is None:
                yield self.series(task, x, metric=metric)
            else:
                yield from self.split_series(task, x, by=by, metric=metric).values()

    # --- subsets and joins --------------------------------------------------------------------------------
    def select(self, *, models: list[str] | None = None, tasks: list[str] | None = None, **where) -> Testbed:
        m = self.models
        if models is not None:
            m = m[m["model"].isin(models)]
        for k, v in where.items():
            m = m[m[k].isin(v if isinstance(v, (list, tuple, set)) else [v])]
        s = self.scores[self.scores["model"].isin(m["model"])]
        t = self.tasks
        if tasks is not None:
            s, t = s[s["task"].isin(tasks)], t[t["task"].isin(tasks)]
        return Testbed.build(m, s, t, self.name)

    def concat(self, other: Testbed, name: str = "") -> Testbed:
        tasks = pd.concat([self.tasks, other.tasks[~other.tasks["task"].isin(self.tasks["task"])]])
        return Testbed.build(pd.concat([self.models, other.models], ignore_index=True),
                             pd.concat([self.scores, other.scores], ignore_index=True), tasks,
                             name or self.name)

    # --- files --------------------------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """The long format: one row per score, with its model's and task's columns joined on.

        This is the documented plain format that ``scalecheck import csv`` reads back.
        """
        task_cols = self.tasks[["task", "task_type", "category"]]
        return self.scores.merge(self.models, on="model", how="left").merge(task_cols, on="task", how="left")

    def to_parquet(self, path: str | Path) -> Path:
        """Write the long format (pandas-readable), with the exact three tables in the file's metadata."""
        path = Path(path)
        table = pa.Table.from_pandas(self.to_frame(), preserve_index=False)
        blobs = {}
        for key, df in (("models", self.models), ("scores", self.scores), ("tasks", self.tasks)):
            buf = io.BytesIO()
            df.to_parquet(buf, index=False)
            blobs[key] = buf.getvalue()
        meta = dict(table.schema.metadata or {})
        meta[_META_KEY] = FORMAT_VERSION.encode() + b"|" + (self.name or "").encode()
        for key, blob in blobs.items():
            meta[_META_KEY + b"." + key.encode()] = blob
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        pq.write_table(table.replace_schema_metadata(meta), tmp)
        tmp.replace(path)  # atomic: an interrupted write never leaves a half file under the real name
        return path

    @classmethod
    def read(cls, path: str | Path) -> Testbed:
        """Read a testbed written by :meth:`to_parquet`, any long-format Parquet/CSV file, or an evaluate output folder."""
        path = Path(path)
        if not path.exists():
            raise InputError(path, "no such file")
        if path.is_dir():  # the output folder of `scalecheck evaluate`, through its importer
            from ..sources import read as read_source
            return cls.from_tables(read_source("evaluate", path), name=path.name)
        if path.suffix.lower() != ".parquet":
            from ..sources.plain import read_long_file
            return cls.from_tables(read_long_file(path), name=path.stem)
        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises several types for a corrupt file
            raise InputError(path, f"not a readable Parquet file ({exc.__class__.__name__})") from None
        meta = pf.schema_arrow.metadata or {}
        if _META_KEY in meta:
            version, _, name = meta[_META_KEY].decode().partition("|")
            if version != FORMAT_VERSION:
                raise InputError(path, f"testbed format version {version} is not supported (expected {FORMAT_VERSION})")
            frames = [pd.read_parquet(io.BytesIO(meta[_META_KEY + b"." + k])) for k in (b"models", b"scores", b"tasks")]
            return cls.from_tables(build_tables(*frames, origin=str(path)), name=name)
        from ..sources.plain import read_long_file
        return cls.from_tables(read_long_file(path), name=path.stem)


