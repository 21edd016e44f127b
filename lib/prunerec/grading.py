"""Classroom grading: score a class's exercise notebooks and write feedback.

``prunerec-grade SUBMISSIONS_DIR --out OUT_DIR [--timeout SECONDS] [--release DIR]``

SUBMISSIONS_DIR holds one folder per student with their ``exNN_*.ipynb`` files. For
every student and every released exercise:

1. the learner's code is taken from the *solution cells only* (cells whose release
   source holds ``### BEGIN SOLUTION``), matched by cell id, or — when ids were lost —
   by the cell's first line (e.g. ``def threshold_mask(w, theta):``), then by order;
2. it is put into the pristine release notebook (``solutions/``: the original check
   cells *and* the hidden tests), so editing a check cell gains nothing;
3. the notebook runs in a fresh kernel with a per-cell and a total timeout;
4. each graded check cell scores its points (``metadata.points``, default 1) when it
   ran without error and printed exactly the line the release stored.

Results: ``OUT_DIR/grades.csv`` (``student, exercise, check, points, max_points,
status`` with status passed / failed / error / timeout / missing) and
``OUT_DIR/feedback/<student>/<exercise>.md``. Broken input never stops the run: an
unreadable notebook, a missing cell, an endless loop, an exception at import, an
unknown exercise or an empty folder are each scored and reported.
"""

from __future__ import annotations

import argparse
import copy
import csv
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

from prunerec import notebooks as nbt

__all__ = ["Score", "grade_notebook", "grade_class", "main"]

STATUSES = ("passed", "failed", "error", "timeout", "missing")
FIELDS = ("student", "exercise", "check", "points", "max_points", "status")


@dataclass(frozen=True)
class Score:
    """One row of ``grades.csv``, with the message shown in the feedback file."""

    student: str
    exercise: str
    check: str
    points: int
    max_points: int
    status: str
    message: str = ""


def _solution_cells(nb: NotebookNode) -> list[NotebookNode]:
    return [
        c for c in nb.cells if c.cell_type == "code" and nbt.BEGIN_SOLUTION in c.get("source", "")
    ]


def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return line.strip()
    return ""


def _learner_sources(release: NotebookNode, submitted: NotebookNode) -> dict[str, str | None]:
    """Map each release solution cell id to the learner's source for it (None: not found)."""
    targets = _solution_cells(release)
    code = [c for c in submitted.cells if c.cell_type == "code"]
    by_id = {c.get("id"): c for c in code if c.get("id")}
    # cells that could be solution cells: not check cells
    candidates = [c for c in code if nbt.CHECK_TAG not in c.get("metadata", {}).get("tags", [])]
    out: dict[str, str | None] = {}
    used: set[int] = set()
    for t in targets:
        cell = by_id.get(t.id)
        if cell is None:  # ids lost: match the first line of the release cell
            head = _first_line(nbt.strip_solution(t.source))
            matches = [c for c in candidates if head and _first_line(c.source) == head]
            cell = next((c for c in matches if id(c) not in used), None)
        if cell is not None:
            used.add(id(cell))
        out[t.id] = cell.source if cell is not None else None
    return out


def _check_result(cell: NotebookNode, expected: str, timed_out: bool) -> tuple[str, str]:
    """(status, message) of an executed check cell."""
    if timed_out:
        return "timeout", "the check did not finish within the per-cell time limit"
    errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
    if errors:
        err = errors[0]
        status = "failed" if err.ename == "AssertionError" else "error"
        return status, f"{err.ename}: {err.evalue}"
    text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")
    if text == expected:
        return "passed", ""
    return "error", f"the check printed {text!r} instead of {expected!r}"


