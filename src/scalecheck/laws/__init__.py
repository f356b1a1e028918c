"""Laws: scaling-law forms and a fast, robust fitting engine with honest uncertainty.

``fit(x, y, form)`` fits one law (variable projection on a data-tied grid, then a robust polish where needed),
``fit_series(series, form)`` fits a :class:`~scalecheck.observations.Series`, ``fit_batch``/``fit_many`` fit
many series (and all their bootstrap replicates) as one vectorised batch, and ``fit_chain(step1, step2)``
composes scale -> loss -> metric with both steps' uncertainty.

Forms are the extension seam: subclass :class:`Form` (settings as field defaults), test it with
:func:`check_form`, and :func:`register_form` it to make its name known; a fitted :class:`LawFit` keeps the form
object itself, so an unregistered form works too.
"""

from . import recent_forms  # noqa: F401  (registers the newer forms)
from .api import fit, fit_batch, fit_many, fit_series, law_x
from .chain import ChainFit, fit_chain
from .check import check_form
from .forms import FORMS, Form, UnknownFormError, get_form, register_form
from .quality import Quality
from .result import LawFit, Predictor

__all__ = ["fit", "fit_series", "law_x", "fit_batch", "fit_many", "fit_chain", "LawFit", "Quality", "ChainFit",
           "Predictor", "FORMS", "Form", "get_form", "register_form", "check_form", "UnknownFormError"]
