"""Tests for prunerec.data: loaders (round trips, malformed rows), download checks,
leave-one-out and negative sampling, synthetic data. No network; MovieLens files are
never written here, only synthetic ones."""

import hashlib
import importlib.metadata
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest

from prunerec import data as D

FILE_NAMES = {
    "100k": "u.data",
    "inter": "ml-syn.inter",
    "1m": "ratings.dat",
    "latest": "ratings.csv",
}


@pytest.fixture(scope="module")
def syn():
    return D.synthetic_interactions(n_users=40, n_items=30, per_user=(4, 12), seed=3)


def assert_same(a: D.Interactions, b: D.Interactions) -> None:
    assert (a.n_users, a.n_items, len(a)) == (b.n_users, b.n_items, len(b))
    for field in ("users", "items", "ratings", "timestamps", "user_ids", "item_ids"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    assert a.users.dtype == np.int64 and a.items.dtype == np.int64
    assert a.ratings.dtype == np.float32 and a.timestamps.dtype == np.int64


# --------------------------------------------------------------------------- loading


@pytest.mark.parametrize("fmt", list(FILE_NAMES))
def test_round_trip_file_and_folder(tmp_path, syn, fmt):
    path = D.write_synthetic(syn, tmp_path / "ml-syn" / FILE_NAMES[fmt], fmt)
    for source in (path, tmp_path / "ml-syn", tmp_path, str(tmp_path)):
        back = D.load_movielens(source)
        assert_same(back, syn)
        assert back.name == "ml-syn"
    assert_same(D.load_movielens(path, fmt=fmt), syn)


@pytest.mark.parametrize("fmt", list(FILE_NAMES))
def test_round_trip_zip(tmp_path, syn, fmt):
    path = D.write_synthetic(syn, tmp_path / "src" / FILE_NAMES[fmt], fmt)
    archive = tmp_path / "ml-syn.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ml-syn/", "")
        zf.write(path, f"ml-syn/{path.name}")
        zf.writestr("ml-syn/README", "not ratings")
        zf.writestr("ml-syn/u1.base", "1\t2\t3\t4\n")  # 100K's split files are not u.data
    back = D.load_movielens(archive)
    assert_same(back, syn)
    assert back.name == "ml-syn"
    assert_same(D.load_movielens(archive, fmt=fmt), syn)


def test_zip_member_at_root_is_named_after_the_archive(tmp_path, syn):
    path = D.write_synthetic(syn, tmp_path / "u.data", "100k")
    archive = tmp_path / "toy-set.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(path, "u.data")
    assert D.load_movielens(archive).name == "toy-set"


def test_dense_ids_follow_sorted_raw_ids(tmp_path):
    (tmp_path / "u.data").write_text("30\t7\t4\t100\n10\t9\t5\t200\n20\t7\t1\t300\n30\t5\t2\t50\n")
    inter = D.load_movielens(tmp_path / "u.data")
    assert inter.user_ids.tolist() == [10, 20, 30]
    assert inter.item_ids.tolist() == [5, 7, 9]
    assert inter.users.tolist() == [2, 0, 1, 2]
    assert inter.items.tolist() == [1, 2, 1, 0]
    assert inter.ratings.tolist() == [4.0, 5.0, 1.0, 2.0]
    assert inter.timestamps.tolist() == [100, 200, 300, 50]
    assert (inter.n_users, inter.n_items, len(inter)) == (3, 3, 4)


