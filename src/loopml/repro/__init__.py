"""Reproducibility: compare two runs, and rebuild and re-run a recorded one.

::

    from loopml.repro import diff_runs, reproduce

    diff_runs(client, run_a, run_b)          # params, metrics, code, environment, inputs
    reproduce(client, run_id, into="repro")  # checkout + diff + data + lock, then re-run

What a run records to make this possible (git state, diff, entry point,
environment lock) is captured when it starts (``loopml.provenance``, wired
into ``lm.start_run``); configuration comes from ``loopml.configuration``.
"""

from loopml.repro._artifacts import read_artifact
from loopml.repro._diff import Change, MetricChange, RunDiff, diff_runs
from loopml.repro._reproduce import Reproduction, recorded_command, reproduce, rerun_prepared

__all__ = [
    "Change",
    "MetricChange",
    "Reproduction",
    "RunDiff",
    "diff_runs",
    "read_artifact",
    "recorded_command",
    "reproduce",
    "rerun_prepared",
]
