"""The two-sample tests, computed the way Evidently 0.7 computes them.

Every test takes the reference and current values of one column with missing
and infinite values already dropped, and returns a score. P-value tests
(``ks``, ``chisquare``, ``z``) flag drift when the score is *below* the
threshold; distances (``wasserstein``, ``jensenshannon``, ``psi``) when it is
*at or above* it. Matching Evidently's formulas (and its binning) is what makes
the decisions agree with a DataDriftPreset run on the same data.

Memory: each test holds one column of each side at a time. Counting tests work
on ``value_counts`` (one row per category); Kolmogorov-Smirnov and Wasserstein
sort the two samples (O(n) extra memory, exact results, no sampling): at
1,000,000 rows that is 16 MB per column, so columns are processed one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

NUMERICAL = "numerical"
CATEGORICAL = "categorical"

ScoreFunc = Callable[[pd.Series, pd.Series, str], float]


@dataclass(frozen=True)
class StatTest:
    """One registered test: how to compute it and how to read its score."""

    name: str
    display_name: str
    column_types: frozenset[str]
    default_threshold: float
    is_p_value: bool
    func: ScoreFunc

    def is_drift(self, score: float, threshold: float) -> bool:
        """P-values drift below the threshold, distances at or above it."""
        if np.isnan(score):
            return False
        return bool(score < threshold) if self.is_p_value else bool(score >= threshold)


def category_counts(reference: pd.Series, current: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Counts of every category seen on either side, aligned (zeros where absent)."""
    ref_counts = reference.value_counts(sort=False, dropna=True)
    cur_counts = current.value_counts(sort=False, dropna=True)
    keys = ref_counts.index.union(cur_counts.index, sort=False)
    ref = ref_counts.reindex(keys, fill_value=0).to_numpy(dtype=np.float64)
    cur = cur_counts.reindex(keys, fill_value=0).to_numpy(dtype=np.float64)
    return ref, cur


def _fill_zeroes(percents: np.ndarray) -> np.ndarray:
    """Evidently's epsilon for empty bins, so PSI's log stays finite."""
    nonzero = percents[percents != 0]
    smallest = float(nonzero.min())
    eps = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return np.where(percents == 0, eps, percents)


