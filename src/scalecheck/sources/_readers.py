"""Small validated readers shared by the importers: every failure becomes a one-line InputError."""

from __future__ import annotations

import json
import math
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError


def read_text(path: Path) -> str:
    """The file's text (UTF-8)."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror})") from None


def read_lines(path: Path) -> list[str]:
    """The file's lines (UTF-8), split at line ends only (not at the other breaks str.splitlines knows, which a
    JSON string may hold)."""
    return read_text(path).split("\n")


def read_json(path: Path) -> Any:
    text = read_text(path)
    if not text.strip():
        raise InputError(path, "empty file")
    try:
        # NaN/Infinity are not JSON; reject them rather than let them into the testbed silently.
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"malformed JSON ({exc.msg})", row=exc.lineno, where="line") from None
    except _DuplicateKey as exc:
        raise InputError(path, "key appears twice in one object (JSON readers would keep only the last)",
                         field=exc.key) from None
    except ValueError as exc:
        # json gives no position for a bad constant: find it in the text to name its line and key.
        m = _CONSTANT.search(text)
        if m is None:
            raise InputError(path, str(exc)) from None
        raise InputError(path, str(exc), row=text.count("\n", 0, m.start("value")) + 1, field=m.group("key"),
                         where="line") from None


_CONSTANT = re.compile(r'"(?P<key>(?:[^"\\]|\\.)*)"\s*:\s*(?P<value>-?(?:NaN|Infinity))\b')


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return d


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a valid number")


def read_json_line(line: str, path: Path, row: int) -> Any:
    """One line of a JSON-lines file (row ``row`` of ``path``), NaN and Infinity rejected as in :func:`read_json`."""
    try:
        return json.loads(line, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"malformed JSON ({exc.msg})", row=row, where="line") from None
    except ValueError as exc:
        raise InputError(path, str(exc), row=row, where="line") from None


def field(obj: Any, key: str, path: Path, *, where: str | None = None, kind: type | tuple = object) -> Any:
    """``obj[key]``, checked to exist and to be of ``kind``; ``where`` locates obj in the file."""
    label = key if where is None else f"{where}.{key}"
    if not isinstance(obj, dict) or key not in obj:
        raise InputError(path, "missing", field=label)
    value = obj[key]
    if kind is float:
        return number(value, path, label)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InputError(path, f"expected {getattr(kind, '__name__', kind)}, got {type(value).__name__}",
                         field=label)
    return value


def number(value: Any, path: Path | None, label: str, *, row: int | str | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(path, f"expected a number, got {value!r}", field=label, row=row)
    v = float(value)
    if not math.isfinite(v):
        raise InputError(path, f"{value!r} is not a finite number", field=label, row=row)
    return v


def _not_utf8(path: Path) -> InputError:
    """Where a file stops being UTF-8, as its editor line (pandas reports an offset into its own read buffer)."""
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return InputError(path, f"not UTF-8 text (byte {raw[exc.start]:#04x} at column {column}; save the file "
                                "as UTF-8)", row=line, where="line")
    return InputError(path, "not UTF-8 text")


def read_csv(path: Path, **kwargs) -> pd.DataFrame:
    """``pandas.read_csv`` with every failure (missing, not UTF-8, empty, malformed, no rows) as an InputError."""
    if not path.is_file():
        raise InputError(path, "missing file")
    try:
        df = pd.read_csv(path, encoding="utf-8", **kwargs)
    except UnicodeDecodeError:
        raise _not_utf8(path) from None
    except pd.errors.EmptyDataError:
        raise InputError(path, "empty file") from None
    except pd.errors.ParserError as exc:
        raise InputError(path, f"malformed CSV ({str(exc).splitlines()[0]})") from None
    if df.empty:
        raise InputError(path, "no rows")
    return df


# --- A source's built-in copy (in scalecheck/sources/builtin): figures and ids only, no text --------------------
def read_builtin_csv(name: str, dtype: dict[str, str]) -> pd.DataFrame:
    """One table of a built-in copy, its text columns read as ``dtype`` says."""
    with resources.files("scalecheck.sources.builtin").joinpath(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=dtype)


def wide_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """The scores as one model x task table of values (how a built-in copy stores them)."""
    return scores.pivot(index="model", columns="task", values="value").reset_index()
