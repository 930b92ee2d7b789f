"""Each test statistic against SciPy or a hand computation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

from loopml.monitoring import STATTESTS
from loopml.monitoring._stattests import CATEGORICAL, NUMERICAL, binned_percents

RNG = np.random.default_rng(7)


def _score(name: str, ref: object, cur: object, column_type: str = NUMERICAL) -> float:
    return STATTESTS[name].func(pd.Series(ref), pd.Series(cur), column_type)


def test_ks_matches_scipy() -> None:
    ref, cur = RNG.normal(size=400), RNG.normal(0.3, size=300)
    assert _score("ks", ref, cur) == pytest.approx(stats.ks_2samp(ref, cur).pvalue)


def test_chisquare_matches_scipy_on_counts_scaled_to_current() -> None:
    ref = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    cur = ["a"] * 20 + ["b"] * 20 + ["c"] * 10
    expected = stats.chisquare([20, 20, 10], [25, 15, 10]).pvalue
    assert _score("chisquare", ref, cur, CATEGORICAL) == pytest.approx(expected)


def test_chisquare_new_category_in_current_is_certain_drift() -> None:
    assert _score("chisquare", ["a", "b"] * 20, ["a", "b", "z"] * 10, CATEGORICAL) == 0.0


def test_z_test_hand_computed() -> None:
    ref = ["a"] * 60 + ["b"] * 40
    cur = ["a"] * 40 + ["b"] * 60
    # p1 = 0.4, p2 = 0.6, pooled 0.5: z = -0.2 / sqrt(0.25 * (1/100 + 1/100))
    z = -0.2 / math.sqrt(0.25 * 0.02)
    assert _score("z", ref, cur, CATEGORICAL) == pytest.approx(2 * stats.norm.sf(abs(z)))


def test_z_test_single_shared_value_is_no_drift() -> None:
    assert _score("z", [1] * 10, [1] * 5, CATEGORICAL) == 1.0


def test_z_test_mixed_types_do_not_crash() -> None:
    assert 0.0 <= _score("z", [1, "x"] * 10, [1] * 10 + ["x"] * 5, CATEGORICAL) <= 1.0


@pytest.mark.parametrize("ties", [False, True])
def test_wasserstein_is_scipy_distance_over_reference_std(ties: bool) -> None:
    ref, cur = RNG.normal(size=3000), RNG.normal(0.5, 2.0, size=2000)
    if ties:
        ref, cur = np.round(ref, 1), np.round(cur, 1)
    expected = stats.wasserstein_distance(ref, cur) / np.std(ref)
    assert _score("wasserstein", ref, cur) == pytest.approx(expected)


def test_wasserstein_constant_reference_floors_std_at_one_thousandth() -> None:
    ref, cur = np.zeros(2000), np.full(1500, 0.01)
    assert _score("wasserstein", ref, cur) == pytest.approx(0.01 / 0.001)


def test_wasserstein_on_a_million_rows_matches_scipy() -> None:
    ref, cur = RNG.normal(size=1_000_000), RNG.normal(0.05, size=1_000_000)
    expected = stats.wasserstein_distance(ref, cur) / np.std(ref)
    assert _score("wasserstein", ref, cur) == pytest.approx(expected, rel=1e-9)


def test_jensenshannon_on_categories() -> None:
    ref = ["a"] * 50 + ["b"] * 50
    cur = ["a"] * 90 + ["b"] * 10
    expected = distance.jensenshannon([0.5, 0.5], [0.9, 0.1])
    assert _score("jensenshannon", ref, cur, CATEGORICAL) == pytest.approx(expected)


def test_jensenshannon_on_numbers_uses_sturges_bins_over_both_sides() -> None:
    ref, cur = RNG.normal(size=2000), RNG.normal(1.0, size=1500)
    edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
    ref_pct = np.histogram(ref, edges)[0] / ref.size
    cur_pct = np.histogram(cur, edges)[0] / cur.size
    assert _score("jensenshannon", ref, cur) == pytest.approx(
        distance.jensenshannon(ref_pct, cur_pct)
    )


def test_few_unique_numbers_are_binned_per_value() -> None:
    ref_pct, cur_pct = binned_percents(
        pd.Series([1, 1, 2, 3]), pd.Series([3, 3]), NUMERICAL, fill_zeroes=False
    )
    assert sorted(ref_pct.tolist()) == [0.25, 0.25, 0.5]
    assert sorted(cur_pct.tolist()) == [0.0, 0.0, 1.0]


def test_psi_hand_computed_with_epsilon_for_empty_bins() -> None:
    ref = ["a"] * 50 + ["b"] * 50
    cur = ["a"] * 100
    # current shares [1, 0]: the empty bin gets 0.0001 (smallest nonzero share > 0.0001)
    expected = (0.5 - 1) * math.log(0.5 / 1) + (0.5 - 0.0001) * math.log(0.5 / 0.0001)
    assert _score("psi", ref, cur, CATEGORICAL) == pytest.approx(expected)


def test_psi_of_identical_samples_is_zero() -> None:
    values = RNG.normal(size=5000)
    assert _score("psi", values, values.copy()) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    ("name", "score", "threshold", "drifted"),
    [
        ("ks", 0.04, 0.05, True),
        ("ks", 0.05, 0.05, False),
        ("psi", 0.1, 0.1, True),
        ("wasserstein", 0.09, 0.1, False),
        ("jensenshannon", float("nan"), 0.1, False),
    ],
)
def test_drift_direction(name: str, score: float, threshold: float, drifted: bool) -> None:
    assert STATTESTS[name].is_drift(score, threshold) is drifted
