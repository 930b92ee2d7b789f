"""Drift between a reference and a current window, Evidently-compatible.

::

    from loopml.monitoring import drift

    result = drift(reference_df, current_df, per_column={"age": {"method": "psi"}})
    result.dataset_drift, result.share, result["age"].score
    result.to_dict()                      # JSON-able

    drift_report(reference_df, current_df).save_html("drift.html")  # one offline file

The tests (``ks``, ``chisquare``, ``z``, ``wasserstein``, ``jensenshannon``,
``psi``) and the automatic choice per column follow Evidently 0.7's
DataDriftPreset, so decisions agree with it on the same data.
"""

from loopml.monitoring._drift import ColumnDrift, ColumnOptions, DriftResult, drift
from loopml.monitoring._report import Distribution, DriftReport, drift_report
from loopml.monitoring._stattests import STATTESTS, StatTest

__all__ = [
    "STATTESTS",
    "ColumnDrift",
    "ColumnOptions",
    "Distribution",
    "DriftReport",
    "DriftResult",
    "StatTest",
    "drift",
    "drift_report",
]