def test_formats_parse_their_own_syntax(tmp_path):
    (tmp_path / "ratings.dat").write_text("1::20::5::978300760\n2::10::3::978302109\n")
    (tmp_path / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n1,20,3.5,9\n2,10,0.5,8\n"
    )
    (tmp_path / "x.inter").write_text(
        "timestamp:float\trating:float\titem_id:token\tuser_id:token\n"  # other column order
        "881250949.0\t3\t20\t1\n881250950\t4\t10\t2\n"
    )
    one_m = D.load_movielens(tmp_path / "ratings.dat")
    latest = D.load_movielens(tmp_path / "ratings.csv")
    inter = D.load_movielens(tmp_path / "x.inter")
    assert one_m.ratings.tolist() == [5.0, 3.0] and one_m.timestamps.tolist() == [
        978300760,
        978302109,
    ]
    assert latest.ratings.tolist() == [3.5, 0.5]
    assert inter.ratings.tolist() == [3.0, 4.0]
    assert inter.timestamps.tolist() == [881250949, 881250950]
    for x in (one_m, latest, inter):
        assert x.item_ids[x.items].tolist() == [20, 10]
        assert x.user_ids[x.users].tolist() == [1, 2]
    assert inter.name == "x"


def test_crlf_line_endings(tmp_path):
    (tmp_path / "u.data").write_bytes(b"1\t2\t3\t4\r\n5\t6\t2\t8\r\n")
    assert len(D.load_movielens(tmp_path / "u.data")) == 2


@pytest.mark.parametrize(
    "fmt, text, lineno, bad_line, words",
    [
        ("100k", "1\t2\t3\t4\n1\t2\t3\n", 2, "1\t2\t3", "expected 4 fields"),
        ("100k", "1\t2\t3\t4\n\n1\t2\t3\t4\n", 2, "", "expected 4 fields"),
        ("100k", "1\tx\t3\t4\n", 1, "1\tx\t3\t4", "item id 'x'"),
        ("100k", "1\t2\tfive\t4\n", 1, "1\t2\tfive\t4", "rating 'five'"),
        ("100k", "1\t2\t3\t4\n1\t2\t6\t4\n", 2, "1\t2\t6\t4", "outside [0.5, 5.0]"),
        ("100k", "1\t2\t0\t4\n", 1, "1\t2\t0\t4", "outside"),
        ("100k", "1\t2\tnan\t4\n", 1, "1\t2\tnan\t4", "outside"),
        ("100k", "1\t2\t3\t4.5\n", 1, "1\t2\t3\t4.5", "timestamp"),
        ("1m", "1::2::3::4\n1::2::3::4\n1::2::3\n", 3, "1::2::3", "'::'"),
        ("1m", "1\t2\t3\t4\n", 1, "1\t2\t3\t4", "expected 4 fields"),
        (
            "latest",
            "userId,movieId,rating,timestamp\n1,2,3.5,4\n1,2,5.5,4\n",
            3,
            "1,2,5.5,4",
            "5.5",
        ),
        ("latest", "1,2,3.5,4\n", 1, "1,2,3.5,4", "header"),
        (
            "inter",
            "user_id:token\titem_id:token\n1\t2\n",
            1,
            "user_id:token\titem_id:token",
            "header",
        ),
        ("inter", D._INTER_HEADER + "\n1\t2\t3\t4\n1\t2\t3\t4\t5\n", 3, "1\t2\t3\t4\t5", "fields"),
    ],
)
def test_malformed_rows_name_file_line_and_content(tmp_path, fmt, text, lineno, bad_line, words):
    path = tmp_path / "odd-name.txt"
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        D.load_movielens(path, fmt=fmt)
    msg = str(info.value)
    assert str(path) in msg
    assert f"line {lineno}:" in msg
    assert repr(bad_line) in msg
    assert words in msg


def test_malformed_row_in_zip_names_archive_and_member(tmp_path):
    archive = tmp_path / "ml-bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ml-bad/u.data", "1\t2\t3\t4\n7\t8\t9\t10\n")
    with pytest.raises(ValueError, match="line 2") as info:
        D.load_movielens(archive)
    assert str(archive) in str(info.value) and "ml-bad/u.data" in str(info.value)


def test_empty_file_is_an_error(tmp_path):
    (tmp_path / "u.data").write_text("")
    with pytest.raises(ValueError, match="no ratings"):
        D.load_movielens(tmp_path / "u.data")
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\n")
    with pytest.raises(ValueError, match="no ratings"):
        D.load_movielens(tmp_path / "ratings.csv")


