"""The repository's packaging: pins agree, layout is complete, CI calls make test."""

import re
from pathlib import Path

import pytest
import yaml

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)$")


def _pins(lines):
    out = {}
    for line in lines:
        m = PIN.match(line.strip())
        if m:
            out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def pyproject_pins():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = list(meta["dependencies"])
    unpinned = [d for d in deps if not PIN.match(d)]
    assert not unpinned, f"pyproject.toml has unpinned dependencies: {unpinned}"
    return _pins(deps), meta


def environment_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_lists = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_lists) == 1, "environment.yml must have exactly one pip: section"
    return _pins(pip_lists[0]), env


def test_environment_yml_has_the_same_pins_as_pyproject():
    pp, _ = pyproject_pins()
    env, _ = environment_pins()
    assert pp == env, (
        "pyproject.toml and environment.yml disagree: "
        f"only in pyproject {sorted(set(pp.items()) - set(env.items()))}, "
        f"only in environment.yml {sorted(set(env.items()) - set(pp.items()))}"
    )


def test_required_pins_present():
    pp, meta = pyproject_pins()
    for name in (
        "jupyterlab",
        "numpy",
        "matplotlib",
        "torch",
        "nbval",
        "ipywidgets",
        "tqdm",
        "nbformat",
        "nbclient",
        "pytest",
        "hypothesis",
    ):
        assert name in pp, f"{name} is not pinned in pyproject.toml"
    assert pp["torch"] == "2.13.0"
    assert meta["requires-python"] == ">=3.10"


def test_data_wheel_pinned_in_makefile_postbuild_and_extra():
    _, meta = pyproject_pins()
    (extra,) = meta["optional-dependencies"]["data"]
    for f in ("Makefile", "postBuild"):
        assert f"--no-deps {extra}" in (ROOT / f).read_text(), f"{f} does not install {extra}"


def test_layout():
    for d in ("chapters", "lib/prunerec", "exercises", "solutions", "tests", "bench", "results"):
        assert (ROOT / d).is_dir(), f"missing folder {d}/"
    for f in ("README.md", "LICENSE", "Makefile", "environment.yml", ".ci/run"):
        assert (ROOT / f).is_file(), f"missing file {f}"
    assert "make test" in (ROOT / ".ci/run").read_text()


def test_library_never_imports_tooling_or_notebooks():
    for py in (ROOT / "lib/prunerec").glob("*.py"):
        text = py.read_text()
        assert not re.search(r"^\s*(from|import)\s+(tests|bench|chapters)\b", text, re.M), py
