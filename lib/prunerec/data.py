"""MovieLens ratings and the leave-one-out evaluation protocol (NumPy only).

The course trains implicit-feedback recommenders: every rating, whatever its value,
is a *positive* interaction between a user and an item. This module

* loads MovieLens rating files into :class:`Interactions` (dense integer indices);
* splits them with the leave-one-out protocol of He et al. (NCF, 2017):
  :func:`leave_one_out` holds out each user's latest interaction for testing and
  the one before for validation, and samples 99 never-seen items as ranking
  candidates;
* samples negatives for training (:func:`sample_train_negatives`);
* makes small synthetic data in the same file formats, for tests.

Formats
-------
``"100k"``   ``u.data``: ``user item rating timestamp``, tab-separated, no header.
``"inter"``  recbole's ``*.inter``: tab-separated with a typed header row such as
             ``user_id:token  item_id:token  rating:float  timestamp:float``.
``"1m"``     ``ratings.dat``: ``UserID::MovieID::Rating::Timestamp``, no header.
``"latest"`` ``ratings.csv``: header ``userId,movieId,rating,timestamp``; ratings may
             be halves (3.5). ml-latest-small, ml-20m and ml-25m use it.

A malformed row raises ``ValueError`` naming the file, the 1-based line number and
the line: nothing is skipped silently.

Dense indices
-------------
Users and items get indices ``0 .. n-1`` in the order of their sorted raw ids, so the
same file always gives the same indices. ``user_ids[u]`` and ``item_ids[i]`` map an
index back to the id written in the file.

Data credits
------------
The MovieLens data sets are made by GroupLens Research (https://grouplens.org).
Cite: F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History
and Context. *ACM Transactions on Interactive Intelligent Systems (TiiS)* 5(4),
Article 19. https://doi.org/10.1145/2827872

Their terms forbid redistribution: **never commit MovieLens files** to this
repository (nor to your fork). The default data, MovieLens-100K, is read from the
``recbole==1.2.1`` wheel (install it with ``pip install --no-deps recbole==1.2.1``,
or ``make lab``); the other sets can be downloaded from GroupLens with
:func:`download_movielens`, which checks a SHA-256.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import numbers
import os
import re
import shutil
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "FORMATS",
    "DATASETS",
    "Interactions",
    "packaged_ml100k_path",
    "load_movielens",
    "download_movielens",
    "LeaveOneOut",
    "leave_one_out",
    "sample_train_negatives",
    "synthetic_interactions",
    "write_synthetic",
]

#: Rating file formats and the file name each is detected by.
FORMATS: dict[str, str] = {
    "100k": "u.data",
    "inter": "*.inter",
    "1m": "ratings.dat",
    "latest": "ratings.csv",
}

_SEPARATORS = {"100k": "\t", "inter": "\t", "1m": "::", "latest": ","}
_LATEST_HEADER = "userId,movieId,rating,timestamp"
_INTER_HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float"
_INTER_COLUMNS = ("user_id", "item_id", "rating", "timestamp")
_RATING_RANGE = (0.5, 5.0)

#: Downloadable data sets: name -> SHA-256 of the GroupLens zip, or None when it is
#: not pinned. The two pinned values are those of TensorFlow Datasets'
#: ``url_checksums/movielens.txt`` (and of other projects that check these archives);
#: ml-100k and ml-1m are frozen releases. ml-latest-small is not pinned: GroupLens
#: regenerates "latest" sets, so its caller must pass the checksum it expects.
DATASETS: dict[str, str | None] = {
    "ml-100k": "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
    "ml-1m": "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
    "ml-latest-small": None,
}
_GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/{name}.zip"

_INSTALL_HINT = (
    "install the recbole wheel, which carries MovieLens-100K, without its dependencies: "
    "`pip install --no-deps recbole==1.2.1` (or run `make lab`)"
)


# --------------------------------------------------------------------------- validation


def _check_int(value: object, name: str, minimum: int | None = None) -> int:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_fmt(fmt: str) -> str:
    if fmt not in FORMATS:
        valid = ", ".join(repr(f) for f in FORMATS)
        raise ValueError(f"fmt={fmt!r} is not a known format; valid names: {valid}")
    return fmt


def _int_array(values: ArrayLike, name: str) -> NDArray[np.int64]:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size and (arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


# --------------------------------------------------------------------------- Interactions


@dataclass(frozen=True, eq=False)
class Interactions:
    """User-item ratings with dense indices, one entry per rating (in file order).

    Parameters
    ----------
    users, items : int64 arrays of dense indices in ``[0, n_users)`` and ``[0, n_items)``.
    ratings : float32 array (implicit feedback ignores the value).
    timestamps : int64 array, seconds since the epoch.
    n_users, n_items : sizes of the index spaces.
    user_ids, item_ids : arrays of length ``n_users`` / ``n_items``: dense index -> raw id.
    name : a label for printing (e.g. ``"ml-100k"``).

    Examples
    --------
    >>> inter = Interactions.from_raw([10, 30, 10], [7, 7, 9], [4, 5, 3], [1, 2, 3])
    >>> inter.users, inter.items, inter.user_ids, len(inter)
    (array([0, 1, 0]), array([0, 0, 1]), array([10, 30]), 3)
    """

    users: NDArray[np.int64]
    items: NDArray[np.int64]
    ratings: NDArray[np.float32]
    timestamps: NDArray[np.int64]
    n_users: int
    n_items: int
    user_ids: NDArray[np.int64]
    item_ids: NDArray[np.int64]
    name: str = "interactions"

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        n_users = _check_int(self.n_users, "n_users", 0)
        n_items = _check_int(self.n_items, "n_items", 0)
        set_(self, "n_users", n_users)
        set_(self, "n_items", n_items)
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, got {type(self.name).__name__}")
        for field in ("users", "items", "timestamps", "user_ids", "item_ids"):
            set_(self, field, _int_array(getattr(self, field), field))
        ratings = np.asarray(self.ratings)
        if ratings.ndim != 1 or not np.issubdtype(ratings.dtype, np.number):
            raise TypeError(
                f"ratings must be a 1-D numeric array, got {ratings.dtype} {ratings.shape}"
            )
        if not np.isfinite(ratings).all():
            raise ValueError("ratings must be finite")
        set_(self, "ratings", ratings.astype(np.float32, copy=False))
        n = self.users.size
        for field in ("items", "ratings", "timestamps"):
            if getattr(self, field).size != n:
                raise ValueError(
                    f"{field} has length {getattr(self, field).size} but users has length {n}"
                )
        for field, size in (("users", n_users), ("items", n_items)):
            arr = getattr(self, field)
            if arr.size and (arr.min() < 0 or arr.max() >= size):
                raise ValueError(
                    f"{field} must lie in [0, n_{field}={size}), got range "
                    f"[{arr.min()}, {arr.max()}]"
                )
        if self.user_ids.size != n_users:
            raise ValueError(f"user_ids has length {self.user_ids.size}, n_users is {n_users}")
        if self.item_ids.size != n_items:
            raise ValueError(f"item_ids has length {self.item_ids.size}, n_items is {n_items}")

    @classmethod
    def from_raw(
        cls,
        raw_users: ArrayLike,
        raw_items: ArrayLike,
        ratings: ArrayLike,
        timestamps: ArrayLike,
        name: str = "interactions",
    ) -> Interactions:
        """Build from raw (file) ids: dense indices follow the sorted raw ids.

        Parameters
        ----------
        raw_users, raw_items : integer ids as written in the data file.
        ratings, timestamps : one per interaction.
        name : a label for printing.

        Returns
        -------
        :class:`Interactions`.

        Examples
        --------
        >>> Interactions.from_raw([5, 2], [1, 1], [3.0, 4.0], [0, 0]).users
        array([1, 0])
        """
        u_raw = _int_array(raw_users, "raw_users")
        i_raw = _int_array(raw_items, "raw_items")
        if u_raw.size != i_raw.size:
            raise ValueError(f"raw_items has length {i_raw.size}, raw_users has {u_raw.size}")
        user_ids, users = np.unique(u_raw, return_inverse=True)
        item_ids, items = np.unique(i_raw, return_inverse=True)
        return cls(
            users=users.astype(np.int64),
            items=items.astype(np.int64),
            ratings=np.asarray(ratings, dtype=np.float32),
            timestamps=_int_array(timestamps, "timestamps"),
            n_users=int(user_ids.size),
            n_items=int(item_ids.size),
            user_ids=user_ids,
            item_ids=item_ids,
            name=name,
        )

    def __len__(self) -> int:
        return int(self.users.size)

    @property
    def density(self) -> float:
        """Fraction of the user x item matrix that is observed."""
        return len(self) / (self.n_users * self.n_items) if self.n_users * self.n_items else 0.0

    def __repr__(self) -> str:
        return (
            f"Interactions(name={self.name!r}, {len(self):,} ratings, {self.n_users:,} users, "
            f"{self.n_items:,} items)"
        )


# --------------------------------------------------------------------------- locating files


def packaged_ml100k_path() -> Path:
    """Path of the MovieLens-100K file shipped in the ``recbole==1.2.1`` wheel.

    The file is found through the wheel's metadata, without importing recbole
    (whose import is heavy and needs dependencies the course does not install).

    Returns
    -------
    pathlib.Path of ``recbole/dataset_example/ml-100k/ml-100k.inter``.

    Raises
    ------
    FileNotFoundError
        If recbole is not installed or the file is missing; the message says how
        to install it.

    Examples
    --------
    >>> packaged_ml100k_path().name  # doctest: +SKIP
    'ml-100k.inter'
    """
    relative = "recbole/dataset_example/ml-100k/ml-100k.inter"
    try:
        dist = importlib.metadata.distribution("recbole")
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError(
            f"MovieLens-100K is not available: recbole is not installed; {_INSTALL_HINT}"
        ) from None
    path = Path(str(dist.locate_file(relative)))
    if not path.is_file():
        raise FileNotFoundError(
            f"recbole {dist.version} is installed but {path} is missing; {_INSTALL_HINT}"
        )
    return path


def _fmt_of_name(filename: str) -> str | None:
    base = filename.rsplit("/", 1)[-1]
    if base == "u.data":
        return "100k"
    if base.endswith(".inter"):
        return "inter"
    if base == "ratings.dat":
        return "1m"
    if base == "ratings.csv":
        return "latest"
    return None


def _pick(found: list[str], fmt: str | None, where: str) -> str:
    """The one rating file among ``found`` (names matching ``fmt``, or any format)."""
    hits = [f for f in found if (_fmt_of_name(f) == fmt if fmt else _fmt_of_name(f))]
    wanted = FORMATS[fmt] if fmt else ", ".join(FORMATS.values())
    if not hits:
        raise FileNotFoundError(f"no rating file ({wanted}) found in {where}")
    if len(hits) > 1:
        listed = ", ".join(sorted(hits))
        raise ValueError(f"several rating files in {where}: {listed}; pass the one you want")
    return hits[0]


def _dataset_name(filename: str, fallback: str) -> str:
    """``ml-100k`` for ``.../ml-100k/u.data`` or ``ml-100k.inter``."""
    parts = filename.replace("\\", "/").rstrip("/").split("/")
    if parts[-1].endswith(".inter"):
        return parts[-1][: -len(".inter")]
    return parts[-2] if len(parts) > 1 and parts[-2] else fallback


def load_movielens(
    source: str | os.PathLike[str] | None = None, *, fmt: str | None = None
) -> Interactions:
    """Load MovieLens ratings from the packaged 100K, a file, a folder or a zip archive.

    Parameters
    ----------
    source : ``None`` for the packaged MovieLens-100K (see :func:`packaged_ml100k_path`);
        otherwise the path of a rating file, of a folder holding one under its usual
        name (see :data:`FORMATS`; searched one level deep, e.g. ``data/ml-100k/u.data``),
        or of a ``.zip`` archive such as GroupLens' ``ml-100k.zip``.
    fmt : one of :data:`FORMATS` (``"100k"``, ``"inter"``, ``"1m"``, ``"latest"``), or
        ``None`` to detect it from the file name.

    Returns
    -------
    :class:`Interactions`, rows in file order, named after the data set's folder
    (or the ``.inter`` file's stem).

    Raises
    ------
    FileNotFoundError
        If ``source`` does not exist or holds no rating file.
    ValueError
        For an unknown ``fmt``, a file name whose format cannot be detected, several
        rating files in one folder, or a malformed row (the message names the file,
        the 1-based line number and the line).

    Examples
    --------
    >>> import tempfile
    >>> inter = synthetic_interactions(n_users=20, n_items=15, seed=1)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_synthetic(inter, Path(tmp) / "ml-toy" / "ratings.dat", "1m")
    ...     back = load_movielens(Path(tmp))      # a folder: finds ml-toy/ratings.dat
    >>> back.name, back.n_users, bool((back.items == inter.items).all())
    ('ml-toy', 20, True)
    >>> load_movielens()  # doctest: +SKIP
    Interactions(name='ml-100k', 100,000 ratings, 943 users, 1,682 items)
    """
    if fmt is not None:
        _check_fmt(fmt)
    if source is None:
        path = packaged_ml100k_path()
        return _parse(path.read_bytes(), fmt or "inter", str(path), "ml-100k")
    if not isinstance(source, str | os.PathLike):
        raise TypeError(f"source must be a path or None, got {type(source).__name__}")
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"source {str(path)!r} does not exist")
    if path.is_dir():
        found = [str(p.relative_to(path).as_posix()) for p in path.iterdir() if p.is_file()]
        for sub in path.iterdir():
            if sub.is_dir():
                found += [f"{sub.name}/{p.name}" for p in sub.iterdir() if p.is_file()]
        member = _pick(found, fmt, f"folder {str(path)!r}")
        file = path / member
        return _parse(
            file.read_bytes(),
            fmt or _fmt_of_name(member),
            str(file),
            _dataset_name(member, path.name),
        )
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/") and "__MACOSX" not in n]
            member = _pick(names, fmt, f"zip archive {str(path)!r}")
            raw = zf.read(member)
        where = f"{path} (member {member})"
        return _parse(raw, fmt or _fmt_of_name(member), where, _dataset_name(member, path.stem))
    detected = fmt or _fmt_of_name(path.name)
    if detected is None:
        valid = ", ".join(f"{k!r} ({v})" for k, v in FORMATS.items())
        raise ValueError(
            f"cannot tell the format of {str(path)!r} from its name; pass fmt=: {valid}"
        )
    return _parse(path.read_bytes(), detected, str(path), _dataset_name(str(path), path.stem))


# --------------------------------------------------------------------------- parsing


def _row_error(where: str, lineno: int, line: str, problem: str) -> ValueError:
    shown = line if len(line) <= 200 else line[:200] + "..."
    return ValueError(f"{where}: line {lineno}: {problem}: {shown!r}")


def _timestamp(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        value = float(text)  # recbole types timestamps as float: accept 881250949.0
        if not value.is_integer():
            raise ValueError(f"timestamp {text!r} is not a whole number of seconds") from None
        return int(value)


def _parse(raw: bytes, fmt: str, where: str, name: str) -> Interactions:
    """Parse the bytes of one rating file (plain Python: one pass, one split per line)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{where}: not a UTF-8 text file ({exc})") from None
    lines = text.splitlines()
    sep = _SEPARATORS[fmt]
    cols = (0, 1, 2, 3)  # positions of user, item, rating, timestamp
    first = 0  # index of the first data line
    if fmt == "latest":
        if not lines or lines[0].strip() != _LATEST_HEADER:
            raise _row_error(
                where, 1, lines[0] if lines else "", f"expected header {_LATEST_HEADER!r}"
            )
        first = 1
    elif fmt == "inter":
        header = lines[0].split(sep) if lines else []
        names = [h.split(":", 1)[0].strip() for h in header]
        if sorted(names) != sorted(_INTER_COLUMNS):
            raise _row_error(
                where,
                1,
                lines[0] if lines else "",
                f"expected a typed header with the columns {', '.join(_INTER_COLUMNS)} "
                f"(e.g. {_INTER_HEADER!r})",
            )
        cols = tuple(names.index(c) for c in _INTER_COLUMNS)
        first = 1
    if len(lines) <= first:
        raise ValueError(f"{where}: no ratings in the file")

    iu, ii, ir, it = cols
    lo, hi = _RATING_RANGE
    users: list[int] = []
    items: list[int] = []
    ratings: list[float] = []
    stamps: list[int] = []
    for k in range(first, len(lines)):
        line = lines[k]
        parts = line.split(sep)
        if len(parts) != 4:
            raise _row_error(
                where, k + 1, line, f"expected 4 fields separated by {sep!r}, found {len(parts)}"
            )
        try:
            u, i, r, t = int(parts[iu]), int(parts[ii]), float(parts[ir]), _timestamp(parts[it])
        except ValueError:
            for label, pos, conv in (
                ("user id", iu, int),
                ("item id", ii, int),
                ("rating", ir, float),
                ("timestamp", it, _timestamp),
            ):
                try:
                    conv(parts[pos])
                except ValueError:
                    raise _row_error(
                        where, k + 1, line, f"{label} {parts[pos]!r} is not a number"
                    ) from None
            raise  # pragma: no cover - one of the fields above failed
        if not lo <= r <= hi:  # also rejects nan
            raise _row_error(where, k + 1, line, f"rating {r} outside [{lo}, {hi}]")
        users.append(u)
        items.append(i)
        ratings.append(r)
        stamps.append(t)
    return Interactions.from_raw(
        np.array(users, dtype=np.int64),
        np.array(items, dtype=np.int64),
        np.array(ratings, dtype=np.float32),
        np.array(stamps, dtype=np.int64),
        name=name,
    )


# --------------------------------------------------------------------------- download


def _fetch(url: str, path: Path, timeout: float = 60.0) -> None:
    """Stream ``url`` into ``path`` (the only function that touches the network)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(path, "wb") as out:
            shutil.copyfileobj(response, out)
    except (urllib.error.URLError, TimeoutError) as exc:
        raise ConnectionError(
            f"could not download {url}: {exc}. Offline, use the packaged MovieLens-100K "
            "(load_movielens() with no argument)."
        ) from exc


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_movielens(
    name: str, dest: str | os.PathLike[str], *, sha256: str | None = None
) -> Path:
    """Download a MovieLens zip from GroupLens into ``dest`` and verify its SHA-256.

    Parameters
    ----------
    name : one of :data:`DATASETS`: ``"ml-100k"``, ``"ml-1m"``, ``"ml-latest-small"``.
    dest : folder to save ``{name}.zip`` in (created if needed). Keep it out of git.
    sha256 : expected SHA-256 (hex) of the zip. Required for data sets without a
        pinned checksum (ml-latest-small); for the others it must equal the pinned one.

    Returns
    -------
    pathlib.Path of the verified zip; pass it to :func:`load_movielens`. An existing
    file with the right checksum is reused; one with another checksum is an error
    (delete it and download again), never overwritten.

    Raises
    ------
    ValueError
        Unknown ``name``, missing or malformed ``sha256``, or a checksum mismatch (the
        partial download is deleted).
    ConnectionError
        If the download fails.

    Examples
    --------
    >>> path = download_movielens("ml-1m", "data")  # doctest: +SKIP
    >>> load_movielens(path)  # doctest: +SKIP
    Interactions(name='ml-1m', 1,000,209 ratings, 6,040 users, 3,706 items)
    """
    if name not in DATASETS:
        valid = ", ".join(repr(n) for n in DATASETS)
        raise ValueError(f"name={name!r} is not a known MovieLens data set; valid names: {valid}")
    pinned = DATASETS[name]
    if sha256 is not None:
        if not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
            raise ValueError(f"sha256 must be 64 hexadecimal characters, got {sha256!r}")
        sha256 = sha256.lower()
        if pinned is not None and sha256 != pinned:
            raise ValueError(
                f"sha256={sha256} differs from the known checksum of {name}.zip ({pinned})"
            )
    expected = sha256 or pinned
    if expected is None:
        raise ValueError(
            f"{name} has no pinned checksum (GroupLens updates it): pass sha256= with the "
            "SHA-256 you expect for the zip"
        )
    folder = Path(dest)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.zip"
    if target.exists():
        found = _sha256_file(target)
        if found != expected:
            raise ValueError(
                f"{target} exists but its SHA-256 is {found}, expected {expected}; "
                "delete it to download again"
            )
        return target
    part = folder / f".{name}.zip.part"
    try:
        _fetch(_GROUPLENS_URL.format(name=name), part)
        found = _sha256_file(part)
        if found != expected:
            raise ValueError(
                f"downloaded {name}.zip has SHA-256 {found}, expected {expected}; "
                "the file was deleted"
            )
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)
    return target


# --------------------------------------------------------------------------- leave-one-out


@dataclass(frozen=True, eq=False)
class LeaveOneOut:
    """A leave-one-out split: training positives plus one validation and one test item
    per user, each ranked among sampled negatives.

    Attributes
    ----------
    train_users, train_items : int64 arrays, the training positives (sorted by user,
        then time).
    n_users, n_items : sizes of the index spaces.
    val_items, test_items : int64 arrays of length ``n_users``: the second-to-last and
        the last interaction of each user.
    val_candidates, test_candidates : int64 arrays of shape ``(n_users, 1 + n_negatives)``;
        column 0 is the held-out item, the others are distinct items the user never
        interacted with.
    """

    train_users: NDArray[np.int64]
    train_items: NDArray[np.int64]
    n_users: int
    n_items: int
    val_items: NDArray[np.int64]
    test_items: NDArray[np.int64]
    val_candidates: NDArray[np.int64]
    test_candidates: NDArray[np.int64]

    def __post_init__(self) -> None:
        n = self.n_users
        if self.train_users.shape != self.train_items.shape:
            raise ValueError("train_users and train_items must have the same shape")
        for field in ("val_items", "test_items"):
            if getattr(self, field).shape != (n,):
                raise ValueError(f"{field} must have shape ({n},)")
        for field, held in (
            ("val_candidates", self.val_items),
            ("test_candidates", self.test_items),
        ):
            cand = getattr(self, field)
            if cand.ndim != 2 or cand.shape[0] != n or not (cand[:, 0] == held).all():
                raise ValueError(f"{field} must have shape ({n}, m) with the held-out item first")

    @property
    def n_negatives(self) -> int:
        """Number of sampled negatives per held-out item."""
        return self.test_candidates.shape[1] - 1

    def train_matrix(self) -> NDArray[np.bool_]:
        """Dense boolean ``(n_users, n_items)`` matrix of the training positives.

        Examples
        --------
        >>> split = leave_one_out(synthetic_interactions(seed=0), n_negatives=5)
        >>> int(split.train_matrix().sum()) == split.train_items.size
        True
        """
        matrix = np.zeros((self.n_users, self.n_items), dtype=bool)
        matrix[self.train_users, self.train_items] = True
        return matrix

    def user_positive_sets(self) -> list[set[int]]:
        """The training positives of each user, as a list of Python sets."""
        sets: list[set[int]] = [set() for _ in range(self.n_users)]
        for u, i in zip(self.train_users.tolist(), self.train_items.tolist(), strict=True):
            sets[u].add(i)
        return sets

    def __repr__(self) -> str:
        return (
            f"LeaveOneOut({self.n_users:,} users, {self.n_items:,} items, "
            f"{self.train_items.size:,} training positives, 1 validation + 1 test item per "
            f"user, {self.n_negatives} negatives each)"
        )


def _sample_unseen(
    rng: np.random.Generator,
    users_sorted: NDArray[np.int64],
    items_sorted: NDArray[np.int64],
    starts: NDArray[np.int64],
    n_users: int,
    n_items: int,
    k: int,
) -> NDArray[np.int64]:
    """For each user, ``k`` distinct items the user never interacted with, in random order.

    Every item gets a uniform random key; the user's items get +inf; the ``k``
    smallest keys are a uniform sample without replacement. Done in chunks of users
    to bound memory.
    """
    out = np.empty((n_users, k), dtype=np.int64)
    chunk = max(1, (1 << 21) // max(n_items, 1))
    for a in range(0, n_users, chunk):
        b = min(a + chunk, n_users)
        keys = rng.random((b - a, n_items))
        lo, hi = starts[a], starts[b]
        keys[users_sorted[lo:hi] - a, items_sorted[lo:hi]] = np.inf
        part = np.argpartition(keys, k - 1, axis=1)[:, :k]  # k <= unseen items < n_items
        order = np.argsort(np.take_along_axis(keys, part, axis=1), axis=1)
        out[a:b] = np.take_along_axis(part, order, axis=1)
    return out


def leave_one_out(
    inter: Interactions, *, n_negatives: int = 99, seed: int | np.random.Generator | None = 0
) -> LeaveOneOut:
    """Split interactions with the leave-one-out protocol (implicit feedback).

    For each user, interactions are sorted by timestamp: the last is the test item, the
    second-to-last the validation item, the rest are training positives. Interactions
    with the *same* timestamp are ordered by a seeded random key. That matters: in
    MovieLens-100K, 415 of the 943 users rated several films in their last second, and
    breaking those ties by item id would always hold out the highest id -- films added
    later, which are less popular -- biasing the test set (ItemPop's HR@10 falls from
    about 0.42 to 0.31 and a NeuMF's from about 0.66 to 0.59 under that rule).
    Each held-out item is paired with ``n_negatives`` distinct items that the user
    never interacted with (in train, validation or test).

    Parameters
    ----------
    inter : the interactions; every user needs at least 3 and no (user, item) pair
        may repeat.
    n_negatives : negatives per held-out item (99 in the NCF protocol), ``>= 1``.
    seed : seed (or Generator) for ``np.random.default_rng``: the same seed gives the
        same candidates.

    Returns
    -------
    :class:`LeaveOneOut`.

    Examples
    --------
    >>> inter = Interactions.from_raw(
    ...     [1, 1, 1, 2, 2, 2, 2], [10, 11, 12, 10, 11, 13, 14], [5] * 7, [3, 1, 2, 1, 2, 3, 4]
    ... )
    >>> split = leave_one_out(inter, n_negatives=1, seed=0)
    >>> split.test_items.tolist(), split.val_items.tolist()   # dense item indices
    ([0, 4], [2, 3])
    >>> split.train_users.tolist(), split.train_items.tolist()
    ([0, 1, 1], [1, 0, 1])
    >>> split.test_candidates[:, 0].tolist(), split.test_candidates.shape
    ([0, 4], (2, 2))
    """
    if not isinstance(inter, Interactions):
        raise TypeError(f"inter must be an Interactions, got {type(inter).__name__}")
    k = _check_int(n_negatives, "n_negatives", 1)
    n_users, n_items = inter.n_users, inter.n_items
    counts = np.bincount(inter.users, minlength=n_users)
    few = int((counts < 3).sum())
    if few:
        raise ValueError(
            f"inter has {few} user(s) with fewer than 3 interactions (fewest: {counts.min()}); "
            "leave-one-out needs a validation item, a test item and at least one to train on"
        )
    keys = inter.users * n_items + inter.items
    n_dup = keys.size - np.unique(keys).size
    if n_dup:
        raise ValueError(
            f"inter has {n_dup} repeated (user, item) pair(s); a held-out item would also be "
            "in training: remove the duplicates first"
        )
    room = int((n_items - counts).min())
    if room < k:
        raise ValueError(
            f"n_negatives={k} is too large: some user has interacted with all but {room} of the "
            f"{n_items} items"
        )
    rng = np.random.default_rng(seed)
    tie_break = rng.random(len(inter))  # same-timestamp interactions: a seeded random order
    order = np.lexsort((tie_break, inter.timestamps, inter.users))
    users, items = inter.users[order], inter.items[order]
    ends = np.cumsum(counts)
    starts = np.concatenate([[0], ends])
    test_items = items[ends - 1]
    val_items = items[ends - 2]
    train = np.ones(len(inter), dtype=bool)
    train[ends - 1] = False
    train[ends - 2] = False
    val_neg = _sample_unseen(rng, users, items, starts, n_users, n_items, k)
    test_neg = _sample_unseen(rng, users, items, starts, n_users, n_items, k)
    return LeaveOneOut(
        train_users=users[train],
        train_items=items[train],
        n_users=n_users,
        n_items=n_items,
        val_items=val_items,
        test_items=test_items,
        val_candidates=np.column_stack([val_items, val_neg]),
        test_candidates=np.column_stack([test_items, test_neg]),
    )


def sample_train_negatives(
    split: LeaveOneOut, n_negatives: int = 4, *, seed: int | np.random.Generator | None
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float32]]:
    """Training pairs: every training positive plus ``n_negatives`` sampled negatives.

    Negatives are drawn uniformly among the items that are not training positives of
    the user (rejection sampling, vectorised). As in NCF, they are drawn with
    replacement, afresh each call (e.g. each epoch, with a new seed), and may include
    the user's validation or test item, which training must not know about.

    Parameters
    ----------
    split : a :class:`LeaveOneOut`.
    n_negatives : negatives per positive, ``>= 0``.
    seed : seed (or Generator) for ``np.random.default_rng``; required (keyword).

    Returns
    -------
    ``(users, items, labels)``: int64, int64 and float32 arrays of length
    ``n_train * (1 + n_negatives)``: first the positives (label 1), then the negatives
    (label 0), the negatives of positive ``j`` at ``n_train + j * n_negatives + r``.

    Examples
    --------
    >>> split = leave_one_out(synthetic_interactions(seed=0), n_negatives=5)
    >>> users, items, labels = sample_train_negatives(split, 4, seed=0)
    >>> labels.size == 5 * split.train_items.size, int(labels.sum()) == split.train_items.size
    (True, True)
    """
    if not isinstance(split, LeaveOneOut):
        raise TypeError(f"split must be a LeaveOneOut, got {type(split).__name__}")
    k = _check_int(n_negatives, "n_negatives", 0)
    rng = np.random.default_rng(seed)
    n_items = split.n_items
    pos_users, pos_items = split.train_users, split.train_items
    full = np.bincount(pos_users, minlength=split.n_users) >= n_items
    if k and full.any():
        raise ValueError(
            f"{int(full.sum())} user(s) have every item as a training positive: no negatives exist"
        )
    pos_keys = np.unique(pos_users * n_items + pos_items)  # sorted
    neg_users = np.repeat(pos_users, k)
    neg_items = rng.integers(0, n_items, size=neg_users.size, dtype=np.int64)
    todo = np.arange(neg_users.size)
    for _ in range(100_000):
        keys = neg_users[todo] * n_items + neg_items[todo]
        at = np.minimum(np.searchsorted(pos_keys, keys), max(pos_keys.size - 1, 0))
        todo = todo[pos_keys[at] == keys] if pos_keys.size else todo[:0]
        if todo.size == 0:
            break
        neg_items[todo] = rng.integers(0, n_items, size=todo.size, dtype=np.int64)
    else:  # pragma: no cover - needs astronomically bad luck
        raise RuntimeError("rejection sampling did not finish")
    users = np.concatenate([pos_users, neg_users])
    items = np.concatenate([pos_items, neg_items])
    labels = np.concatenate(
        [np.ones(pos_users.size, dtype=np.float32), np.zeros(neg_users.size, dtype=np.float32)]
    )
    return users, items, labels


# --------------------------------------------------------------------------- synthetic data


def synthetic_interactions(
    n_users: int = 50, n_items: int = 40, per_user: tuple[int, int] = (5, 15), seed: int = 0
) -> Interactions:
    """Small random interactions with structure a model can learn.

    Users and items get 4 latent factors and items a popularity bias (a few items are
    much more popular); each user picks items without replacement with probability
    ``∝ exp(user·item + bias)``. Every item is used at least once (a user may get one
    extra interaction for that). Raw ids are sparse, non-contiguous numbers (like real
    ids after filtering), timestamps are increasing per user with some ties, and
    ratings are whole stars 1-5 that follow the affinity.

    Parameters
    ----------
    n_users, n_items : sizes (``>= 1`` and ``>= 2``).
    per_user : inclusive range of interactions per user, ``1 <= low <= high <= n_items``.
    seed : random seed.

    Returns
    -------
    :class:`Interactions` named ``"synthetic"``, rows in random order.

    Examples
    --------
    >>> inter = synthetic_interactions(n_users=30, n_items=20, per_user=(3, 8), seed=0)
    >>> inter.n_users, inter.n_items, bool(np.isin(inter.ratings, [1, 2, 3, 4, 5]).all())
    (30, 20, True)
    """
    n_users = _check_int(n_users, "n_users", 1)
    n_items = _check_int(n_items, "n_items", 2)
    seed = _check_int(seed, "seed", 0)
    if (
        not isinstance(per_user, tuple | list)
        or len(per_user) != 2
        or not all(isinstance(v, numbers.Integral) for v in per_user)
        or not 1 <= per_user[0] <= per_user[1] <= n_items
    ):
        raise ValueError(
            f"per_user must be (low, high) with 1 <= low <= high <= n_items={n_items}, "
            f"got {per_user!r}"
        )
    rng = np.random.default_rng(seed)
    dim = 4
    user_f = rng.normal(size=(n_users, dim))
    item_f = rng.normal(size=(n_items, dim))
    bias = -1.2 * np.log1p(rng.permutation(n_items))  # Zipf-like popularity
    affinity = user_f @ item_f.T / np.sqrt(dim) + bias
    # Gumbel top-k = sampling without replacement with probability ∝ exp(affinity)
    order = np.argsort(-(affinity + rng.gumbel(size=affinity.shape)), axis=1)
    counts = rng.integers(per_user[0], per_user[1] + 1, size=n_users)
    chosen = [order[u, : counts[u]].tolist() for u in range(n_users)]
    used = np.zeros(n_items, dtype=bool)
    for picks in chosen:
        used[picks] = True
    for item in np.flatnonzero(~used):
        chosen[int(rng.integers(n_users))].append(int(item))
    users = np.concatenate([np.full(len(c), u) for u, c in enumerate(chosen)]).astype(np.int64)
    items = np.concatenate([rng.permutation(c) for c in chosen]).astype(
        np.int64
    )  # random time order
    # timestamps: a start per user, then non-decreasing gaps (about 1 in 5 is a tie)
    gaps = rng.integers(1, 86_400, size=users.size) * (rng.random(users.size) > 0.2)
    starts = rng.integers(874_724_710, 893_286_638, size=n_users)  # ML-100K's time span
    first = np.concatenate([[0], np.cumsum([len(c) for c in chosen])[:-1]])
    cum = np.cumsum(gaps)
    timestamps = starts[users] + cum - cum[first][users]
    z = affinity[users, items]
    z = (z - z.mean()) / (z.std() + 1e-12)
    ratings = np.clip(np.rint(3.5 + 1.1 * z), 1, 5).astype(np.float32)
    user_ids = np.sort(rng.choice(np.arange(1, 20 * n_users + 1), n_users, replace=False))
    item_ids = np.sort(rng.choice(np.arange(1, 20 * n_items + 1), n_items, replace=False))
    shuffle = rng.permutation(users.size)
    return Interactions(
        users=users[shuffle],
        items=items[shuffle],
        ratings=ratings[shuffle],
        timestamps=timestamps[shuffle].astype(np.int64),
        n_users=n_users,
        n_items=n_items,
        user_ids=user_ids.astype(np.int64),
        item_ids=item_ids.astype(np.int64),
        name="synthetic",
    )


def write_synthetic(inter: Interactions, path: str | os.PathLike[str], fmt: str) -> Path:
    """Write interactions (with their raw ids) as a MovieLens file of format ``fmt``.

    Meant for tests and exercises with synthetic data; :func:`load_movielens` reads
    the file back to the same arrays.

    Parameters
    ----------
    inter : the interactions.
    path : the file to write; if it is an existing folder, the format's usual name is
        used inside it (``u.data``, ``{inter.name}.inter``, ``ratings.dat``,
        ``ratings.csv``). Parent folders are created.
    fmt : one of :data:`FORMATS`.

    Returns
    -------
    pathlib.Path of the written file.

    Examples
    --------
    >>> import tempfile
    >>> inter = Interactions.from_raw([7], [3], [3.5], [100])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(write_synthetic(inter, tmp, "latest").read_text(), end="")
    userId,movieId,rating,timestamp
    7,3,3.5,100
    """
    if not isinstance(inter, Interactions):
        raise TypeError(f"inter must be an Interactions, got {type(inter).__name__}")
    _check_fmt(fmt)
    target = Path(path)
    if target.is_dir():
        default = FORMATS[fmt] if fmt != "inter" else f"{inter.name}.inter"
        target = target / default
    sep = _SEPARATORS[fmt]
    rows = zip(
        inter.user_ids[inter.users].tolist(),
        inter.item_ids[inter.items].tolist(),
        inter.ratings.astype(np.float64).tolist(),
        inter.timestamps.tolist(),
        strict=True,
    )
    if fmt == "latest":
        lines = [_LATEST_HEADER] + [f"{u},{i},{r:.1f},{t}" for u, i, r, t in rows]
    else:
        lines = [_INTER_HEADER] if fmt == "inter" else []
        lines += [f"{u}{sep}{i}{sep}{r:g}{sep}{t}" for u, i, r, t in rows]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return target
