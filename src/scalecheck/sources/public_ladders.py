"""Built-in ladders of public model families: hub ids, sizes, training tokens, FLOPs, context and licence.

The figures live in ``builtin/public_ladders.csv``; ``builtin/NOTICE.md`` says where each comes from. A
ladder is named by its family (``pythia``, ``pythia-deduped``, ``gpt2``, ``opt``, ``gpt-neo``,
``cerebras-gpt``, ``smollm2``, ``qwen2.5``, ``olmo-2``); Pythia's take a checkpoint, ``pythia@step71000``,
which scores that hub revision of every model with the tokens seen by then::

    from scalecheck.sources.ladder_file import builtin_ladder
    from scalecheck.sources.public_ladders import public_ladders_frame
    ladder = builtin_ladder("pythia@step71000")   # a scalecheck.sources.ladder.Ladder
    public_ladders_frame()                        # every model of every ladder, one row each (pandas)
"""

from __future__ import annotations

import csv
import functools
from importlib import resources

from ..errors import ScalecheckError, close_matches

# Checkpoints published as hub revisions: the revision of a step, the tokens per step, and the valid steps.
PYTHIA_TOKENS_PER_STEP = 2_097_152
PYTHIA_STEPS = (0, *(2 ** k for k in range(10)), *range(1000, 143_001, 1000))
_CHECKPOINTS = {"pythia": PYTHIA_STEPS, "pythia-deduped": PYTHIA_STEPS}

_INT_FIELDS = ("params", "params_nonembed", "context")
_FLOAT_FIELDS = ("tokens", "flops")


@functools.cache
def _rows() -> tuple[dict, ...]:
    text = resources.files("scalecheck.sources.builtin").joinpath("public_ladders.csv").read_text(encoding="utf-8")
    rows = []
    for r in csv.DictReader(text.splitlines()):
        r = {k: (v if v != "" else None) for k, v in r.items()}
        for k in _INT_FIELDS:
            r[k] = None if r[k] is None else int(r[k])
        for k in _FLOAT_FIELDS:
            r[k] = None if r[k] is None else float(r[k])
        rows.append(r)
    return tuple(rows)


def ladder_names() -> list[str]:
    """The built-in ladders, in the file's order."""
    return list(dict.fromkeys(r["ladder"] for r in _rows()))


def closest_names(name: str, known: list[str], n: int = 3) -> list[str]:
    """The known names nearest ``name`` (difflib), for a one-line "did you mean" error."""
    return close_matches(name, known, n)


def unknown_ladder(name: str) -> ScalecheckError:
    names = ladder_names()
    near = closest_names(name, names)
    hint = f"; did you mean {' or '.join(near)}?" if near else ""
    return ScalecheckError(f"unknown ladder {name!r}: neither a ladder file nor a built-in ladder "
                           f"({', '.join(names)}){hint}")


def split_spec(spec: str) -> tuple[str, int | None]:
    """``"pythia@step71000"`` -> ``("pythia", 71000)``; ``"opt"`` -> ``("opt", None)``."""
    name, sep, rev = spec.partition("@")
    if not sep:
        return name, None
    if not rev.startswith("step") or not rev[4:].isdigit():
        raise ScalecheckError(f"ladder {spec!r}: a checkpoint is written NAME@stepN (e.g. pythia@step71000)")
    return name, int(rev[4:])


def is_builtin(spec: str) -> bool:
    try:
        return split_spec(spec)[0] in ladder_names()
    except ScalecheckError:
        return False


def builtin_models(spec: str) -> list[dict]:
    """The models of a built-in ladder (``NAME`` or ``NAME@stepN``) as LadderModel fields, in ladder order.

    ``scalecheck.sources.ladder_file.builtin_ladder`` makes them a Ladder (this module stays below it).
    """
    name, step = split_spec(spec)
    rows = [r for r in _rows() if r["ladder"] == name]
    if not rows:
        raise unknown_ladder(name)
    if step is not None:
        steps = _CHECKPOINTS.get(name)
        if steps is None:
            have = ", ".join(_CHECKPOINTS)
            raise ScalecheckError(f"ladder {name!r} publishes no step checkpoints as revisions (these do: {have})")
        if step not in steps:
            near = min(steps, key=lambda s: abs(s - step))
            raise ScalecheckError(f"{name} has no checkpoint step{step}: steps are 0, 1, 2, 4, ..., 512 and "
                                  f"every 1000 to 143000 (nearest: step{near})")
    models = []
    for r in rows:
        tokens, flops, revision, mname = r["tokens"], r["flops"], None, r["name"]
        if step is not None:
            revision, mname = f"step{step}", f"{r['name']}@step{step}"
            # Tokens seen by the checkpoint; none at step 0 (the initialisation), as the Pythia importer has it.
            tokens = float(step * PYTHIA_TOKENS_PER_STEP) if step > 0 else None
            flops = 6.0 * r["params"] * tokens if tokens else None
        models.append(dict(name=mname, id=r["id"], revision=revision, family=name, corpus=r["corpus"],
                           size=r["size"], params=float(r["params"]), params_nonembed=float(r["params_nonembed"]),
                           tokens=tokens, flops=flops, step=step))
    return models


def public_ladders_frame(name: str | None = None):
    """Every built-in model (or one ladder's), one row each: the columns of ``public_ladders.csv``."""
    import pandas as pd

    if name is not None:
        base, _ = split_spec(name)
        if base not in ladder_names():
            raise unknown_ladder(base)
    rows = [r for r in _rows() if name is None or r["ladder"] == split_spec(name)[0]]
    return pd.DataFrame(list(rows))
