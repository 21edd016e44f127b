"""Exercise integrity: both directions of grading, and exercises/ is generated.

- every graded check passes on solutions/ (nbval runs solutions/ in `make test`; here we
  also check each check's stored output is its one success line);
- every graded check fails on exercises/ as shipped (nbgrader's `validate --invert`);
- regenerating exercises/ from solutions/ changes nothing;
- a one-line mistake in a solution makes its check fail with a message saying what was
  expected.
"""

import re
from pathlib import Path

import pytest
from nbclient import NotebookClient

from prunerec import notebooks as nbt

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("ex*.ipynb"))
SUCCESS = re.compile(r"^✓ \d+\.\d+ \S+: (\d+)/\1 checks passed\n$")


def _run(nb, cwd):
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(cwd)}},
    ).execute()
    return nb


def _errors(cell):
    return [o for o in cell.outputs if o.output_type == "error"]


def test_there_are_exercises():
    assert SOLUTIONS, "solutions/ holds no exercise"


def test_regenerating_exercises_changes_nothing():
    changed = nbt.generate_exercises(ROOT / "solutions", ROOT / "exercises", check=True)
    assert not changed, f"exercises/ is stale, run `make exercises`: {changed}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_solution_check_cells_are_well_formed(path):
    nb = nbt.read(path)
    checks = nbt.check_cells(nb)
    assert checks, f"{path.name} has no graded check cell"
    ids = [c.id for c in checks]
    assert len(set(ids)) == len(ids)
    for c in checks:
        assert c.id.startswith("check-"), f"{path.name}: check cell id {c.id!r}"
        assert "nbval-check-output" in c.metadata.tags, f"{path.name}:{c.id} is not compared"
        assert isinstance(c.metadata.get("points", 1), int)
        assert "prunerec" in c.source or "check_" in c.source, f"{c.id} calls no check function"
        texts = [o.get("text", "") for o in c.outputs if o.output_type == "stream"]
        assert len(texts) == 1 and SUCCESS.match(texts[0]), (
            f"{path.name}:{c.id} stored output should be one success line, got {texts}"
        )


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_every_check_fails_on_the_shipped_exercise(path):
    ex = nbt.read(ROOT / "exercises" / path.name)
    _run(ex, ROOT / "exercises")
    for c in nbt.check_cells(ex):
        errors = _errors(c)
        assert errors, f"{path.name}: check {c.id} passes on the unfilled exercise"
        assert not any("checks passed" in o.get("text", "") for o in c.outputs)


def test_a_one_line_mistake_fails_with_expected_value():
    nb = nbt.read(ROOT / "solutions" / "ex03_threshold_math.ipynb")
    (cell,) = [c for c in nb.cells if c.id == "solution-3-1"]
    assert "np.abs(w) > theta" in cell.source
    cell.source = cell.source.replace("np.abs(w) > theta", "np.abs(w) >= theta")
    _run(nb, ROOT / "solutions")
    (check,) = [c for c in nb.cells if c.id == "check-3-1"]
    (err,) = _errors(check)
    assert err.ename == "AssertionError"
    assert "expected" in err.evalue and "Hint:" in err.evalue
    (other,) = [c for c in nb.cells if c.id == "check-3-2"]
    assert not _errors(other)  # the mistake is charged to its own check only
