"""The one progress protocol of the Python API: ``progress(done, total, what)``.

Long-running analyses (the reality check, backtests, sensitivity, report drawing) take an optional
``progress`` callable and call it with how many steps are done, how many there are in all and a short label of
the step under way. The library never draws anything itself: the ``scalecheck`` command turns these calls into a
rich progress bar (``scalecheck.cli._common.progress_display``), a notebook may pass its own, and ``None``
(the default) reports nothing.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int, str], None]  # (done, total, what is under way)


def report(progress: Progress | None, done: int, total: int, what: str) -> None:
    """Call ``progress`` if there is one (analyses call this rather than checking for None each time)."""
    if progress is not None:
        progress(done, total, what)


__all__ = ["Progress", "report"]
