"""Course tooling: generate exercises from solutions, normalise and execute notebooks.

Built on nbformat (reading, writing, validating) and nbclient (executing); the
course's own rules are the only thing written here:

* A solution notebook marks the learner's code with ``### BEGIN SOLUTION`` /
  ``### END SOLUTION``; the exercise copy replaces it with
  ``raise NotImplementedError(...)`` plus the region's ``# HINT:`` line.
* Checks only the grader sees sit between ``### BEGIN HIDDEN TESTS`` /
  ``### END HIDDEN TESTS`` and are removed from the exercise copy.
* Graded check cells carry the tag ``check``. Their expected output is kept in the
  exercise, so nbval compares the learner's output with the solution's.
* Normalised notebooks use kernel ``python3``, have unique cell ids, no execution
  timestamps, no widget state and no machine paths in their outputs.

Command line (installed as ``prunerec-nb``)::

    prunerec-nb generate [--check] SOLUTIONS_DIR EXERCISES_DIR
    prunerec-nb execute NOTEBOOK...
    prunerec-nb normalise NOTEBOOK...
    prunerec-nb html --out build NOTEBOOK...
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import os
import re
import site
import sys
import sysconfig
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import nbformat
from nbformat import NotebookNode

__all__ = [
    "BEGIN_SOLUTION",
    "END_SOLUTION",
    "BEGIN_HIDDEN",
    "END_HIDDEN",
    "CHECK_TAG",
    "strip_solution",
    "strip_hidden",
    "make_exercise",
    "check_cells",
    "normalise",
    "scrub_paths",
    "read",
    "write",
    "execute",
    "generate_exercises",
    "to_html",
    "main",
]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
CHECK_TAG = "check"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
DEFAULT_HINT = "see the chapter this exercise belongs to."
_HINT = re.compile(r"^\s*#\s*HINT:\s*(.*)$", re.IGNORECASE)

# --------------------------------------------------------------------------- exercise generation


def _regions(lines: list[str], begin: str, end: str, where: str) -> list[tuple[int, int]]:
    """(start, stop) line indices of every begin/end pair; errors name ``where``."""
    found, start = [], None
    for i, line in enumerate(lines):
        text = line.strip()
        if text.startswith(begin):
            if start is not None:
                raise ValueError(f"{where}: '{begin}' on line {i + 1} inside an open region")
            start = i
        elif text.startswith(end):
            if start is None:
                raise ValueError(f"{where}: '{end}' on line {i + 1} without '{begin}'")
            found.append((start, i))
            start = None
    if start is not None:
        raise ValueError(f"{where}: '{begin}' on line {start + 1} is never closed by '{end}'")
    return found


def strip_solution(source: str, where: str = "cell", markdown: bool = False) -> str:
    """Replace every solution region by a ``NotImplementedError`` and its hint.

    Parameters
    ----------
    source : the cell's source.
    where : a name for error messages (notebook and cell id).
    markdown : for markdown cells the region becomes ``YOUR ANSWER HERE``.

    Returns
    -------
    str, the source of the exercise cell.

    Examples
    --------
    >>> src = "def f(x):\\n    ### BEGIN SOLUTION\\n    # HINT: double it\\n    return 2 * x\\n"
    >>> print(strip_solution(src + "    ### END SOLUTION"))
    def f(x):
        # HINT: double it
        raise NotImplementedError("write your code here, then run the check below")
    """
    lines = source.split("\n")
    regions = _regions(lines, BEGIN_SOLUTION, END_SOLUTION, where)
    out, pos = [], 0
    for start, stop in regions:
        out.extend(lines[pos:start])
        indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
        hints = [m.group(1) for m in map(_HINT.match, lines[start + 1 : stop]) if m]
        if markdown:
            out.append(f"{indent}YOUR ANSWER HERE")
        else:
            out.append(f"{indent}# HINT: {hints[0] if hints else DEFAULT_HINT}")
            out.append(
                f'{indent}raise NotImplementedError("write your code here, then run the check below")'
            )
        pos = stop + 1
    out.extend(lines[pos:])
    return "\n".join(out)


def strip_hidden(source: str, where: str = "cell") -> str:
    """Remove every hidden-tests region (markers included).

    Examples
    --------
    >>> print(strip_hidden("check(f)\\n### BEGIN HIDDEN TESTS\\nassert f(2) == 4\\n### END HIDDEN TESTS"))
    check(f)
    """
    lines = source.split("\n")
    out, pos = [], 0
    for start, stop in _regions(lines, BEGIN_HIDDEN, END_HIDDEN, where):
        out.extend(lines[pos:start])
        pos = stop + 1
    out.extend(lines[pos:])
    return "\n".join(out).rstrip("\n")


def check_cells(nb: NotebookNode) -> list[NotebookNode]:
    """The graded check cells of a notebook (code cells tagged ``check``)."""
    return [
        c
        for c in nb.cells
        if c.cell_type == "code" and CHECK_TAG in c.get("metadata", {}).get("tags", [])
    ]


def make_exercise(solution: NotebookNode, name: str = "notebook") -> NotebookNode:
    """The learner's copy of a solution notebook.

    Solution regions and hidden tests are removed; outputs of every code cell are
    cleared except the check cells', whose expected output stays for nbval.

    Parameters
    ----------
    solution : the solution notebook (nbformat 4).
    name : a name for error messages.

    Returns
    -------
    a new notebook; ``solution`` is not modified.
    """
    nb = copy.deepcopy(solution)
    for cell in nb.cells:
        where = f"{name}, cell {cell.get('id', '?')}"
        if cell.cell_type == "markdown":
            cell.source = strip_solution(cell.source, where, markdown=True)
            continue
        if cell.cell_type != "code":
            continue
        cell.source = strip_hidden(strip_solution(cell.source, where), where)
        cell.execution_count = None
        if CHECK_TAG in cell.get("metadata", {}).get("tags", []):
            for out in cell.outputs:
                if "execution_count" in out:
                    out.execution_count = None
        else:
            cell.outputs = []
    nb.metadata["prunerec"] = {"generated_from": f"solutions/{name}"}
    return nb


# --------------------------------------------------------------------------- normalisation


def _machine_paths() -> list[tuple[str, str]]:
    """(path, placeholder) pairs, longest first, for paths that must not be stored."""
    repo = Path(__file__).resolve().parents[2]
    places = {
        str(repo): "<repo>",
        sys.prefix: "<env>",
        sys.base_prefix: "<python>",
        sysconfig.get_paths()["purelib"]: "<site-packages>",
        tempfile.gettempdir(): "<tmp>",
        str(Path.home()): "<home>",
    }
    for p in site.getsitepackages() if hasattr(site, "getsitepackages") else []:
        places[p] = "<site-packages>"
    real = {os.path.realpath(p): v for p, v in places.items()}
    places.update(real)
    pairs = [(p.rstrip("/"), v) for p, v in places.items() if len(p.rstrip("/")) > 1]
    return sorted(pairs, key=lambda pv: -len(pv[0]))


def scrub_paths(text: str) -> str:
    """Replace this machine's absolute paths (checkout, environment, home, temp) by
    placeholders such as ``<repo>`` and ``<site-packages>``.

    Examples
    --------
    >>> import sys
    >>> scrub_paths(sys.prefix + "/lib/x.py")
    '<env>/lib/x.py'
    """
    for path, placeholder in _machine_paths():
        text = text.replace(path, placeholder)
    return text


WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_PLACEHOLDER = "[interactive widget: run this cell in JupyterLab to use it]"
_TQDM_BAR = re.compile(r"\|\s*\d+/\d+ \[[^\]]*(it/s|s/it)")


def _is_progress_bar(out: NotebookNode) -> bool:
    """A tqdm.notebook bar: a widget whose text form is the bar itself."""
    data = out.get("data", {})
    return WIDGET_MIME in data and bool(_TQDM_BAR.search(str(data.get("text/plain", ""))))


def _scrub_output(out: NotebookNode) -> None:
    if WIDGET_MIME in out.get("data", {}):
        # the widget's state is not stored (it changes on every run): keep a stable note
        out.data = {"text/plain": WIDGET_PLACEHOLDER}
    if "text" in out:
        out.text = scrub_paths(out.text)
    if "traceback" in out:
        out.traceback = [scrub_paths(t) for t in out.traceback]
    if "evalue" in out:
        out.evalue = scrub_paths(out.evalue)
    for mime, value in out.get("data", {}).items():
        if mime.startswith("text/") and isinstance(value, str):
            out.data[mime] = scrub_paths(value)


def normalise(nb: NotebookNode, name: str = "notebook") -> NotebookNode:
    """Make a notebook fit to store: kernel ``python3``, unique cell ids, no
    execution timestamps, no widget state (widget outputs become a short note), no
    machine paths. Modifies and returns ``nb``.
    """
    nb.nbformat, nb.nbformat_minor = 4, max(nb.get("nbformat_minor", 5), 5)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata.pop("widgets", None)
    seen: set[str] = set()
    for i, cell in enumerate(nb.cells):
        cell.get("metadata", {}).pop("execution", None)
        cid = cell.get("id")
        if not cid or cid in seen:
            digest = hashlib.sha1(f"{name}:{i}:{cell.source}".encode()).hexdigest()[:8]
            cid = f"cell-{i:02d}-{digest}"
            cell.id = cid
        seen.add(cid)
        if cell.get("outputs"):
            cell.outputs = [o for o in cell.outputs if not _is_progress_bar(o)]
        for out in cell.get("outputs", []):
            _scrub_output(out)
    nbformat.validate(nb)
    return nb


def read(path: str | os.PathLike) -> NotebookNode:
    """Read a notebook as nbformat 4."""
    return nbformat.read(os.fspath(path), as_version=4)


def write(nb: NotebookNode, path: str | os.PathLike) -> None:
    """Normalise and write a notebook (with a trailing newline, like JupyterLab)."""
    normalise(nb, Path(path).name)
    text = nbformat.writes(nb) + "\n"
    Path(path).write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- execution


def execute(
    path: str | os.PathLike,
    timeout: int = 900,
    kernel_name: str = "python3",
    inplace: bool = True,
    workdir: str | os.PathLike | None = None,
) -> NotebookNode:
    """Execute a notebook in a fresh kernel, with its folder (or ``workdir``) as
    working directory.

    Progress bars are silenced (``TQDM_DISABLE=1``) so stored outputs stay clean.
    With ``inplace`` the executed, normalised notebook is written back to ``path``.
    Raises ``nbclient.exceptions.CellExecutionError`` naming the failing cell.
    """
    from nbclient import NotebookClient

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path {path} is not a notebook file")
    nb = read(path)
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(Path(workdir or path.parent).resolve())}},
    )
    client.execute()
    if inplace:
        write(nb, path)
    return normalise(nb, path.name)


def generate_exercises(
    solutions_dir: str | os.PathLike, exercises_dir: str | os.PathLike, check: bool = False
) -> list[Path]:
    """Write ``exercises_dir/exNN_*.ipynb`` from every ``solutions_dir/exNN_*.ipynb``.

    With ``check``, write nothing and return the exercises that would change
    (used by the test that regenerating changes nothing).
    """
    src, dst = Path(solutions_dir), Path(exercises_dir)
    solutions = sorted(src.glob("ex*.ipynb"))
    if not solutions:
        raise FileNotFoundError(f"solutions_dir {src} holds no ex*.ipynb notebook")
    changed = []
    for sol in solutions:
        ex = make_exercise(read(sol), sol.name)
        normalise(ex, sol.name)
        text = nbformat.writes(ex) + "\n"
        target = dst / sol.name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            changed.append(target)
            if not check:
                dst.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
    stale = {p.name for p in dst.glob("ex*.ipynb")} - {s.name for s in solutions}
    changed.extend(dst / name for name in sorted(stale))
    if not check:
        for name in stale:
            (dst / name).unlink()
    return changed


def to_html(path: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Export an (executed) notebook to ``out_dir/<name>.html`` with nbconvert."""
    from nbconvert import HTMLExporter

    path = Path(path)
    body, _ = HTMLExporter().from_notebook_node(read(path))
    out = Path(out_dir) / (path.stem + ".html")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


