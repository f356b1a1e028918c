import pytest

from scalecheck.errors import InputError
from scalecheck.sources.ladder_file import read_ladder

LADDER = """\
family: tiny
corpus: synthetic
models:
  - name: t1
    path: ./m1
    params: 1.0e6
    tokens: 2.0e7
    losses: {val: 4.2}
  - id: org/t2
    revision: main
    params: 1.0e7
    tokens: 2e8
    holdout: true
"""


def test_reads_ladder(tmp_path):
    p = tmp_path / "ladder.yaml"
    p.write_text(LADDER)
    lad = read_ladder(p)
    assert [m.name for m in lad.models] == ["t1", "org/t2"]
    assert lad.models[0].path == (tmp_path / "m1").resolve()
    assert lad.models[1].tokens == 2e8 and lad.models[1].holdout and lad.models[1].family == "tiny"
    df = lad.models_frame()
    assert df.loc[0, "loss_val"] == 4.2


@pytest.mark.parametrize("text, field", [
    (LADDER.replace("params: 1.0e6", "params: -5"), "params"),
    (LADDER.replace("holdout: true", "holdout: maybe"), "holdout"),
    (LADDER.replace("    revision: main\n", "    colour: red\n"), "colour"),
    (LADDER.replace("name: t1", "name: org/t2"), "name"),
    (LADDER.replace("{val: 4.2}", "[4.2]"), "losses"),
])
def test_bad_ladder(tmp_path, text, field):
    p = tmp_path / "ladder.yaml"
    p.write_text(text)
    with pytest.raises(InputError) as e:
        read_ladder(p)
    assert e.value.field == field


def test_malformed_yaml(tmp_path):
    p = tmp_path / "ladder.yaml"
    p.write_text("models: [\n")
    with pytest.raises(InputError, match="malformed YAML"):
        read_ladder(p)
