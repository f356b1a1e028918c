"""The laws' extension seam: a user's form fits, predicts and reports; check_form and register_form."""

import dataclasses
import json

import numpy as np
import pytest

from scalecheck.errors import ScalecheckError
from scalecheck.laws import (
    FORMS,
    Form,
    UnknownFormError,
    check_form,
    fit,
    fit_chain,
    get_form,
    register_form,
)
from scalecheck.laws.forms import Exponential


@pytest.mark.parametrize("name", sorted(FORMS))
def test_every_built_in_form_meets_the_contract(name):
    check_form(FORMS[name])


def test_an_unregistered_form_predicts_and_reports():
    # Bug 1: the result kept the form's name and looked it up in FORMS again, so .predict raised KeyError.
    mine = dataclasses.replace(FORMS["exponential"], name="my_exponential")
    assert "my_exponential" not in FORMS
    x = np.linspace(2.5, 4.5, 12)
    y = 0.9 - 2.0 * np.exp(-1.1 * x) + np.random.default_rng(0).normal(0, 0.003, 12)
    law = fit(x, y, mine, n_boot=20)
    assert law.usable and law.law is mine and law.form == "my_exponential"
    assert np.isfinite(law.predict([3.0])).all()
    lo, hi = law.interval([3.0], kind="prediction")
    assert lo[0] < law.predict([3.0])[0] < hi[0]
    assert "my_exponential" in str(law) and set(law.summary()["form"]) == {"my_exponential"}
    assert json.loads(json.dumps(law.to_dict()))["form"] == "my_exponential"
    chain = fit_chain(fit(np.linspace(1, 2, 10), np.linspace(4.5, 2.5, 10), "linear"), law)
    assert np.isfinite(chain.predict([1.5])).all() and "my_exponential" in str(chain)
    check_form(mine)  # the contract holds for the variant too


@dataclasses.dataclass(frozen=True)
class _Swapped(Exponential):
    """An exponential whose assemble() mislabels a and b: its projection and its formula disagree."""

    name: str = "swapped"

    def assemble(self, theta, beta, ctx):
        p = super().assemble(theta, beta, ctx)
        return p[:, [1, 0, 2]]


@dataclasses.dataclass(frozen=True)
class _TooFewFlags(Exponential):
    name: str = "too_few_flags"
    linear_nonneg: tuple = (False,)


def test_check_form_names_the_broken_part_of_the_contract():
    with pytest.raises(AssertionError, match="swapped.*variable projection"):
        check_form(_Swapped())
    with pytest.raises(AssertionError, match="too_few_flags.*2 columns for 1 linear_nonneg"):
        check_form(_TooFewFlags())
    with pytest.raises(AssertionError, match="Form instance"):
        check_form("exponential")


def test_register_form_and_did_you_mean():
    @dataclasses.dataclass(frozen=True)
    class Steep(Exponential):
        name: str = "test_steep_exponential"

    form = Steep()
    try:
        assert register_form(form) is form and get_form("test_steep_exponential") is form
        with pytest.raises(ValueError, match="already registered"):
            register_form(dataclasses.replace(form))
        register_form(dataclasses.replace(form), replace=True)
    finally:
        FORMS.pop("test_steep_exponential", None)
    with pytest.raises(UnknownFormError, match="did you mean 'exponential'") as err:
        get_form("exponentail")
    assert isinstance(err.value, KeyError) and isinstance(err.value, ScalecheckError)
    with pytest.raises(TypeError):
        register_form("exponential")


def test_each_forms_settings_live_in_its_class():
    for name, form in FORMS.items():
        fresh = type(form)()
        assert fresh == form and fresh.name == name and isinstance(fresh, Form)
