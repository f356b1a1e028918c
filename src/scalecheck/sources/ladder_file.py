"""Ladder files (YAML, or TOML with the same keys): the models of a family with their sizes, tokens, corpus and known losses.

Used by the ``lm-eval`` importer for model metadata and by ``scalecheck evaluate`` to know what to score::

    family: pythia              # optional; defaults for every model below
    corpus: pile
    models:
      - name: pythia-70m        # id in the testbed (default: the id, or the path's folder name)
        id: EleutherAI/pythia-70m   # a hub id ...
        revision: step143000        # ... at a revision (optional)
      - name: tiny-local
        path: ./models/tiny     # ... or a local folder, relative to this file
        params: 70426624
        params_nonembed: 18915328
        tokens: 3.0e11
        flops: 1.3e20           # optional: 6*N*D when omitted
        step: 143000
        holdout: true           # a prediction target (fit on the others, predict this)
        losses: {pile_val: 2.51}
        gpus: 2                 # optional: GPUs one copy of the model needs (Ray executor; default from its size)

A ladder file can extend a built-in ladder (``scalecheck ladders`` lists them): ``extends: pythia`` puts the
built-in models first; a model of the file with the same name replaces the built-in one (to mark a holdout,
give known losses or a local copy), and the file's other models follow::

    extends: pythia@step143000
    models:
      - name: pythia-12b@step143000
        holdout: true

Every field is checked; errors name the file, the model's position and the field. :func:`resolve_ladder`
takes either a file or a built-in ladder's name.
"""

from __future__ import annotations

import math
from pathlib import Path

import yaml

from ..errors import InputError, ScalecheckError
from .ladder import Ladder, LadderModel

__all__ = ["Ladder", "LadderModel", "read_ladder", "builtin_ladder", "resolve_ladder"]  # the types live in .ladder

_MODEL_KEYS = {"name", "id", "path", "revision", "family", "corpus", "size", "params", "params_nonembed",
               "tokens", "flops", "step", "holdout", "losses", "dtype", "gpus"}
_TOP_KEYS = {"family", "corpus", "source", "models", "dtype", "extends"}


def _num(value, path: Path, where: str, key: str, *, integer: bool = False) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)  # YAML reads "3e11" (no dot) as a string
        except ValueError:
            raise InputError(path, f"expected a number, got {value!r}", row=where, field=key, where="model") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise InputError(path, f"expected a finite positive number, got {value!r}", row=where, field=key,
                         where="model")
    if integer:
        if float(value) != int(value):
            raise InputError(path, f"expected an integer, got {value!r}", row=where, field=key, where="model")
        return int(value)
    return float(value)


