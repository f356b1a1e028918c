"""Sources: importers of published multi-scale results, each in its own module behind one registry.

An importer reads a folder or file and returns :class:`scalecheck.schema.Tables`. Importers register
themselves with :func:`register`; :func:`get` and :func:`available` look them up. The testbed layer
(``scalecheck.observations``) turns tables into a :class:`~scalecheck.observations.Testbed`.
"""

from .registry import Source, available, builtin_names, get, read, register  # noqa: F401

# Import the importer modules so that they register themselves.
from . import gadre2024  # noqa: E402,F401  isort: skip
from . import plain  # noqa: E402,F401  isort: skip
from . import pythia  # noqa: E402,F401  isort: skip
from . import olmo_ladder  # noqa: E402,F401  isort: skip
from . import obsscaling  # noqa: E402,F401  isort: skip
from . import lm_eval  # noqa: E402,F401  isort: skip
from . import evaluate_output  # noqa: E402,F401  isort: skip
from . import michaelov2023  # noqa: E402,F401  isort: skip
from . import sloth  # noqa: E402,F401  isort: skip
