import pytest

from scalecheck.trends import reality_check

# Task names a testbed could carry: markup and ampersands must come out as text, never as HTML.
HOSTILE = "<script>alert(1)</script> & co"


@pytest.fixture(scope="session")
def hostile() -> str:
    return HOSTILE


@pytest.fixture(scope="session")
def small_result(builtin_testbed):
    """A reality check on three tasks, one of them renamed to something hostile."""
    tb = builtin_testbed.select(tasks=["hellaswag", "copa", "mmlu"])
    scores = tb.scores.copy()
    tasks = tb.tasks.copy()
    scores.loc[scores["task"] == "copa", "task"] = HOSTILE
    tasks.loc[tasks["task"] == "copa", "task"] = HOSTILE
    tb = type(tb).build(tb.models, scores, tasks, name="small & <b>bold</b>")
    return tb, reality_check(tb, by="corpus")
