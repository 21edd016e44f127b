"""The classroom grader on a fake class, row by row."""

import csv
import json
import shutil
from pathlib import Path

import nbformat
import pytest

from prunerec import grading
from prunerec import notebooks as nbt

ROOT = Path(__file__).resolve().parents[1]
EX = "ex03_threshold_math.ipynb"


def _exercise():
    return nbt.read(ROOT / "exercises" / EX)


def _solution_source(cell_id):
    (cell,) = [c for c in nbt.read(ROOT / "solutions" / EX).cells if c.id == cell_id]
    return cell.source.replace("### BEGIN SOLUTION\n", "").replace("### END SOLUTION", "")


def _write(nb, folder):
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / EX)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("class")
    release = tmp / "release"
    release.mkdir()
    shutil.copy(ROOT / "solutions" / EX, release / EX)
    subs = tmp / "submissions"

    good = _exercise()  # fills in both solution cells
    for c in good.cells:
        if c.id in ("solution-3-1", "solution-3-2"):
            c.source = _solution_source(c.id)
    _write(good, subs / "alice")

    wrong = _exercise()  # 3.1 off by one, 3.2 left unfinished
    for c in wrong.cells:
        if c.id == "solution-3-1":
            c.source = "def threshold_mask(w, theta):\n    return np.abs(w) >= theta"
    _write(wrong, subs / "bob")

    tamper = _exercise()  # leaves the code unfinished, rewrites the check cells to "pass"
    for c in tamper.cells:
        if "check" in c.metadata.get("tags", []):
            c.source = 'print("✓ 3.1 threshold_mask: 4/4 checks passed")'
    _write(tamper, subs / "carol")

    loop = _exercise()  # 3.1 never returns, 3.2 is correct
    for c in loop.cells:
        if c.id == "solution-3-1":
            c.source = "def threshold_mask(w, theta):\n    while True:\n        pass"
        if c.id == "solution-3-2":
            c.source = _solution_source(c.id)
    _write(loop, subs / "dave")

    lost_ids = _exercise()  # correct, but saved by a tool that renumbered every cell id
    for i, c in enumerate(lost_ids.cells):
        if c.id in ("solution-3-1", "solution-3-2"):
            c.source = _solution_source(c.id)
        c.id = f"renumbered-{i}"
    _write(lost_ids, subs / "erin")

    (subs / "frank").mkdir()
    (subs / "frank" / EX).write_text('{"cells": [ this is not json')
    (subs / "grace").mkdir()  # submitted nothing

    import_error = _exercise()  # an exception at import in 3.1, plus an unknown exercise
    for c in import_error.cells:
        if c.id == "solution-3-1":
            c.source = "import numpy_that_does_not_exist\n\n" + _solution_source(c.id)
        if c.id == "solution-3-2":
            c.source = _solution_source(c.id)
    _write(import_error, subs / "heidi")
    (subs / "heidi" / "ex99_nonexistent.ipynb").write_text(json.dumps(nbformat.v4.new_notebook()))

    out = tmp / "out"
    grading.grade_class(subs, out, release, cell_timeout=8, total_timeout=120)
    with open(out / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return out, {(r["student"], r["exercise"], r["check"]): r for r in rows}


def _status(rows, student, check):
    r = rows[(student, EX, check)]
    return r["status"], int(r["points"]), int(r["max_points"])


def test_header_and_row_count(graded):
    out, rows = graded
    header = (out / "grades.csv").read_text().splitlines()[0]
    assert header == "student,exercise,check,points,max_points,status"
    n_checks = len(nbt.check_cells(nbt.read(ROOT / "solutions" / EX)))
    assert n_checks >= 2
    # 8 students x every check of the exercise, plus heidi's unknown exercise
    assert len(rows) == 8 * n_checks + 1
    # the checks these students did not attempt are failed, not lost
    assert {
        r["status"]
        for k, r in rows.items()
        if k[0] == "alice" and k[2] not in ("check-3-1", "check-3-2")
    } <= {"failed"}


def test_correct_student_gets_full_marks(graded):
    _, rows = graded
    assert _status(rows, "alice", "check-3-1") == ("passed", 1, 1)
    assert _status(rows, "alice", "check-3-2") == ("passed", 1, 1)


def test_wrong_answers_fail_with_feedback(graded):
    out, rows = graded
    assert _status(rows, "bob", "check-3-1") == ("failed", 0, 1)
    assert _status(rows, "bob", "check-3-2") == ("failed", 0, 1)
    fb = (out / "feedback" / "bob" / "ex03_threshold_math.md").read_text()
    assert "Score: 0/" in fb and "expected" in fb and "Hint:" in fb
    assert "not implemented yet" in fb


def test_tampering_with_check_cells_gains_nothing(graded):
    _, rows = graded
    assert _status(rows, "carol", "check-3-1")[:2] == ("failed", 0)
    assert _status(rows, "carol", "check-3-2")[:2] == ("failed", 0)


def test_endless_loop_times_out_and_the_rest_is_still_graded(graded):
    _, rows = graded
    assert _status(rows, "dave", "check-3-1") == ("timeout", 0, 1)
    assert _status(rows, "dave", "check-3-2") == ("passed", 1, 1)


def test_lost_cell_ids_fall_back_to_first_lines(graded):
    _, rows = graded
    assert _status(rows, "erin", "check-3-1") == ("passed", 1, 1)
    assert _status(rows, "erin", "check-3-2") == ("passed", 1, 1)


def test_broken_json_and_empty_folder_are_reported(graded):
    out, rows = graded
    assert _status(rows, "frank", "check-3-1") == ("error", 0, 1)
    assert "could not read" in (out / "feedback" / "frank" / "ex03_threshold_math.md").read_text()
    assert _status(rows, "grace", "check-3-1") == ("missing", 0, 1)
    assert _status(rows, "grace", "check-3-2") == ("missing", 0, 1)


def test_import_error_and_unknown_exercise(graded):
    _, rows = graded
    assert _status(rows, "heidi", "check-3-1") == ("error", 0, 1)  # NameError: never defined
    assert _status(rows, "heidi", "check-3-2") == ("passed", 1, 1)
    unknown = rows[("heidi", "ex99_nonexistent.ipynb", "-")]
    assert unknown["status"] == "error" and unknown["max_points"] == "0"


def test_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="SUBMISSIONS_DIR"):
        grading.grade_class(tmp_path / "nope", tmp_path / "out", ROOT / "solutions")
    with pytest.raises(FileNotFoundError, match="release"):
        grading.grade_class(tmp_path, tmp_path / "out", tmp_path)
