"""The functions behind the explorers, and the widgets built without a browser."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from prunerec import widgets as Wd  # noqa: E402


def test_threshold_view_by_theta_and_by_amount():
    w = np.array([[0.1, -2.0], [0.5, 3.0], [-0.5, 0.0]])
    by_theta = Wd.threshold_view(w, theta=0.5)
    assert by_theta.pruned == 4 and by_theta.size == 6  # 0.1, 0.5, -0.5, 0.0
    assert by_theta.mask.tolist() == [[False, True], [False, True], [False, False]]
    by_amount = Wd.threshold_view(w, amount=0.5)
    assert by_amount.pruned == 3 and by_amount.theta == 0.5  # ties: exact count, θ = 0.5
    assert "sparsity 50.0%" in by_amount.caption()
    with pytest.raises(ValueError, match="exactly one"):
        Wd.threshold_view(w)
    with pytest.raises(ValueError, match="exactly one"):
        Wd.threshold_view(w, theta=0.1, amount=0.5)


def test_schedule_curves_shapes_and_endpoints():
    c = Wd.schedule_curves(0.9, begin=10, end=50, steps=60, rounds=4)
    assert set(c) == {"one-shot", "iterative", "linear", "cubic"}
    for name, pts in c.items():
        s = [v for _, v in pts]
        assert len(pts) == 61 and s[0] == 0.0, name
        assert s[-1] == pytest.approx(0.9), name
        assert all(b >= a - 1e-12 for a, b in zip(s, s[1:], strict=False)), name
    one = dict(c["one-shot"])
    assert one[49] == 0.0 and one[50] == pytest.approx(0.9)
    it = dict(c["iterative"])
    assert it[19] == 0.0 and it[20] == pytest.approx(1 - 0.1 ** (1 / 4))  # first round at 20
    assert dict(c["linear"])[30] == pytest.approx(0.45)
    assert dict(c["cubic"])[30] == pytest.approx(0.9 * (1 - 0.5**3))
    with pytest.raises(ValueError, match="rounds"):
        Wd.schedule_curves(0.9, begin=0, end=10, steps=10, rounds=3)
    with pytest.raises(ValueError, match="begin"):
        Wd.schedule_curves(0.9, begin=10, end=5, steps=10)


def test_tradeoff_point_is_nearest_measured():
    res = {
        "magnitude": [{"sparsity": s, "hr": 0.7 - s / 10} for s in (0.0, 0.5, 0.75, 0.9)],
        "random": [{"sparsity": 0.5, "hr": 0.4}],
    }
    assert Wd.tradeoff_point(res, "magnitude", 0.8) == {"sparsity": 0.75, "hr": 0.625}
    assert Wd.tradeoff_point(res, "random", 0.99)["sparsity"] == 0.5
    with pytest.raises(ValueError, match="choose from"):
        Wd.tradeoff_point(res, "structured", 0.5)


def test_widgets_build_and_react(monkeypatch):
    import ipywidgets as W

    drawn = []
    monkeypatch.setattr("IPython.display.display", lambda obj: drawn.append(obj))
    w = np.random.default_rng(0).normal(size=(30, 40))
    box = Wd.threshold_explorer(w)
    assert isinstance(box, W.VBox)
    sliders = [c for c in box.children[1].children if isinstance(c, W.FloatSlider)]
    n = len(drawn)
    sliders[0].value = 0.8  # moving the slider redraws
    assert len(drawn) == n + 1
    assert isinstance(Wd.schedule_explorer(), W.VBox)
    res = {"magnitude": [{"sparsity": 0.0, "hr": 0.7}, {"sparsity": 0.9, "hr": 0.6}]}
    assert isinstance(Wd.tradeoff_explorer(res), W.VBox)
