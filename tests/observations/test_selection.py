"""The shared selection: validated once against a testbed, one-line errors naming the field."""

import dataclasses

import pytest

from scalecheck.errors import SelectionError
from scalecheck.observations import Selection


def test_defaults_fill_in_and_the_selection_is_frozen(builtin_testbed):
    sel = Selection().validate(builtin_testbed)
    assert sel.x == "c4_val" and sel.by is None and sel.checkpoints == "final"
    assert Selection(x="loss_c4_val").validate(builtin_testbed).x == "c4_val"
    with pytest.raises(dataclasses.FrozenInstanceError):
        sel.x = "params"
    assert Selection(tasks=["copa"]).tasks == ("copa",)  # a list becomes a tuple: hashable, immutable
    assert Selection.of(sel, by="corpus", x=None).by == "corpus" and Selection.of(sel, by="corpus").x == "c4_val"


@pytest.mark.parametrize("fields, message", [
    ({"x": "c4"}, "unknown x 'c4'"),
    ({"by": "corpra"}, "cannot split by 'corpra'.*did you mean 'corpus'"),
    ({"by": "none"}, "use None to pool"),
    ({"tasks": ("hellaswag", "helaswag")}, "unknown task.*'helaswag'.*did you mean 'hellaswag'"),
    ({"metric": "acc_nrom"}, "unknown metric 'acc_nrom'"),
    ({"shots": 7}, "unknown shots 7.*0, 10, 3, 5"),
    ({"variant": "mc"}, "unknown variant 'mc'"),
])
def test_bad_fields_are_one_line_errors_naming_the_field(builtin_testbed, fields, message):
    with pytest.raises(SelectionError, match=message) as err:
        Selection(**fields).validate(builtin_testbed)
    assert "\n" not in str(err.value)


def test_checkpoints_are_checked_on_construction():
    with pytest.raises(SelectionError, match="checkpoints must be"):
        Selection(checkpoints="last")


def test_default_x_prefers_c4_then_the_first_loss_then_flops(builtin_testbed):
    from scalecheck import Testbed

    tb = builtin_testbed
    assert tb.default_x() == "c4_val"
    losses = [c for c in tb.models.columns if c.startswith("loss_")]
    no_c4 = Testbed.build(tb.models.drop(columns="loss_c4_val"), tb.scores, tb.tasks)
    assert no_c4.default_x() == no_c4.loss_names[0] != "c4_val"
    none = Testbed.build(tb.models.drop(columns=losses), tb.scores, tb.tasks)
    assert none.default_x() == "flops"
