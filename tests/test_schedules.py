"""Tests for prunerec.schedules: values computed by hand, then properties."""

from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prunerec import schedules as S

# --------------------------------------------------------------------------- known answers


def test_constant_and_one_shot():
    assert [S.constant(t, final=0.3) for t in (0, 5, 10**6)] == [0.3, 0.3, 0.3]
    assert [S.one_shot(t, final=0.9, at=3) for t in range(6)] == [0, 0, 0, 0.9, 0.9, 0.9]
    assert S.one_shot(0, final=0.5, at=0) == 0.5  # pruning at step 0 = from the start


def test_linear_by_hand():
    f = partial(S.linear, initial=0.2, final=0.6, begin=10, end=20)
    assert f(0) == 0.2 and f(10) == 0.2
    assert f(15) == pytest.approx(0.4)  # halfway
    assert f(12) == pytest.approx(0.2 + 0.4 * 2 / 10)
    assert f(20) == 0.6 and f(1000) == 0.6
    # begin == end: a one-shot step
    assert [S.linear(t, final=0.5, begin=3, end=3) for t in (2, 3, 4)] == [0.0, 0.5, 0.5]


def test_cubic_by_hand():
    f = partial(S.cubic, initial=0.1, final=0.9, begin=10, end=30)
    assert f(0) == 0.1 and f(10) == 0.1  # s_i up to t0, exactly
    assert f(30) == 0.9 and f(31) == 0.9 and f(500) == 0.9  # s_f from t0 + nΔt, exactly
    # midpoint: (1 - 1/2)^3 = 1/8
    assert f(20) == pytest.approx(0.9 + (0.1 - 0.9) / 8)
    # a quarter of the way: (1 - 1/4)^3 = 27/64
    assert f(15) == pytest.approx(0.9 - 0.8 * 27 / 64)
    # three quarters: (1/4)^3 = 1/64
    assert f(25) == pytest.approx(0.9 - 0.8 / 64)


def test_cubic_is_front_loaded():
    # half of the time gives 7/8 of the pruning: the schedule is concave
    f = partial(S.cubic, final=0.8, begin=0, end=100)
    assert f(50) == pytest.approx(0.7)
    assert f(50) > S.linear(50, final=0.8, begin=0, end=100)


def test_cubic_frequency_is_flat_between_updates():
    f = partial(S.cubic, initial=0.1, final=0.9, begin=10, end=30, frequency=5)
    # updates at 10, 15, 20, 25, 30; flat in between
    assert [f(t) for t in range(10, 15)] == [0.1] * 5
    v15 = 0.9 - 0.8 * 27 / 64
    assert all(f(t) == pytest.approx(v15) for t in range(15, 20))
    assert all(f(t) == pytest.approx(0.9 - 0.8 / 8) for t in range(20, 25))
    assert all(f(t) == pytest.approx(0.9 - 0.8 / 64) for t in range(25, 30))
    assert f(30) == 0.9
    # the update values are those of the frequency-1 schedule
    g = partial(S.cubic, initial=0.1, final=0.9, begin=10, end=30)
    assert all(f(t) == g(t) for t in (10, 15, 20, 25, 30))


def test_iterative_by_hand():
    f = partial(S.iterative, per_round=0.2, rounds=3)
    assert f(0) == 0.0
    assert f(1) == pytest.approx(0.2)
    assert f(2) == pytest.approx(1 - 0.8 * 0.8)  # 0.36: 20 % of the remaining 80 %
    assert f(3) == pytest.approx(1 - 0.8**3)  # 0.488
    assert f(4) == f(3) and f(100) == f(3)  # holds after the last round


def test_per_round_for_by_hand():
    assert S.per_round_for(0.75, 2) == pytest.approx(0.5)
    assert S.per_round_for(0.9, 1) == pytest.approx(0.9)
    assert S.per_round_for(0.0, 5) == 0.0


