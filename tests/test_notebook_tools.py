"""prunerec.notebooks: exercise generation and normalisation on small notebooks built here."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from prunerec import notebooks as nbt


def _solution():
    nb = new_notebook()
    nb.cells = [
        new_markdown_cell(
            "Explain.\n### BEGIN SOLUTION\nThe answer is 42.\n### END SOLUTION", id="m"
        ),
        new_code_cell("import numpy as np", id="setup"),
        new_code_cell(
            "def f(x):\n    ### BEGIN SOLUTION\n    # HINT: double it\n    return 2 * x\n"
            "    ### END SOLUTION",
            id="sol",
            outputs=[new_output("stream", name="stdout", text="secret\n")],
            execution_count=3,
        ),
        new_code_cell(
            "check(f)\n### BEGIN HIDDEN TESTS\nassert f(21) == 42\n### END HIDDEN TESTS",
            id="check-1",
            metadata={"tags": ["check", "nbval-check-output"]},
            outputs=[new_output("stream", name="stdout", text="✓ 1 f: 2/2 checks passed\n")],
            execution_count=4,
        ),
    ]
    return nb


def test_make_exercise_strips_solutions_and_hidden_tests():
    sol = _solution()
    ex = nbt.make_exercise(sol, "ex99.ipynb")
    src = {c.id: c.source for c in ex.cells}
    assert "42" not in src["m"] and "YOUR ANSWER HERE" in src["m"]
    assert src["sol"] == (
        "def f(x):\n    # HINT: double it\n"
        '    raise NotImplementedError("write your code here, then run the check below")'
    )
    assert src["check-1"] == "check(f)"
    assert ex.cells[2].outputs == []  # the solution's output is not revealed
    assert ex.cells[3].outputs[0].text == "✓ 1 f: 2/2 checks passed\n"  # expected output kept
    assert ex.cells[3].execution_count is None
    assert [c.id for c in ex.cells] == [c.id for c in sol.cells]  # ids kept for the grader
    assert "return 2 * x" in sol.cells[2].source  # the solution itself is untouched


def test_default_hint_when_region_has_none():
    out = nbt.strip_solution("x = 1\n### BEGIN SOLUTION\nx = 2\n### END SOLUTION")
    assert f"# HINT: {nbt.DEFAULT_HINT}" in out and "x = 2" not in out


@pytest.mark.parametrize(
    "source, words",
    [
        ("### BEGIN SOLUTION\nx = 1", "never closed"),
        ("x = 1\n### END SOLUTION", "without"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside an open region"),
    ],
)
def test_unbalanced_markers_name_the_cell(source, words):
    with pytest.raises(ValueError, match=words) as info:
        nbt.strip_solution(source, where="ex01.ipynb, cell abc")
    assert "ex01.ipynb, cell abc" in str(info.value)


def test_check_cells():
    assert [c.id for c in nbt.check_cells(_solution())] == ["check-1"]


def test_normalise_kernel_ids_and_paths(tmp_path):
    import sys

    nb = _solution()
    nb.metadata["kernelspec"] = {"name": "myenv", "display_name": "x", "language": "python"}
    nb.metadata["widgets"] = {"state": {}}
    nb.cells[1].id = "sol"  # duplicate id
    nb.cells[1].metadata["execution"] = {"iopub.status.busy": "2026-01-01"}
    nb.cells[1].outputs = [
        new_output("stream", name="stderr", text=f"warning in {sys.prefix}/lib/python/x.py\n"),
        new_output("error", ename="E", evalue=f"{tmp_path}/f", traceback=[f"File {nbt.__file__}"]),
    ]
    nb.cells[3].outputs.append(
        new_output(
            "display_data",
            data={"text/plain": "VBox(...)", nbt.WIDGET_MIME: {"model_id": "abc123"}},
        )
    )
    bar = "train:  40%|####      | 2/5 [00:01<00:02,  1.50it/s]"
    nb.cells[3].outputs.append(
        new_output("display_data", data={"text/plain": bar, nbt.WIDGET_MIME: {"model_id": "x"}})
    )
    nbt.normalise(nb)
    assert nb.cells[3].outputs[-1].data == {"text/plain": nbt.WIDGET_PLACEHOLDER}  # bar dropped
    assert nb.metadata.kernelspec["name"] == "python3"
    assert "widgets" not in nb.metadata
    ids = [c.id for c in nb.cells]
    assert len(set(ids)) == len(ids)
    assert "execution" not in nb.cells[1].metadata
    text = nbformat.writes(nb)
    assert sys.prefix not in text and str(tmp_path) not in text and nbt.__file__ not in text
    assert "<env>/lib/python/x.py" in text and "<repo>/lib/prunerec/notebooks.py" in text


def test_generate_round_trip_and_check(tmp_path):
    sols, exs = tmp_path / "solutions", tmp_path / "exercises"
    sols.mkdir()
    nbformat.write(_solution(), sols / "ex99_demo.ipynb")
    assert nbt.generate_exercises(sols, exs, check=True) == [exs / "ex99_demo.ipynb"]
    assert not exs.exists()  # --check writes nothing
    nbt.generate_exercises(sols, exs)
    assert nbt.generate_exercises(sols, exs, check=True) == []  # idempotent
    (exs / "ex98_stale.ipynb").write_text("{}")
    assert nbt.generate_exercises(sols, exs, check=True) == [exs / "ex98_stale.ipynb"]
    nbt.generate_exercises(sols, exs)
    assert not (exs / "ex98_stale.ipynb").exists()


def test_generate_needs_solutions(tmp_path):
    with pytest.raises(FileNotFoundError, match="solutions_dir"):
        nbt.generate_exercises(tmp_path, tmp_path / "out")


def test_execute_in_place(tmp_path):
    nb = new_notebook(cells=[new_code_cell(f"import os\nprint(os.getcwd() == {str(tmp_path)!r})")])
    path = tmp_path / "run.ipynb"
    nbformat.write(nb, path)
    nbt.execute(path, timeout=120)
    stored = nbt.read(path)
    assert stored.cells[0].outputs[0].text == "True\n"  # ran in the notebook's folder
    assert stored.metadata.kernelspec.name == "python3"
    with pytest.raises(FileNotFoundError, match="not a notebook"):
        nbt.execute(tmp_path / "missing.ipynb")
