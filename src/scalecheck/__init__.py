"""scalecheck: does a downstream task scale predictably with language-model scale, and why (not)?

Layers (data flows one way; nothing low imports anything high)::

    schema, errors -> sources, evaluation -> observations -> laws -> trends, backtest, sensitivity -> report -> cli
"""

__version__ = "0.1.0"

from .errors import InputError, ScalecheckError, SelectionError  # noqa: E402
from .observations import Series, Testbed, load  # noqa: E402

__all__ = ["load", "Testbed", "Series", "ScalecheckError", "InputError", "SelectionError", "__version__"]
