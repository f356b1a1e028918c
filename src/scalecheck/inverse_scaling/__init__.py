"""Inverse scaling: the Inverse Scaling Prize's analysis (McKenzie et al. 2023), automated, on any testbed with a
scale axis, and Michaelov & Bergen's (2023) view of it over the course of pretraining.

``inverse_scaling(testbed)`` reads the trends classifier's verdict of every task over scale (per family) and over
training (per size) in the Prize's terms (inverse, inverted-U, U-shaped, standard, flat), measures each effect,
tests it with a multiple-testing adjustment over every test (Benjamini-Hochberg by default, or Holm), fits a model over the size x checkpoint grid, and computes the
Prize's judging criteria (strength, generality). :mod:`.synthetic` draws ladders of known shape to test it.
"""

from .analysis import (
    ALPHA,
    ANALYSES,
    CORRECTION,
    CORRECTIONS,
    DECLINE_STRETCH,
    DECLINING,
    PRIZE_TERMS,
    TERM_MEANING,
    TRENDS,
    InverseScaling,
    TrendTest,
    inverse_scaling,
    prize_term,
)
from .grid import GridFit, fit_grid

__all__ = ["inverse_scaling", "InverseScaling", "TrendTest", "GridFit", "fit_grid", "prize_term", "PRIZE_TERMS",
           "TERM_MEANING", "TRENDS", "DECLINING", "DECLINE_STRETCH", "ANALYSES", "CORRECTION", "CORRECTIONS", "ALPHA"]
