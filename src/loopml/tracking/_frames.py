"""Runs as a pandas DataFrame, with MLflow's column names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

from loopml.store import Run

_INFO_COLUMNS = ["run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"]


def runs_to_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per run: info columns, then ``metrics.*``, ``params.*``, ``tags.*``."""
    import pandas as pd  # heavy: loaded only when a DataFrame is asked for

    rows = []
    for run in runs:
        info = run.info
        row: dict[str, object] = {
            "run_id": info.run_id,
            "experiment_id": info.experiment_id,
            "status": info.status,
            "artifact_uri": info.artifact_uri,
            "start_time": info.start_time,
            "end_time": info.end_time,
        }
        row.update({f"metrics.{k}": v for k, v in run.data.metrics.items()})
        row.update({f"params.{k}": v for k, v in run.data.params.items()})
        row.update({f"tags.{k}": v for k, v in run.data.tags.items()})
        rows.append(row)
    frame = pd.DataFrame(rows, columns=None if rows else _INFO_COLUMNS)
    for column in ("start_time", "end_time"):
        frame[column] = pd.to_datetime(frame[column], unit="ms", utc=True)
    ordered = _INFO_COLUMNS + sorted(c for c in frame.columns if c not in _INFO_COLUMNS)
    return frame[ordered]