# --------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="prunerec-nb", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="write exercises/ from solutions/")
    g.add_argument("solutions", nargs="?", default="solutions")
    g.add_argument("exercises", nargs="?", default="exercises")
    g.add_argument("--check", action="store_true", help="only report what would change")
    e = sub.add_parser("execute", help="execute notebooks in place, then normalise them")
    e.add_argument("paths", nargs="+")
    e.add_argument("--timeout", type=int, default=900)
    n = sub.add_parser("normalise", help="normalise notebooks in place")
    n.add_argument("paths", nargs="+")
    h = sub.add_parser("html", help="execute copies of notebooks and export them to HTML")
    h.add_argument("paths", nargs="+")
    h.add_argument("--out", default="build")
    h.add_argument("--timeout", type=int, default=900)
    args = parser.parse_args(argv)

    if args.cmd == "generate":
        changed = generate_exercises(args.solutions, args.exercises, check=args.check)
        verb = "would change" if args.check else "written"
        for p in changed:
            print(f"{verb}: {p}")
        print(f"{len(changed)} exercise notebook(s) {verb}")
        return 1 if args.check and changed else 0
    if args.cmd == "execute":
        for p in _each(args.paths):
            execute(p, timeout=args.timeout)
            print(f"executed: {p}")
    elif args.cmd == "normalise":
        for p in _each(args.paths):
            write(read(p), p)
            print(f"normalised: {p}")
    elif args.cmd == "html":
        out = Path(args.out)
        for p in _each(args.paths):
            copy_path = out / "executed" / p.parent.name / p.name
            copy_path.parent.mkdir(parents=True, exist_ok=True)
            copy_path.write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
            execute(copy_path, timeout=args.timeout, workdir=p.parent)
            print(f"html: {to_html(copy_path, out / p.parent.name)}")
    return 0


def _each(paths: Iterable[str]) -> list[Path]:
    out = []
    for p in map(Path, paths):
        if not p.is_file() or p.suffix != ".ipynb":
            raise SystemExit(f"prunerec-nb: {p} is not a notebook file")
        out.append(p)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
