"""What changed in the training data since the baseline was trained.

The baseline's training data is found through lineage (the dataset version
its run recorded with ``lm.log_input``); the candidate's is the file given, or
found the same way from its run. The summary is the one ``loopml data diff``
gives for tables (columns added, removed, retyped; rows before and after)
plus the drift of every shared column.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from loopml.core.errors import LoopmlError
from loopml.datasets import Datasets
from loopml.monitoring import drift
from loopml.store import DatasetVersion
from loopml.tracking import Client
from loopml.validation import load_frame

TRAINING = "training"


def _training_version(datasets: Datasets, model_uri: str) -> DatasetVersion | None:
    versions = datasets.lineage(model_uri, context=TRAINING) or datasets.lineage(model_uri)
    tabular = [v for v in versions if v.schema is not None]
    return tabular[0] if tabular else None


def _types(frame: pd.DataFrame) -> dict[str, str]:
    schema = pa.Schema.from_pandas(frame, preserve_index=False)
    return {name: str(schema.field(name).type) for name in schema.names}


def schema_change(old: pd.DataFrame, new: pd.DataFrame) -> dict[str, Any]:
    """Columns added, removed and retyped, and the row counts, from ``old`` to ``new``."""
    before, after = _types(old), _types(new)
    return {
        "columns_added": [c for c in after if c not in before],
        "columns_removed": [c for c in before if c not in after],
        "types_changed": [
            {"column": c, "old": before[c], "new": after[c]}
            for c in after
            if c in before and before[c] != after[c]
        ],
        "rows_before": len(old),
        "rows_after": len(new),
    }


def data_changes(
    client: Client,
    baseline: str | None,
    candidate: str | None,
    train_data: str | None,
) -> dict[str, Any]:
    """The data section of a CI report; ``notice`` says why a part is missing."""
    if baseline is None:
        return {"notice": "no baseline: nothing to compare the training data with"}
    datasets = Datasets(client)
    try:
        old_version = _training_version(datasets, baseline)
    except LoopmlError as exc:
        return {"notice": f"the baseline's training data is unknown: {exc.message}"}
    if old_version is None:
        return {
            "notice": f"{baseline} recorded no tabular training data "
            "(log it with lm.log_input(..., context='training') when training)"
        }
    try:
        if train_data is not None:
            new_frame, new_label = load_frame(train_data), train_data
        else:
            new_version = _training_version(datasets, candidate) if candidate else None
            if new_version is None:
                return {
                    "notice": "the candidate's training data is unknown: pass --train-data "
                    "or log it with lm.log_input when training"
                }
            new_frame = datasets.read_frame(new_version)
            new_label = f"{new_version.name}@{new_version.version}"
        old_frame = datasets.read_frame(old_version)
    except LoopmlError as exc:
        return {"notice": f"the training data could not be read: {exc.message}"}
    shared = [c for c in old_frame.columns if c in new_frame.columns]
    result = drift(old_frame[shared], new_frame[shared]) if shared else None
    return {
        "baseline_data": f"{old_version.name}@{old_version.version}",
        "candidate_data": new_label,
        "schema": schema_change(old_frame, new_frame),
        "drift": None if result is None else result.to_dict(),
    }
