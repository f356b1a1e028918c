"""scalecheck: does a downstream task scale predictably with language-model scale, and why (not)?

Layers (data flows one way; nothing low imports anything high)::

    schema, errors, progress -> sources, evaluation -> observations -> laws -> trends, backtest, sensitivity
    -> report -> cli

``load``, ``Testbed`` and ``Series`` are imported on first use (PEP 562), so that ``import scalecheck.cli``
(and ``scalecheck --help``) does not pay for pandas and pyarrow.
"""

__version__ = "0.1.0"

from .errors import InputError, ScalecheckError, SelectionError  # noqa: E402

__all__ = ["load", "Testbed", "Series", "ScalecheckError", "InputError", "SelectionError", "__version__"]

_LAZY = {"load": "load", "Testbed": "Testbed", "Series": "Series"}


def __getattr__(name: str):
    if name in _LAZY:
        from . import observations

        value = getattr(observations, _LAZY[name])
        globals()[name] = value
        return value
    raise AttributeError(f"module 'scalecheck' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