def test_unknown_format_lists_valid_names(tmp_path, syn):
    path = D.write_synthetic(syn, tmp_path / "u.data", "100k")
    with pytest.raises(ValueError, match="fmt='10m'") as info:
        D.load_movielens(path, fmt="10m")
    for name in ("'100k'", "'inter'", "'1m'", "'latest'"):
        assert name in str(info.value)
    with pytest.raises(ValueError, match="fmt"):
        D.write_synthetic(syn, tmp_path / "x", "csv")


def test_undetectable_file_name_asks_for_fmt(tmp_path, syn):
    path = D.write_synthetic(syn, tmp_path / "my_ratings.tsv", "100k")
    with pytest.raises(ValueError, match="pass fmt="):
        D.load_movielens(path)
    assert_same(D.load_movielens(path, fmt="100k"), syn)


def test_missing_and_ambiguous_sources(tmp_path, syn):
    missing = tmp_path / "nope" / "u.data"
    with pytest.raises(FileNotFoundError, match="nope"):
        D.load_movielens(missing)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no rating file"):
        D.load_movielens(tmp_path / "empty")
    D.write_synthetic(syn, tmp_path / "two" / "a" / "u.data", "100k")
    D.write_synthetic(syn, tmp_path / "two" / "b" / "ratings.dat", "1m")
    with pytest.raises(ValueError, match="several rating files"):
        D.load_movielens(tmp_path / "two")
    assert_same(D.load_movielens(tmp_path / "two", fmt="1m"), syn)  # fmt disambiguates
    with pytest.raises(TypeError, match="source"):
        D.load_movielens(42)


def test_write_synthetic_into_a_folder_uses_the_usual_names(tmp_path, syn):
    for fmt, name in (("100k", "u.data"), ("1m", "ratings.dat"), ("latest", "ratings.csv")):
        assert D.write_synthetic(syn, tmp_path, fmt).name == name
    assert D.write_synthetic(syn, tmp_path, "inter").name == "synthetic.inter"


# --------------------------------------------------------------------------- packaged data


