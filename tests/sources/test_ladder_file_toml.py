import sys

import pytest

from scalecheck.errors import InputError
from scalecheck.sources.ladder_file import read_ladder

TOML = """\
family = "tiny"
corpus = "synthetic"

[[models]]
name = "t1"
path = "./m1"
params = 1.0e6
tokens = 2.0e7
losses = { val = 4.2 }

[[models]]
id = "org/t2"
revision = "main"
params = 1.0e7
tokens = 2e8
holdout = true
"""


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is in the standard library from 3.11")
def test_toml_ladder_reads_like_yaml(tmp_path):
    p = tmp_path / "ladder.toml"
    p.write_text(TOML)
    lad = read_ladder(p)
    assert [m.name for m in lad.models] == ["t1", "org/t2"]
    assert lad.models[0].path == (tmp_path / "m1").resolve() and lad.models[0].losses == {"val": 4.2}
    assert lad.models[1].holdout and lad.models[1].family == "tiny" and lad.models[1].tokens == 2e8


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is in the standard library from 3.11")
def test_malformed_toml_is_one_line(tmp_path):
    p = tmp_path / "ladder.toml"
    p.write_text("models = [\n")
    with pytest.raises(InputError, match="malformed TOML") as e:
        read_ladder(p)
    assert "\n" not in str(e.value)