def binned_percents(
    reference: pd.Series, current: pd.Series, column_type: str, *, fill_zeroes: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Share of each side per bin, binned as Evidently's ``get_binned_data`` does.

    Numbers with more than 20 distinct reference values fall into Sturges bins
    over both sides; anything else is one bin per distinct value.
    """
    if column_type == NUMERICAL and reference.nunique() > 20:
        ref = reference.to_numpy(dtype=np.float64)
        cur = current.to_numpy(dtype=np.float64)
        # Sturges on the pooled sample: the range of both sides, log2(n) + 1 bins.
        n_bins = int(np.ceil(np.log2(ref.size + cur.size) + 1))
        low = min(float(ref.min()), float(cur.min()))
        high = max(float(ref.max()), float(cur.max()))
        edges = np.linspace(low, high, n_bins + 1)
        ref_pct = np.histogram(ref, edges)[0] / ref.size
        cur_pct = np.histogram(cur, edges)[0] / cur.size
    else:
        ref_counts, cur_counts = category_counts(reference, current)
        ref_pct = ref_counts / len(reference)
        cur_pct = cur_counts / len(current)
    if fill_zeroes:
        return _fill_zeroes(ref_pct), _fill_zeroes(cur_pct)
    return ref_pct, cur_pct


def ks_p_value(reference: pd.Series, current: pd.Series, column_type: str) -> float:
    """Two-sample Kolmogorov-Smirnov p-value (SciPy's ``ks_2samp``, as Evidently)."""
    ref = reference.to_numpy(dtype=np.float64)
    cur = current.to_numpy(dtype=np.float64)
    return float(stats.ks_2samp(ref, cur).pvalue)


def chisquare_p_value(reference: pd.Series, current: pd.Series, column_type: str) -> float:
    """Chi-squared p-value of current counts against reference shares scaled to current size.

    A category absent from the reference but present in the current data has an
    expected count of zero: the statistic is infinite and the p-value 0 (drift).
    """
    ref_counts, cur_counts = category_counts(reference, current)
    expected = ref_counts * (len(current) / len(reference))
    if np.any((expected == 0) & (cur_counts > 0)):
        return 0.0
    keep = expected > 0
    if keep.sum() < 2:
        return 1.0
    statistic = float(np.sum((cur_counts[keep] - expected[keep]) ** 2 / expected[keep]))
    return float(stats.chi2.sf(statistic, int(keep.sum()) - 1))


def z_p_value(reference: pd.Series, current: pd.Series, column_type: str) -> float:
    """Two-proportion Z-test p-value on the share of the first (sorted) category."""
    values = pd.unique(pd.concat([reference.drop_duplicates(), current.drop_duplicates()]))
    try:
        keys = sorted(values)
    except TypeError:  # mixed types (numbers and strings) have no natural order
        keys = sorted(values, key=str)
    if len(keys) <= 1:
        return 1.0
    n1, n2 = len(reference), len(current)
    p1 = float((reference != keys[0]).sum()) / n1
    p2 = float((current != keys[0]).sum()) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return float(2 * stats.norm.sf(abs(z)))


def wasserstein_normed(reference: pd.Series, current: pd.Series, column_type: str) -> float:
    """First Wasserstein distance divided by the reference's (population) std.

    The std is floored at 0.001, as in Evidently, so a constant reference
    gives a large finite score rather than a division by zero.
    """
    ref = np.sort(reference.to_numpy(dtype=np.float64))
    cur = np.sort(current.to_numpy(dtype=np.float64))
    norm = max(float(np.std(ref)), 0.001)
    # W1 = integral of |F_ref - F_cur| over the merged support (as SciPy computes it).
    # A stable sort of two sorted runs is a linear merge (timsort); the running
    # count of reference values gives both CDFs without a binary search. Within a
    # run of tied values only the last step has a nonzero width, and there the
    # counts are complete, so ties are exact too.
    merged = np.concatenate([ref, cur])
    order = np.argsort(merged, kind="stable")
    from_ref = order < ref.size
    ref_cdf = np.cumsum(from_ref)[:-1] / ref.size
    cur_cdf = np.cumsum(~from_ref)[:-1] / cur.size
    widths = np.diff(merged[order])
    return float(np.sum(np.abs(ref_cdf - cur_cdf) * widths)) / norm


def jensenshannon_distance(reference: pd.Series, current: pd.Series, column_type: str) -> float:
    """Jensen-Shannon distance (natural log) between the binned shares."""
    ref_pct, cur_pct = binned_percents(reference, current, column_type, fill_zeroes=False)
    return float(distance.jensenshannon(ref_pct, cur_pct))


def psi(reference: pd.Series, current: pd.Series, column_type: str) -> float:
    """Population Stability Index over the binned shares (empty bins get an epsilon)."""
    ref_pct, cur_pct = binned_percents(reference, current, column_type, fill_zeroes=True)
    return float(np.sum((ref_pct - cur_pct) * np.log(ref_pct / cur_pct)))


_BOTH = frozenset({NUMERICAL, CATEGORICAL})
_NUM = frozenset({NUMERICAL})

STATTESTS: dict[str, StatTest] = {
    t.name: t
    for t in (
        StatTest("ks", "K-S p_value", _NUM, 0.05, True, ks_p_value),
        StatTest("chisquare", "chi-square p_value", _BOTH, 0.05, True, chisquare_p_value),
        StatTest("z", "Z-test p_value", _BOTH, 0.05, True, z_p_value),
        StatTest(
            "wasserstein", "Wasserstein distance (normed)", _NUM, 0.1, False, wasserstein_normed
        ),
        StatTest(
            "jensenshannon", "Jensen-Shannon distance", _BOTH, 0.1, False, jensenshannon_distance
        ),
        StatTest("psi", "PSI", _BOTH, 0.1, False, psi),
    )
}