def test_packaged_ml100k():
    try:
        path = D.packaged_ml100k_path()
    except FileNotFoundError:
        pytest.skip("recbole (the MovieLens-100K wheel) is not installed")
    assert path.name == "ml-100k.inter"
    inter = D.load_movielens()
    assert (len(inter), inter.n_users, inter.n_items) == (100_000, 943, 1_682)
    assert inter.name == "ml-100k"
    # the file's first data row is "196 242 3 881250949"
    first = (inter.user_ids[inter.users[0]], inter.item_ids[inter.items[0]])
    assert first == (196, 242) and inter.ratings[0] == 3 and inter.timestamps[0] == 881250949
    assert set(np.unique(inter.ratings).tolist()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert np.bincount(inter.users).min() >= 20  # every ML-100K user rated at least 20 films


def test_packaged_path_explains_how_to_install(monkeypatch):
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", not_installed)
    with pytest.raises(FileNotFoundError, match=r"pip install --no-deps recbole==1\.2\.1") as info:
        D.packaged_ml100k_path()
    assert "make lab" in str(info.value)


def test_data_and_metrics_do_not_import_torch():
    code = "import sys, prunerec.data, prunerec.metrics; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- download


def fake_fetch(payload: bytes, calls: list):
    def fetch(url, path, timeout=60.0):
        calls.append(url)
        Path(path).write_bytes(payload)

    return fetch


def test_download_rejects_unknown_names_and_bad_checksums(tmp_path):
    with pytest.raises(ValueError, match="'ml-100k', 'ml-1m', 'ml-latest-small'"):
        D.download_movielens("ml-10m", tmp_path)
    with pytest.raises(ValueError, match="pass sha256="):
        D.download_movielens("ml-latest-small", tmp_path)
    with pytest.raises(ValueError, match="64 hexadecimal"):
        D.download_movielens("ml-latest-small", tmp_path, sha256="abc")
    with pytest.raises(ValueError, match="differs from the known checksum"):
        D.download_movielens("ml-100k", tmp_path, sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_download_verifies_the_checksum(tmp_path, monkeypatch):
    payload = b"pretend this is a zip"
    good = hashlib.sha256(payload).hexdigest()
    calls: list = []
    monkeypatch.setattr(D, "_fetch", fake_fetch(payload, calls))
    path = D.download_movielens("ml-latest-small", tmp_path / "dl", sha256=good.upper())
    assert path == tmp_path / "dl" / "ml-latest-small.zip"
    assert path.read_bytes() == payload
    assert calls == ["https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"]
    # a second call reuses the verified file without fetching
    assert D.download_movielens("ml-latest-small", tmp_path / "dl", sha256=good) == path
    assert len(calls) == 1
    # an existing file with another checksum is reported, not overwritten
    with pytest.raises(ValueError, match="delete it"):
        D.download_movielens("ml-latest-small", tmp_path / "dl", sha256="f" * 64)
    assert path.read_bytes() == payload


def test_download_deletes_a_file_with_the_wrong_checksum(tmp_path, monkeypatch):
    calls: list = []
    monkeypatch.setattr(D, "_fetch", fake_fetch(b"not the real ml-100k", calls))
    with pytest.raises(ValueError, match=D.DATASETS["ml-100k"]):
        D.download_movielens("ml-100k", tmp_path)
    assert calls == ["https://files.grouplens.org/datasets/movielens/ml-100k.zip"]
    assert list(tmp_path.iterdir()) == []


def test_download_without_network(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(ConnectionError, match="ml-1m.zip"):
        D.download_movielens("ml-1m", tmp_path)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- Interactions


def test_interactions_validates():
    ok = dict(
        users=[0, 1],
        items=[0, 0],
        ratings=[1.0, 2.0],
        timestamps=[0, 0],
        n_users=2,
        n_items=1,
        user_ids=[5, 6],
        item_ids=[9],
    )
    assert len(D.Interactions(**ok)) == 2
    with pytest.raises(ValueError, match="items has length 1"):
        D.Interactions(**{**ok, "items": [0]})
    with pytest.raises(ValueError, match="users must lie in"):
        D.Interactions(**{**ok, "users": [0, 2]})
    with pytest.raises(ValueError, match="user_ids has length"):
        D.Interactions(**{**ok, "user_ids": [5]})
    with pytest.raises(TypeError, match="users must hold integers"):
        D.Interactions(**{**ok, "users": [0.0, 1.0]})
    with pytest.raises(ValueError, match="ratings must be finite"):
        D.Interactions(**{**ok, "ratings": [1.0, np.nan]})
    assert "2 ratings, 2 users, 1 items" in repr(D.Interactions(**ok))


# --------------------------------------------------------------------------- leave-one-out


def by_user(inter):
    """{user: sorted list of (timestamp, item)}, computed with plain Python."""
    out: dict = {}
    for u, i, t in zip(
        inter.users.tolist(), inter.items.tolist(), inter.timestamps.tolist(), strict=True
    ):
        out.setdefault(u, []).append((t, i))
    return {u: sorted(v) for u, v in out.items()}


def test_leave_one_out_holds_out_the_latest(syn):
    split = D.leave_one_out(syn, n_negatives=10, seed=0)
    history = by_user(syn)
    assert sorted(history) == list(range(syn.n_users))
    train = {}
    for u, i in zip(split.train_users.tolist(), split.train_items.tolist(), strict=True):
        train.setdefault(u, []).append(i)
    for u, events in history.items():
        when = dict((i, t) for t, i in events)
        t_test, t_val = when[int(split.test_items[u])], when[int(split.val_items[u])]
        assert t_test == events[-1][0]  # the test item is one of the latest
        assert t_val == events[-2][0]  # the validation item is the latest of the rest
        held = {int(split.test_items[u]), int(split.val_items[u])}
        assert sorted(train[u]) == sorted(i for _, i in events if i not in held)
        assert all(t <= t_val for i, t in when.items() if i not in held)
    assert split.train_items.size == len(syn) - 2 * syn.n_users


def test_leave_one_out_breaks_timestamp_ties_at_random_but_seeded():
    # raw items 10..16 -> dense 0..6. User 0 (raw 1): items 1 and 3 share the last
    # timestamp, 0 and 2 the first; user 1 has distinct timestamps (6 last, then 5).
    inter = D.Interactions.from_raw(
        [1, 1, 1, 1, 2, 2, 2], [10, 11, 12, 13, 16, 15, 14], [5] * 7, [7, 9, 7, 9, 3, 2, 1]
    )
    outcomes = set()
    for seed in range(20):
        split = D.leave_one_out(inter, n_negatives=1, seed=seed)
        assert {int(split.test_items[0]), int(split.val_items[0])} == {1, 3}
        assert split.test_items[1] == 6 and split.val_items[1] == 5
        assert split.train_users.tolist() == [0, 0, 1]
        assert sorted(split.train_items.tolist()[:2]) == [0, 2]
        outcomes.add(int(split.test_items[0]))
        again = D.leave_one_out(inter, n_negatives=1, seed=seed)
        assert again.test_items.tolist() == split.test_items.tolist()
    assert outcomes == {1, 3}  # neither tied item is favoured by its id


def test_candidates_are_never_interacted_and_distinct(syn):
    k = 15
    split = D.leave_one_out(syn, n_negatives=k, seed=1)
    seen = {u: {i for _, i in ev} for u, ev in by_user(syn).items()}
    for cand, held in (
        (split.val_candidates, split.val_items),
        (split.test_candidates, split.test_items),
    ):
        assert cand.shape == (syn.n_users, 1 + k) and cand.dtype == np.int64
        np.testing.assert_array_equal(cand[:, 0], held)
        for u in range(syn.n_users):
            negatives = cand[u, 1:].tolist()
            assert len(set(negatives)) == k
            assert not set(negatives) & seen[u]
            assert all(0 <= i < syn.n_items for i in negatives)
    assert split.n_negatives == k


def test_leave_one_out_is_seeded(syn):
    a = D.leave_one_out(syn, n_negatives=8, seed=5)
    b = D.leave_one_out(syn, n_negatives=8, seed=5)
    c = D.leave_one_out(syn, n_negatives=8, seed=6)
    np.testing.assert_array_equal(a.test_candidates, b.test_candidates)
    np.testing.assert_array_equal(a.val_candidates, b.val_candidates)
    assert not np.array_equal(a.test_candidates, c.test_candidates)
    np.testing.assert_array_equal(a.test_items, b.test_items)
    np.testing.assert_array_equal(a.train_items, b.train_items)


def test_negatives_are_uniform_over_unseen_items():
    # 3000 users who all saw items 0, 1, 2 out of 10: each unseen item has probability 3/7
    n = 3000
    inter = D.Interactions(
        users=np.repeat(np.arange(n), 3),
        items=np.tile([0, 1, 2], n),
        ratings=np.ones(3 * n),
        timestamps=np.tile([1, 2, 3], n),
        n_users=n,
        n_items=10,
        user_ids=np.arange(n),
        item_ids=np.arange(10),
    )
    split = D.leave_one_out(inter, n_negatives=3, seed=0)
    counts = np.bincount(split.test_candidates[:, 1:].ravel(), minlength=10)
    assert counts[:3].sum() == 0
    expected = n * 3 / 7
    assert np.all(np.abs(counts[3:] - expected) < 0.1 * expected)


def test_leave_one_out_rejects_bad_input(syn):
    few = D.Interactions.from_raw([1, 1, 2, 2, 3, 3, 3], [1, 2, 1, 2, 1, 2, 3], [4] * 7, [0] * 7)
    with pytest.raises(ValueError, match="2 user"):
        D.leave_one_out(few, n_negatives=1)
    dup = D.Interactions.from_raw([1, 1, 1], [1, 1, 2], [4, 4, 4], [0, 1, 2])
    with pytest.raises(ValueError, match="repeated"):
        D.leave_one_out(dup, n_negatives=1)
    with pytest.raises(ValueError, match="n_negatives=99 is too large"):
        D.leave_one_out(syn)  # 30 items only
    with pytest.raises(ValueError, match="n_negatives"):
        D.leave_one_out(syn, n_negatives=0)
    with pytest.raises(TypeError, match="inter"):
        D.leave_one_out("ml-100k")


# --------------------------------------------------------------------------- training negatives


def test_training_negatives_are_never_training_positives(syn):
    split = D.leave_one_out(syn, n_negatives=5, seed=0)
    users, items, labels = D.sample_train_negatives(split, 6, seed=2)
    n = split.train_items.size
    assert users.shape == items.shape == labels.shape == (7 * n,)
    assert users.dtype == items.dtype == np.int64 and labels.dtype == np.float32
    np.testing.assert_array_equal(users[:n], split.train_users)
    np.testing.assert_array_equal(items[:n], split.train_items)
    assert (labels[:n] == 1).all() and (labels[n:] == 0).all()
    np.testing.assert_array_equal(users[n:], np.repeat(split.train_users, 6))
    positives = split.user_positive_sets()
    assert all(
        i not in positives[u] for u, i in zip(users[n:].tolist(), items[n:].tolist(), strict=True)
    )
    assert items.min() >= 0 and items.max() < split.n_items
    matrix = split.train_matrix()
    assert not matrix[users[n:], items[n:]].any()
    assert matrix.sum() == n


def test_training_negatives_are_seeded(syn):
    split = D.leave_one_out(syn, n_negatives=5, seed=0)
    a = D.sample_train_negatives(split, 4, seed=1)
    b = D.sample_train_negatives(split, 4, seed=1)
    c = D.sample_train_negatives(split, 4, seed=2)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    only_pos = D.sample_train_negatives(split, 0, seed=0)
    assert only_pos[2].size == split.train_items.size and (only_pos[2] == 1).all()
    with pytest.raises(TypeError):
        D.sample_train_negatives(split, 4)  # seed is required


def test_training_negatives_need_an_unseen_item():
    one = np.array([0])
    full = D.LeaveOneOut(
        train_users=np.array([0, 0, 0]),
        train_items=np.array([0, 1, 2]),
        n_users=1,
        n_items=3,
        val_items=one,
        test_items=one,
        val_candidates=one[:, None],
        test_candidates=one[:, None],
    )
    with pytest.raises(ValueError, match="every item"):
        D.sample_train_negatives(full, 1, seed=0)
    with pytest.raises(ValueError, match="n_negatives"):
        D.sample_train_negatives(full, -1, seed=0)


# --------------------------------------------------------------------------- synthetic


def test_synthetic_interactions_shape_and_structure():
    inter = D.synthetic_interactions(n_users=60, n_items=40, per_user=(5, 15), seed=0)
    assert (inter.n_users, inter.n_items) == (60, 40)
    counts = np.bincount(inter.users, minlength=60)
    assert counts.min() >= 5 and counts.max() <= 16  # +1 at most for covering every item
    assert (np.bincount(inter.items, minlength=40) > 0).all()
    keys = inter.users * inter.n_items + inter.items
    assert np.unique(keys).size == len(inter)  # no repeated pairs
    assert set(np.unique(inter.ratings).tolist()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    popularity = np.sort(np.bincount(inter.items))[::-1]
    assert popularity[:4].sum() > 3 * popularity[-10:].sum()  # popularity skew
    assert np.all(np.diff(inter.user_ids) > 0) and np.all(np.diff(inter.item_ids) > 0)
    assert np.any(np.diff(inter.user_ids) > 1)  # sparse, non-contiguous raw ids
    again = D.synthetic_interactions(n_users=60, n_items=40, per_user=(5, 15), seed=0)
    assert_same(inter, again)


@pytest.mark.parametrize("per_user", [(0, 3), (5, 4), (2, 41), (1,), "3-5"])
def test_synthetic_interactions_rejects_bad_per_user(per_user):
    with pytest.raises(ValueError, match="per_user"):
        D.synthetic_interactions(n_items=40, per_user=per_user)