def _str(value, path: Path, where: str, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise InputError(path, f"expected text, got {type(value).__name__}", row=where, field=key, where="model")
    return str(value)


def _read_toml(path: Path, text: str) -> dict:
    """A TOML ladder: the same keys, models as an array of tables (``[[models]]``)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        raise InputError(path, "TOML ladder files need Python 3.11 or later; use YAML") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"malformed TOML ({exc})") from None


def read_ladder(path: str | Path, *, require_location: bool = False) -> Ladder:
    """Read a ladder file: YAML, or TOML when the name ends in .toml (same keys).

    ``require_location``: every model must say where its weights are (``id`` or ``path``), as ``evaluate``
    needs; a metadata-only ladder (the ``lm-eval`` importer's) may name its models alone.
    """
    path = Path(path)
    doc = _read_document(path)
    base, entries = _base_and_entries(doc, path)
    defaults = {k: _str(doc.get(k), path, "top", k) for k in ("family", "corpus", "dtype")}
    models: list[LadderModel] = []
    seen: set[str] = set()
    for i, e in enumerate(entries):
        models.append(_read_model(e, str(i), path, defaults, require_location, seen))
    if base is not None:
        # The file's models replace built-in ones of the same name, in place; the others follow.
        own = {m.name: m for m in models}
        models = [own.pop(m.name, m) for m in base.models] + [m for m in models if m.name in own]
    return Ladder(tuple(models), source=_str(doc.get("source"), path, "top", "source") or "ladder", path=path)


def _read_document(path: Path) -> dict:
    """The file's top-level mapping, with only known keys."""
    if not path.is_file():
        raise InputError(path, "no such ladder file")
    try:
        text = path.read_text(encoding="utf-8")
        doc = _read_toml(path, text) if path.suffix.lower() == ".toml" else yaml.safe_load(text)
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text (byte {exc.start})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(path, f"malformed YAML ({getattr(exc, 'problem', exc)})",
                         row=None if mark is None else mark.line + 1, where="line") from None
    if not isinstance(doc, dict):
        raise InputError(path, "expected a mapping with a 'models' list")
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise InputError(path, f"unknown key (known: {', '.join(sorted(_TOP_KEYS))})", field=sorted(unknown)[0])
    return doc


def _base_and_entries(doc: dict, path: Path) -> tuple[Ladder | None, list]:
    """The built-in ladder the file extends (None if none) and the file's own model entries."""
    base = None
    if doc.get("extends") is not None:
        try:
            base = builtin_ladder(str(doc["extends"]))
        except ScalecheckError as exc:
            raise InputError(path, str(exc), field="extends") from None
    entries = doc.get("models")
    if base is not None and entries is None:
        entries = []
    if not isinstance(entries, list) or (not entries and base is None):
        raise InputError(path, "expected a non-empty list of models", field="models")
    return base, entries


def _read_model(e, where: str, path: Path, defaults: dict, require_location: bool, seen: set[str]) -> LadderModel:
    """One model entry (at position ``where``), every field checked; its name added to ``seen``, the names of
    the entries before it."""
    if not isinstance(e, dict):
        raise InputError(path, "expected a mapping", row=where, where="model")
    unknown = set(e) - _MODEL_KEYS
    if unknown:
        raise InputError(path, f"unknown key (known: {', '.join(sorted(_MODEL_KEYS))})", row=where,
                         field=sorted(unknown)[0], where="model")
    hub_id, local_path = _location(e, where, path, require_location)
    name = _str(e.get("name"), path, where, "name") or hub_id or (local_path.name if local_path else None)
    if name in seen:
        raise InputError(path, f"duplicate model name {name!r}", row=where, field="name", where="model")
    seen.add(name)
    losses = e.get("losses") or {}
    if not isinstance(losses, dict):
        raise InputError(path, "expected a mapping of validation set to loss", row=where, field="losses",
                         where="model")
    holdout = e.get("holdout", False)
    if not isinstance(holdout, bool):
        raise InputError(path, f"expected true or false, got {holdout!r}", row=where, field="holdout",
                         where="model")
    return LadderModel(
        name=name, id=hub_id, path=local_path, revision=_str(e.get("revision"), path, where, "revision"),
        family=_str(e.get("family"), path, where, "family") or defaults["family"],
        corpus=_str(e.get("corpus"), path, where, "corpus") or defaults["corpus"],
        size=_str(e.get("size"), path, where, "size"),
        params=_num(e.get("params"), path, where, "params"),
        params_nonembed=_num(e.get("params_nonembed"), path, where, "params_nonembed"),
        tokens=_num(e.get("tokens"), path, where, "tokens"),
        flops=_num(e.get("flops"), path, where, "flops"),
        step=_num(e.get("step"), path, where, "step", integer=True) if e.get("step") != 0 else 0,
        holdout=holdout,
        dtype=_str(e.get("dtype"), path, where, "dtype") or defaults["dtype"],
        losses={str(k): float(_num(v, path, where, f"losses.{k}")) for k, v in losses.items()},
        gpus=_num(e.get("gpus"), path, where, "gpus") if e.get("gpus") != 0 else 0.0,
    )


def _location(e: dict, where: str, path: Path, require_location: bool) -> tuple[str | None, Path | None]:
    """Where a model's weights are: its hub id and its local path (relative to the ladder file), either or both
    None."""
    hub_id, local = _str(e.get("id"), path, where, "id"), _str(e.get("path"), path, where, "path")
    if hub_id is None and local is None and e.get("name") is None:
        raise InputError(path, "a model needs an 'id', a 'path' or at least a 'name'", row=where, field="id",
                         where="model")
    if require_location and hub_id is None and local is None:
        raise InputError(path, "a model to evaluate needs an 'id' (hub) or a 'path' (local folder or .gguf "
                               "file)", row=where, field="id", where="model")
    if local is not None and e.get("revision") is not None:
        raise InputError(path, "a local model has no revisions: 'revision' picks a checkpoint of a hub 'id'",
                         row=where, field="revision", where="model")
    local_path = None
    if local is not None:
        local_path = Path(local).expanduser()
        if not local_path.is_absolute():
            local_path = (path.parent / local_path).resolve()
    return hub_id, local_path


def builtin_ladder(spec: str) -> Ladder:
    """A built-in ladder (``scalecheck ladders``) by name: ``pythia``, ``opt``, ``pythia@step71000``."""
    from .public_ladders import builtin_models

    return Ladder(tuple(LadderModel(**m) for m in builtin_models(spec)), source="builtin", path=None)


def resolve_ladder(spec: str | Path, *, require_location: bool = False) -> Ladder:
    """A ladder file (YAML or TOML), or a built-in ladder by name (``pythia``, ``opt``, ``pythia@step71000``).

    A name that is neither an existing file nor a built-in ladder is refused in one line with the closest
    built-in names.
    """
    from .public_ladders import is_builtin, split_spec, unknown_ladder

    path = Path(spec).expanduser()
    if path.is_file():
        return read_ladder(path, require_location=require_location)
    text = str(spec)
    if is_builtin(text):
        return builtin_ladder(text)
    if path.suffix.lower() in (".yaml", ".yml", ".toml") or "/" in text or "\\" in text:
        return read_ladder(path, require_location=require_location)  # not there: "no such ladder file"
    raise unknown_ladder(split_spec(text)[0] if text.count("@") == 1 else text)
