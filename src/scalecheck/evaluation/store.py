"""The results store: an SQLite database (WAL, one transaction per batch) of per-example scores.

Keyed by (model key, task content hash, setting, example index), so that an interrupted run resumes where it
stopped, a rerun of finished work costs nothing, and a changed model, task file or setting never reuses
stale numbers. A record is the JSON of an example's class log-probabilities: the metrics are recomputed from
it, so the outputs written from the store are the same whatever order the work was done in.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from ..errors import InputError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    model_key TEXT NOT NULL,
    task_hash TEXT NOT NULL,
    setting TEXT NOT NULL,
    example INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (model_key, task_hash, setting, example)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS models (
    model_key TEXT PRIMARY KEY,
    identity TEXT NOT NULL
);
"""


class ResultStore:
    """Per-example results of (model, task, setting) runs; safe to kill at any point."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable against a killed process under WAL (only an OS crash can lose the last commit).
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InputError(self.path, f"not a scalecheck results database ({exc})") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def remember_model(self, key: str, identity: dict) -> None:
        self.db.execute("INSERT OR IGNORE INTO models VALUES (?, ?)", (key, json.dumps(identity, sort_keys=True)))

    def model_identity(self, key: str) -> dict | None:
        """What the store remembers of a model (its identity and parameter counts), or None if never loaded."""
        row = self.db.execute("SELECT identity FROM models WHERE model_key=?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def done(self, model_key: str, task_hash: str, setting: str) -> set[int]:
        cur = self.db.execute("SELECT example FROM results WHERE model_key=? AND task_hash=? AND setting=?",
                              (model_key, task_hash, setting))
        return {r[0] for r in cur}

    def put(self, model_key: str, task_hash: str, setting: str, records: Iterable[tuple[int, dict]]) -> None:
        """Write a batch of example records in one transaction: all of them, or (if killed) none."""
        rows = [(model_key, task_hash, setting, int(i), json.dumps(rec, sort_keys=True)) for i, rec in records]
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?)", rows)
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def records(self, model_key: str, task_hash: str, setting: str) -> dict[int, dict]:
        cur = self.db.execute("SELECT example, record FROM results WHERE model_key=? AND task_hash=? AND setting=? "
                              "ORDER BY example", (model_key, task_hash, setting))
        return {i: json.loads(r) for i, r in cur}
