"""Do the sides agree? Rows returned, order kept, values equal to the DuckDB floor's.

The floor's training set is the reference: a plain ASOF join has no room for
a silent drop. Another side's result is compared with it

- by position, when it has every row: the same keys, timestamps and labels
  in the same order means the entity frame's order was kept;
- by content, after sorting both on (key, timestamp, label): a row whose
  features differ from the floor's (null equals null) is a mismatch. When a
  side lost rows, its rows are matched to the floor's on those columns and
  the lost ones are counted apart.

Online answers are compared with the latest feature row of each key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class TrainingCheck:
    """One side's training set against the floor's."""

    rows: int
    expected_rows: int
    in_order: bool
    mismatched_rows: int  # rows present on both sides whose features differ
    lost_rows: int

    def describe(self, side: str) -> str:
        order = (
            "in the entity frame's order" if self.in_order else "NOT in the entity frame's order"
        )
        lost = f", {self.lost_rows:,} LOST" if self.lost_rows else ""
        return (
            f"{side}: {self.rows:,} of {self.expected_rows:,} entity rows returned{lost}, {order}; "
            f"{self.mismatched_rows:,} rows with values different from the DuckDB floor's"
        )


def _frame(path: Path, spec: dict[str, Any]) -> pd.DataFrame:
    """The columns compared, normalised: timestamps as UTC microseconds, features as float64."""
    key, ts = spec["join_key"], spec["timestamp_field"]
    features = [f["name"] for f in spec["features"]]
    raw = pd.read_parquet(path)
    missing = [c for c in [key, ts, "label", *features] if c not in raw.columns]
    if missing:
        raise ValueError(f"{path} has no column {missing[0]!r} (columns: {list(raw.columns)})")
    frame = pd.DataFrame(
        {
            key: raw[key].astype("int64"),
            ts: pd.to_datetime(raw[ts], utc=True).dt.as_unit("us").astype("int64"),
            "label": raw["label"].astype("float64"),
        }
    )
    for name in features:
        frame[name] = pd.to_numeric(raw[name], errors="coerce").astype("float64")
    return frame.reset_index(drop=True)


def check_training(floor_path: Path, other_path: Path, spec: dict[str, Any]) -> TrainingCheck:
    """Compare a side's training set with the floor's."""
    floor, other = _frame(floor_path, spec), _frame(other_path, spec)
    ids = [spec["join_key"], spec["timestamp_field"], "label"]
    features = [f["name"] for f in spec["features"]]
    in_order = len(floor) == len(other) and bool((floor[ids].values == other[ids].values).all())
    if len(floor) == len(other):
        a = floor.sort_values(ids, kind="stable").reset_index(drop=True)
        b = other.sort_values(ids, kind="stable").reset_index(drop=True)
        if (a[ids].values == b[ids].values).all():
            return TrainingCheck(len(other), len(floor), in_order, _differing(a, b, features), 0)
    # Rows lost or changed: match on the identifying columns (copies are identical rows).
    merged = floor.drop_duplicates(ids).merge(
        other.drop_duplicates(ids), on=ids, how="left", suffixes=("", "_o"), indicator=True
    )
    found = merged[merged["_merge"] == "both"]
    b = found[[f"{n}_o" for n in features]].set_axis(features, axis=1)
    return TrainingCheck(
        rows=len(other),
        expected_rows=len(floor),
        in_order=in_order,
        mismatched_rows=_differing(
            found[features].reset_index(drop=True), b.reset_index(drop=True), features
        ),
        lost_rows=len(floor) - len(other),
    )


def _differing(a: pd.DataFrame, b: pd.DataFrame, features: list[str]) -> int:
    x, y = a[features].to_numpy(), b[features].to_numpy()
    same = (x == y) | (np.isnan(x) & np.isnan(y))
    return int((~same.all(axis=1)).sum())


def latest_values(spec: dict[str, Any]) -> dict[str, list[float]]:
    """The latest feature row (by event, then created timestamp) of each looked-up key."""
    key, ts, created = spec["join_key"], spec["timestamp_field"], spec["created_field"]
    features = [f["name"] for f in spec["features"]]
    frame = pd.read_parquet(spec["features_path"])
    frame = frame[frame[key].isin(spec["lookup_keys"])]
    latest = frame.sort_values([key, ts, created]).groupby(key).tail(1)
    return {str(int(row[key])): [float(row[n]) for n in features] for _, row in latest.iterrows()}


def check_online(values: dict[str, list[Any]], expected: dict[str, list[float]]) -> int:
    """How many looked-up keys came back missing or with values other than the latest row's."""
    wrong = 0
    for key, want in expected.items():
        got = values.get(key)
        if got is None or len(got) != len(want) or not all(map(_same, got, want)):
            wrong += 1
    return wrong


def _same(got: Any, want: float) -> bool:
    if got is None:
        return False
    value = float(got)
    return value == want or (math.isnan(value) and math.isnan(want))