def test_schedule_table():
    f = partial(S.one_shot, final=0.5, at=2)
    assert S.schedule_table(f, 3) == [(0, 0.0), (1, 0.0), (2, 0.5), (3, 0.5)]
    assert S.schedule_table(f, [5, 1]) == [(5, 0.5), (1, 0.0)]
    rows = S.schedule_table(partial(S.cubic, final=0.9, begin=0, end=10), 10)
    assert rows[0] == (0, 0.0) and rows[-1] == (10, 0.9) and len(rows) == 11
    assert all(isinstance(t, int) and isinstance(s, float) for t, s in rows)


# --------------------------------------------------------------------------- properties

ramp = st.tuples(
    st.floats(0, 0.99), st.floats(0, 0.99), st.integers(0, 50), st.integers(0, 50)
).map(lambda x: (min(x[0], x[1]), max(x[0], x[1]), min(x[2], x[3]), max(x[2], x[3])))


@settings(max_examples=60, deadline=None)
@given(ramp, st.integers(1, 5))
def test_cubic_and_linear_monotone_with_exact_endpoints(r, freq):
    s_i, s_f, t0, t1 = r
    t1 = t0 + (t1 - t0) // freq * freq  # make frequency divide the span
    for fn in (
        partial(S.cubic, initial=s_i, final=s_f, begin=t0, end=t1, frequency=freq),
        partial(S.linear, initial=s_i, final=s_f, begin=t0, end=t1),
    ):
        values = [fn(t) for t in range(t1 + 5)]
        assert all(a <= b + 1e-15 for a, b in zip(values, values[1:], strict=False))
        assert all(s_i - 1e-15 <= v <= s_f + 1e-15 for v in values)
        assert fn(t1) == s_f
        if t0 < t1:
            assert fn(t0) == s_i


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 0.99), st.integers(1, 20))
def test_per_round_for_inverts_iterative(final, rounds):
    p = S.per_round_for(final, rounds)
    assert 0 <= p < 1
    assert S.iterative(rounds, per_round=p, rounds=rounds) == pytest.approx(final, abs=1e-12)
    values = [S.iterative(r, per_round=p, rounds=rounds) for r in range(rounds + 2)]
    assert all(a <= b for a, b in zip(values, values[1:], strict=False))


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "call, exc, arg",
    [
        (lambda: S.constant(0, final=1.0), ValueError, "final"),
        (lambda: S.constant(0, final=-0.1), ValueError, "final"),
        (lambda: S.constant(0, final=float("nan")), ValueError, "final"),
        (lambda: S.constant(0, final=True), TypeError, "final"),
        (lambda: S.constant(-1, final=0.5), ValueError, "t"),
        (lambda: S.constant(1.5, final=0.5), TypeError, "t"),
        (lambda: S.one_shot(0, final=0.5, at=-2), ValueError, "at"),
        (lambda: S.linear(0, final=0.5, begin=5, end=4), ValueError, "begin"),
        (lambda: S.linear(0, initial=0.6, final=0.5, begin=0, end=4), ValueError, "initial"),
        (lambda: S.cubic(0, final=0.5, begin=0, end=10, frequency=0), ValueError, "frequency"),
        (lambda: S.cubic(0, final=0.5, begin=0, end=10, frequency=3), ValueError, "frequency"),
        (lambda: S.cubic(0, final=0.5, begin=0, end=10, frequency=2.0), TypeError, "frequency"),
        (lambda: S.cubic(0, final=0.5, begin=-1, end=10), ValueError, "begin"),
        (lambda: S.iterative(0, per_round=1.0, rounds=3), ValueError, "per_round"),
        (lambda: S.iterative(-1, per_round=0.2, rounds=3), ValueError, "round"),
        (lambda: S.iterative(0, per_round=0.2, rounds=-3), ValueError, "rounds"),
        (lambda: S.per_round_for(0.5, 0), ValueError, "rounds"),
        (lambda: S.per_round_for(1.0, 3), ValueError, "final"),
        (lambda: S.schedule_table(0.5, 3), TypeError, "fn"),
        (lambda: S.schedule_table(partial(S.constant, final=0.1), -1), ValueError, "steps"),
        (lambda: S.schedule_table(partial(S.constant, final=0.1), "abc"), TypeError, "steps"),
    ],
)
def test_errors_name_the_argument(call, exc, arg):
    with pytest.raises(exc) as info:
        call()
    assert str(info.value).startswith(arg)