def _execute(
    nb: NotebookNode, workdir: Path, cell_timeout: int, total_timeout: int
) -> tuple[set[int], set[int]]:
    """Run the notebook cell by cell; return the indices of the cells not run (total
    timeout, dead kernel) and of the cells interrupted at the per-cell timeout."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    client = NotebookClient(
        nb,
        timeout=cell_timeout,
        kernel_name="python3",
        allow_errors=True,
        interrupt_on_timeout=True,
        resources={"metadata": {"path": str(workdir)}},
    )
    not_run: set[int] = set()
    timed_out: set[int] = set()
    start = time.monotonic()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if time.monotonic() - start > total_timeout:
                not_run.add(index)
                continue
            began = time.monotonic()
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError:
                cell.outputs = [_error("CellTimeoutError", "cell timed out")]
            except DeadKernelError as exc:
                cell.outputs = [_error("DeadKernelError", str(exc))]
                not_run.update(range(index + 1, len(nb.cells)))
                break
            if time.monotonic() - began >= cell_timeout:  # interrupted by nbclient
                timed_out.add(index)
    return not_run, timed_out


def _error(ename: str, evalue: str) -> NotebookNode:
    from nbformat.v4 import new_output

    return new_output("error", ename=ename, evalue=evalue, traceback=[])


def grade_notebook(
    student: str,
    release_path: Path,
    submitted_path: Path | None,
    cell_timeout: int = 60,
    total_timeout: int = 600,
) -> list[Score]:
    """Score one student's submission of one exercise against its release notebook.

    Parameters
    ----------
    student : the student's name (their folder's name).
    release_path : the pristine notebook (from ``solutions/``, with hidden tests).
    submitted_path : the student's notebook, or None when they submitted none.
    cell_timeout, total_timeout : seconds per cell and for the whole notebook.

    Returns
    -------
    one :class:`Score` per graded check cell of the release.
    """
    release = nbt.read(release_path)
    exercise = release_path.name
    checks = nbt.check_cells(release)

    def rows(status: str, message: str) -> list[Score]:
        return [
            Score(student, exercise, c.id, 0, c.metadata.get("points", 1), status, message)
            for c in checks
        ]

    if submitted_path is None:
        return rows("missing", "no notebook submitted")
    try:
        submitted = nbt.read(submitted_path)
    except Exception as exc:  # invalid JSON, wrong format version, ...
        return rows("error", f"could not read the notebook: {type(exc).__name__}: {exc}")

    sources = _learner_sources(release, submitted)
    graded = copy.deepcopy(release)
    missing = []
    for cell in graded.cells:
        if cell.get("id") in sources:
            src = sources[cell.id]
            if src is None:
                missing.append(cell.id)
                src = nbt.strip_solution(cell.source)  # as shipped: raises NotImplementedError
            cell.source = src
    expected = {
        c.id: "".join(o.get("text", "") for o in c.outputs if o.output_type == "stream")
        for c in checks
    }
    for cell in graded.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    try:
        not_run, timed_out = _execute(graded, release_path.parent, cell_timeout, total_timeout)
    except Exception as exc:  # the kernel would not start, ...
        return rows("error", f"could not run the notebook: {type(exc).__name__}: {exc}")

    note = (
        f" (solution cell(s) not found in the submission: {', '.join(missing)})" if missing else ""
    )
    out = []
    for index, cell in enumerate(graded.cells):
        if cell.cell_type != "code" or nbt.CHECK_TAG not in cell.metadata.get("tags", []):
            continue
        if index in not_run:
            status, message = "timeout", "not run: the notebook exceeded its total time limit"
        else:
            status, message = _check_result(cell, expected[cell.id], index in timed_out)
        points = cell.metadata.get("points", 1)
        out.append(
            Score(
                student,
                exercise,
                cell.id,
                points if status == "passed" else 0,
                points,
                status,
                message + (note if status != "passed" else ""),
            )
        )
    return out


def _feedback(scores: list[Score]) -> str:
    s0 = scores[0]
    got, total = sum(s.points for s in scores), sum(s.max_points for s in scores)
    lines = [f"# {s0.exercise} — {s0.student}", "", f"Score: {got}/{total}", ""]
    for s in scores:
        mark = "✓" if s.status == "passed" else "✗"
        lines.append(f"## {mark} {s.check}: {s.status} ({s.points}/{s.max_points})")
        if s.message:
            lines += ["", "```", s.message.strip(), "```"]
        lines.append("")
    return "\n".join(lines)


def grade_class(
    submissions: str | os.PathLike,
    out: str | os.PathLike,
    release: str | os.PathLike,
    cell_timeout: int = 60,
    total_timeout: int = 600,
) -> list[Score]:
    """Grade every student folder in ``submissions`` against the notebooks in ``release``;
    write ``grades.csv`` and the feedback files to ``out``. Returns all scores."""
    submissions, out, release = Path(submissions), Path(out), Path(release)
    if not submissions.is_dir():
        raise FileNotFoundError(f"SUBMISSIONS_DIR {submissions} is not a folder")
    releases = {p.name: p for p in sorted(release.glob("ex*.ipynb"))}
    if not releases:
        raise FileNotFoundError(f"release folder {release} holds no ex*.ipynb notebook")
    scores: list[Score] = []
    for student_dir in sorted(p for p in submissions.iterdir() if p.is_dir()):
        student = student_dir.name
        submitted = {p.name: p for p in student_dir.glob("*.ipynb")}
        for name, release_path in releases.items():
            rows = grade_notebook(
                student, release_path, submitted.get(name), cell_timeout, total_timeout
            )
            scores += rows
            fb = out / "feedback" / student / (Path(name).stem + ".md")
            fb.parent.mkdir(parents=True, exist_ok=True)
            fb.write_text(_feedback(rows), encoding="utf-8")
        for name in sorted(set(submitted) - set(releases)):
            scores.append(
                Score(student, name, "-", 0, 0, "error", "no released exercise has this name")
            )
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(FIELDS)
        for s in scores:
            writer.writerow([getattr(s, k) for k in FIELDS])
    return scores


def main(argv: Sequence[str] | None = None) -> int:
    default_release = Path(__file__).resolve().parents[2] / "solutions"
    parser = argparse.ArgumentParser(prog="prunerec-grade", description=__doc__.split("\n")[0])
    parser.add_argument("submissions", help="folder with one sub-folder per student")
    parser.add_argument("--out", required=True, help="where grades.csv and feedback/ go")
    parser.add_argument("--timeout", type=int, default=60, help="seconds per cell (default 60)")
    parser.add_argument(
        "--total-timeout", type=int, default=600, help="seconds per notebook (default 600)"
    )
    parser.add_argument("--release", default=str(default_release), help="pristine notebooks")
    args = parser.parse_args(argv)
    if args.timeout < 1 or args.total_timeout < 1:
        parser.error("--timeout and --total-timeout must be positive")
    os.environ.setdefault("TQDM_DISABLE", "1")
    t0 = time.monotonic()
    scores = grade_class(args.submissions, args.out, args.release, args.timeout, args.total_timeout)
    counts = {s: sum(r.status == s for r in scores) for s in STATUSES}
    students = len({r.student for r in scores})
    print(
        f"graded {students} student(s), {len(scores)} check(s) in {time.monotonic() - t0:.1f}s: "
        + ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    )
    print(f"wrote {Path(args.out) / 'grades.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
