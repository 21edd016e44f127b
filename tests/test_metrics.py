"""Tests for prunerec.metrics: hand-computed cases first, then hypothesis properties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from prunerec import data as D
from prunerec import metrics as M


def row_with_rank(rank: int, n_candidates: int) -> list[float]:
    """Scores whose positive (column 0, score 0) has exactly ``rank`` negatives scored >= it:
    the first of them ties with it, the others beat it, the rest score below."""
    negatives = [0.0] + [1.0] * (rank - 1) if rank else []
    return [0.0] + negatives + [-1.0] * (n_candidates - 1 - rank)


# --------------------------------------------------------------------------- known answers


def test_positive_rank_counts_ties_against_the_positive():
    scores = [[0.5, 0.1, 0.5, 0.9], [2.0, 1.0, 0.0, -1.0], [1.0, 1.0, 1.0, 1.0]]
    assert M.positive_rank(scores).tolist() == [2, 0, 3]
    assert M.positive_rank([[np.inf, 1.0, 2.0], [-np.inf, -np.inf, 0.0]]).tolist() == [0, 2]
    assert M.positive_rank([[3.0]]).tolist() == [0]  # a lone positive is ranked first


def test_row_with_rank_helper():
    assert row_with_rank(0, 4) == [0.0, -1.0, -1.0, -1.0]
    assert row_with_rank(2, 4) == [0.0, 0.0, 1.0, -1.0]


def test_perfect_ranking():
    scores = np.tile(np.arange(100, 0, -1.0), (7, 1))  # the positive scores highest
    for k in (1, 10, 100):
        assert M.hit_rate_at_k(scores, k) == 1.0
        assert M.ndcg_at_k(scores, k) == 1.0


def test_constant_scores_score_zero():
    scores = np.full((5, 100), 0.25)
    assert M.positive_rank(scores).tolist() == [99] * 5
    assert M.hit_rate_at_k(scores, 10) == 0.0
    assert M.ndcg_at_k(scores, 10) == 0.0
    assert M.hit_rate_at_k(scores, 99) == 0.0
    assert M.hit_rate_at_k(scores, 100) == 1.0  # k >= n_candidates: everyone is a hit
    assert M.ndcg_at_k(scores, 100) == pytest.approx(1 / math.log2(101))


def test_hand_computed_ranks_0_2_12():
    scores = [row_with_rank(r, 20) for r in (0, 2, 12)]
    assert M.positive_rank(scores).tolist() == [0, 2, 12]
    # K = 10: ranks 0 and 2 are hits; gains 1/log2(2) = 1 and 1/log2(4) = 1/2
    assert M.hit_rate_at_k(scores, 10) == pytest.approx(2 / 3)
    assert M.ndcg_at_k(scores, 10) == pytest.approx((1 + 1 / 2) / 3)
    # K = 2: only rank 0; K = 13: all three, the third with gain 1/log2(14)
    assert M.hit_rate_at_k(scores, 2) == pytest.approx(1 / 3)
    assert M.ndcg_at_k(scores, 2) == pytest.approx(1 / 3)
    assert M.hit_rate_at_k(scores, 13) == 1.0
    assert M.ndcg_at_k(scores, 13) == pytest.approx((1 + 1 / 2 + 1 / math.log2(14)) / 3)
    assert M.ranking_metrics(scores, 10) == {
        "hr": pytest.approx(2 / 3),
        "ndcg": pytest.approx(0.5),
    }


def test_rmse_known():
    assert M.rmse([1.0, 2.0, 3.0], [1.0, 2.0, 5.0]) == pytest.approx(math.sqrt(4 / 3))
    assert M.rmse([[2.0]], [[2.0]]) == 0.0


@pytest.mark.parametrize(
    "scores, labels, expected",
    [
        ([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 0.75),  # pairs: 3 of 4 ordered right
        ([1.0, 2.0, 3.0], [0, 1, 1], 1.0),
        ([3.0, 2.0, 1.0], [0, 1, 1], 0.0),
        ([5.0, 5.0, 5.0, 5.0], [1, 0, 1, 0], 0.5),
        ([1.0, 2.0, 1.0, 0.0], [1, 1, 0, 0], 0.875),  # one tied pair counts 1/2: 3.5 / 4
        ([0.2, 0.9], [True, False], 0.0),
    ],
)
def test_auc_known(scores, labels, expected):
    assert M.auc(scores, labels) == pytest.approx(expected)


def test_itempop_tiny_example():
    popularity = M.item_popularity([0, 0, 1, 2, 2, 2], 4)
    assert popularity.tolist() == [2, 1, 3, 0]
    candidates = np.array([[1, 0, 2, 3], [3, 0, 1, 2]])
    scores = M.itempop_scores(candidates, popularity)
    assert scores.tolist() == [[1.0, 2.0, 3.0, 0.0], [0.0, 2.0, 1.0, 3.0]]
    # row 0: items 0 and 2 are more popular than the positive -> rank 2;
    # row 1: the positive (item 3) was never seen in training -> rank 3
    assert M.positive_rank(scores).tolist() == [2, 3]
    assert M.ranking_metrics(scores, 3) == {"hr": 0.5, "ndcg": pytest.approx(0.25)}


def test_itempop_beats_chance_on_synthetic_data():
    inter = D.synthetic_interactions(n_users=200, n_items=60, per_user=(5, 15), seed=0)
    split = D.leave_one_out(inter, n_negatives=20, seed=0)
    popularity = M.item_popularity(split.train_items, split.n_items)
    hr = M.hit_rate_at_k(M.itempop_scores(split.test_candidates, popularity), 5)
    assert hr > 2 * 5 / 21  # random scores would hit 5 / 21 of the time on average


# --------------------------------------------------------------------------- evaluate_ranking


def test_evaluate_ranking_matches_direct_scores():
    rng = np.random.default_rng(0)
    table = rng.normal(size=(6, 9))  # score of (user, item)
    candidates = rng.integers(0, 9, size=(5, 4))
    users = np.array([5, 0, 2, 2, 4])
    seen_shapes = []

    def score_fn(u, i):
        assert u.dtype == np.int64 and i.dtype == np.int64 and u.shape == i.shape
        seen_shapes.append(u.shape)
        return table[u, i]

    expected = M.ranking_metrics(table[users[:, None], candidates], k=2)
    assert M.evaluate_ranking(score_fn, candidates, users, k=2, batch_size=2) == expected
    assert seen_shapes == [(2, 4), (2, 4), (1, 4)]
    # default users: row r is user r
    direct = M.ranking_metrics(table[np.arange(5)[:, None], candidates], k=3)
    assert M.evaluate_ranking(score_fn, candidates, k=3) == direct


class FakeTensor:
    """Stands in for a torch tensor that requires grad: np.asarray works only after detach."""

    def __init__(self, values, detached=False):
        self.values, self.detached = np.asarray(values), detached

    def detach(self):
        return FakeTensor(self.values, detached=True)

    def cpu(self):
        return self

    def __array__(self, dtype=None, copy=None):
        if not self.detached:
            raise RuntimeError("call detach() first")
        return self.values if dtype is None else self.values.astype(dtype)


def test_evaluate_ranking_accepts_tensor_like_outputs():
    candidates = np.array([[0, 1, 2], [2, 0, 1]])
    pop = np.array([3.0, 1.0, 2.0])
    result = M.evaluate_ranking(lambda u, i: FakeTensor(pop[i]), candidates, k=1)
    assert result == {"hr": 0.5, "ndcg": 0.5}
    as_column = M.evaluate_ranking(lambda u, i: pop[i][..., None], candidates, k=1)
    assert as_column == result


def test_evaluate_ranking_with_torch():
    torch = pytest.importorskip("torch")
    emb = torch.nn.Embedding(4, 1)
    with torch.no_grad():
        emb.weight.copy_(torch.tensor([[3.0], [1.0], [2.0], [0.0]]))

    def score_fn(u, i):  # returns a tensor that requires grad
        return emb(torch.as_tensor(i)).squeeze(-1)

    assert M.evaluate_ranking(score_fn, [[0, 1, 2], [3, 0, 1]], k=2) == {"hr": 0.5, "ndcg": 0.5}


def test_evaluate_ranking_rejects_bad_input():
    cand = np.array([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="score_fn output has shape"):
        M.evaluate_ranking(lambda u, i: np.zeros(u.size), cand)
    with pytest.raises(ValueError, match="score_fn output contains 2 NaN"):
        M.evaluate_ranking(lambda u, i: np.where(i == 1, np.nan, 0.0), cand)
    with pytest.raises(ValueError, match="users must have shape"):
        M.evaluate_ranking(lambda u, i: i * 1.0, cand, users=[0, 1, 2])
    with pytest.raises(ValueError, match="batch_size"):
        M.evaluate_ranking(lambda u, i: i * 1.0, cand, batch_size=0)
    with pytest.raises(ValueError, match="candidates"):
        M.evaluate_ranking(lambda u, i: i * 1.0, [0, 1])
    with pytest.raises(TypeError, match="candidates"):
        M.evaluate_ranking(lambda u, i: i * 1.0, [[0.0, 1.0]])
    with pytest.raises(TypeError, match="score_fn"):
        M.evaluate_ranking("model", cand)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "scores, exc, words",
    [
        ([[0.1, np.nan, 0.3]], ValueError, "scores contains 1 NaN"),
        ([0.1, 0.2, 0.3], ValueError, "2-D"),
        ([[[0.1, 0.2]]], ValueError, "2-D"),
        (np.zeros((0, 3)), ValueError, "empty"),
        ([[True, False]], TypeError, "numeric"),
        ([["a", "b"]], TypeError, "numeric"),
        ([[1j, 2j]], TypeError, "real"),
    ],
)
def test_scores_are_validated(scores, exc, words):
    for fn in (M.positive_rank, M.hit_rate_at_k, M.ndcg_at_k, M.ranking_metrics):
        with pytest.raises(exc, match="scores") as info:
            fn(scores)
        assert words in str(info.value)


@pytest.mark.parametrize(
    "k, exc", [(0, ValueError), (-3, ValueError), (2.0, TypeError), (True, TypeError)]
)
def test_k_is_validated(k, exc):
    for fn in (M.hit_rate_at_k, M.ndcg_at_k, M.ranking_metrics):
        with pytest.raises(exc, match="k must"):
            fn([[1.0, 0.0]], k)


def test_rmse_auc_and_popularity_validate():
    with pytest.raises(ValueError, match="pred has shape"):
        M.rmse([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="pred contains 1 NaN"):
        M.rmse([np.nan], [1.0])
    with pytest.raises(ValueError, match="finite"):
        M.rmse([np.inf], [1.0])
    with pytest.raises(ValueError, match="only one class"):
        M.auc([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError, match="only 0 and 1"):
        M.auc([0.1, 0.2], [0, 2])
    with pytest.raises(ValueError, match="labels has shape"):
        M.auc([0.1, 0.2], [0, 1, 1])
    with pytest.raises(ValueError, match="scores contains 1 NaN"):
        M.auc([np.nan, 0.2], [0, 1])
    with pytest.raises(ValueError, match="scores must be 1-D"):
        M.auc([[0.1, 0.2]], [[0, 1]])
    with pytest.raises(ValueError, match="train_items must lie in"):
        M.item_popularity([0, 4], 4)
    with pytest.raises(TypeError, match="train_items"):
        M.item_popularity([0.0, 1.0], 4)
    with pytest.raises(ValueError, match="n_items"):
        M.item_popularity([0], 0)
    with pytest.raises(ValueError, match="candidates must lie in"):
        M.itempop_scores([[0, 3]], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="popularity must be 1-D"):
        M.itempop_scores([[0, 1]], [[1.0, 2.0]])


# --------------------------------------------------------------------------- properties

# Integer-valued float scores with many ties; shifts and scalings that are exact in float64,
# so that they cannot create or break ties by rounding.
score_arrays = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 8), st.integers(2, 12)),
    elements=st.integers(-5, 5).map(float),
)


@settings(max_examples=80, deadline=None)
@given(
    scores=score_arrays,
    shift=st.integers(-1000, 1000),
    scale=st.sampled_from([1.0, 2.0, 3.0, 0.5, 0.25, 7.0, 1024.0]),
    k=st.integers(1, 12),
)
def test_hr_ndcg_invariant_to_shift_and_positive_scaling(scores, shift, scale, k):
    base = M.ranking_metrics(scores, k)
    assert M.ranking_metrics(scores + shift, k) == base
    assert M.ranking_metrics(scores * scale, k) == base
    assert M.ranking_metrics(scale * scores + shift, k) == base


@settings(max_examples=80, deadline=None)
@given(scores=score_arrays, k=st.integers(1, 12))
def test_rank_matches_a_plain_loop_and_metrics_are_ordered(scores, k):
    rank = M.positive_rank(scores)
    for u, row in enumerate(scores.tolist()):
        assert rank[u] == sum(1 for s in row[1:] if s >= row[0])
    hr, ndcg = M.hit_rate_at_k(scores, k), M.ndcg_at_k(scores, k)
    assert 0.0 <= ndcg <= hr <= 1.0
    assert M.hit_rate_at_k(scores, k + 1) >= hr


@settings(max_examples=80, deadline=None)
@given(
    scores=hnp.arrays(np.float64, st.integers(2, 30), elements=st.integers(-4, 4).map(float)),
    data=st.data(),
)
def test_auc_equals_the_pairwise_definition(scores, data):
    labels = data.draw(hnp.arrays(np.int64, scores.shape, elements=st.integers(0, 1)))
    if labels.min() == labels.max():
        with pytest.raises(ValueError, match="one class"):
            M.auc(scores, labels)
        return
    pos, neg = scores[labels == 1], scores[labels == 0]
    wins = sum((p > q) + 0.5 * (p == q) for p in pos for q in neg)
    assert M.auc(scores, labels) == pytest.approx(wins / (pos.size * neg.size))
