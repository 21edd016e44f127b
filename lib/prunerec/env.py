"""What the course runs on: seeds, package versions, the compute device, the data.

Chapter 00 prints :func:`environment_report`; every notebook starts with
:func:`seed_everything`.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import random
import sys

import numpy as np

__all__ = [
    "COURSE_PACKAGES",
    "seed_everything",
    "package_versions",
    "device_summary",
    "environment_report",
]

#: Packages whose versions chapter 00 reports (all pinned in pyproject.toml).
COURSE_PACKAGES = ("numpy", "torch", "matplotlib", "jupyterlab", "ipywidgets", "nbval", "tqdm")


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's global state and, if it is installed, PyTorch
    (CPU and CUDA). Returns a fresh ``numpy.random.Generator`` seeded the same way,
    which is what new code should use.

    Parameters
    ----------
    seed : a non-negative int.

    Returns
    -------
    numpy.random.Generator

    Examples
    --------
    >>> a = seed_everything(3).integers(100); b = seed_everything(3).integers(100); bool(a == b)
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - legacy global state, for third-party code
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import torch
    except ImportError:
        pass
    else:
        torch.manual_seed(seed)  # seeds CUDA devices too
    return np.random.default_rng(seed)


def progress_disabled(progress: bool = True) -> bool:
    """Whether to hide a progress bar: when ``progress`` is False, or when the
    environment variable ``TQDM_DISABLE`` is set to anything but ``""``/``"0"`` (as
    ``make test`` and ``prunerec-nb execute`` do, so stored notebooks hold no bars).

    Pass it as ``tqdm(..., disable=progress_disabled(progress))``: an explicit
    ``disable=`` would otherwise override tqdm's own reading of ``TQDM_DISABLE``.

    Examples
    --------
    >>> progress_disabled(False)
    True
    """
    return not progress or os.environ.get("TQDM_DISABLE", "") not in ("", "0")


def package_versions(names: tuple[str, ...] = COURSE_PACKAGES) -> dict[str, str]:
    """Installed version of each package, or ``"missing"``.

    Examples
    --------
    >>> package_versions(("numpy",))["numpy"] == np.__version__
    True
    """
    out = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def device_summary() -> str:
    """The best compute device PyTorch sees: ``cuda (<name>)``, ``mps`` or ``cpu (N threads)``."""
    import torch

    if torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)})"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return f"cpu ({torch.get_num_threads()} threads)"


def environment_report() -> str:
    """A few lines on Python, the course packages and the device (machine-dependent:
    for reading, not for comparing)."""
    lines = [f"python      {platform.python_version()} ({sys.implementation.name})"]
    lines += [f"{k:<11} {v}" for k, v in package_versions().items()]
    lines.append(f"device      {device_summary()}")
    return "\n".join(lines)
