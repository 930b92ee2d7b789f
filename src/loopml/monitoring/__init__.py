"""Drift between a reference and a current window, Evidently-compatible.

::

    from loopml.monitoring import drift

    result = drift(reference_df, current_df, per_column={"age": {"method": "psi"}})
    result.dataset_drift, result.share, result["age"].score
    result.to_dict()                      # JSON-able

    drift_report(reference_df, current_df).save_html("drift.html")  # one offline file

Monitors (``Monitors``, or ``open_monitors(client)`` for either an embedded
store or a server) evaluate a deployment's prediction log window by window
against the model's training data, store the results as time series and
fire alert rules (``loopml.alerts``) on them.

The tests (``ks``, ``chisquare``, ``z``, ``wasserstein``, ``jensenshannon``,
``psi``) and the automatic choice per column follow Evidently 0.7's
DataDriftPreset, so decisions agree with it on the same data.
"""

from loopml.monitoring._drift import ColumnDrift, ColumnOptions, DriftResult, drift
from loopml.monitoring._monitors import MonitorRun, Monitors, redacted_rule
from loopml.monitoring._remote import RemoteMonitors, open_monitors
from loopml.monitoring._report import Distribution, DriftReport, drift_report
from loopml.monitoring._spec import MonitorSpec
from loopml.monitoring._stattests import STATTESTS, StatTest
from loopml.monitoring._timeline import MonitorReport, monitor_report
from loopml.monitoring._window_eval import WindowResult, evaluate_window
from loopml.monitoring._windows import format_duration, parse_duration, window_bounds

__all__ = [
    "STATTESTS",
    "ColumnDrift",
    "ColumnOptions",
    "Distribution",
    "DriftReport",
    "DriftResult",
    "MonitorReport",
    "MonitorRun",
    "MonitorSpec",
    "Monitors",
    "RemoteMonitors",
    "StatTest",
    "WindowResult",
    "drift",
    "drift_report",
    "evaluate_window",
    "format_duration",
    "monitor_report",
    "open_monitors",
    "parse_duration",
    "redacted_rule",
    "window_bounds",
]
