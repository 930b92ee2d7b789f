"""The generated data of the feature store benchmark, and the spec every side reads.

Seeded, written once as Parquet and read by all three sides (Feast, the
DuckDB floor, loopml):

- ``features.parquet``: ``entities x timestamps`` feature rows of one feature
  view (``driver_stats``, join key ``driver_id``): an event timestamp (one
  per entity and day, at a random time of that day, so no two rows of one key
  tie), a created timestamp a minute later, and five features (four float64,
  one int64). The rows are shuffled, as a real log is not sorted.
- ``entities.parquet``: the entity frame: ``driver_id``, ``event_timestamp``
  and a ``label`` carried through. Most keys exist; 1% do not (no value ->
  null). Timestamps run from 5 days before the first feature row to well past
  the last one plus the TTL, so some rows find no value in the TTL window
  (null again). 1% of the rows are exact copies of other rows: every tool
  must return them too.

``spec.json`` names the files and everything a side needs (features, TTL,
materialisation window, the keys looked up online), so the sides import
nothing from the harness and nothing from each other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

VIEW, ENTITY, JOIN_KEY = "driver_stats", "driver", "driver_id"
TIMESTAMP, CREATED = "event_timestamp", "created"
FEATURES: tuple[tuple[str, str], ...] = (
    ("f0", "float64"),
    ("f1", "float64"),
    ("f2", "float64"),
    ("f3", "float64"),
    ("f4", "int64"),
)
TTL = timedelta(days=30)
BASE = datetime(2026, 1, 1, tzinfo=UTC)
DAY_US = 86_400 * 1_000_000


@dataclass(frozen=True)
class Shape:
    """How much data: feature rows are ``entities x timestamps``."""

    entities: int = 10_000
    timestamps: int = 100
    entity_rows: int = 100_000
    lookup_entities: int = 100
    seed: int = 2026


def write_data(folder: Path, shape: Shape) -> Path:
    """Write both Parquet files and ``spec.json`` into ``folder``; return the spec's path."""
    rng = np.random.default_rng(shape.seed)
    folder.mkdir(parents=True, exist_ok=True)
    features_path, entities_path = folder / "features.parquet", folder / "entities.parquet"
    first_us, last_us = _write_features(features_path, shape, rng)
    _write_entities(entities_path, shape, rng)
    lookup = rng.choice(
        shape.entities, size=min(shape.lookup_entities, shape.entities), replace=False
    )
    spec: dict[str, Any] = {
        "features_path": str(features_path),
        "entities_path": str(entities_path),
        "view": VIEW,
        "entity": ENTITY,
        "join_key": JOIN_KEY,
        "timestamp_field": TIMESTAMP,
        "created_field": CREATED,
        "features": [{"name": name, "dtype": dtype} for name, dtype in FEATURES],
        "ttl_seconds": TTL.total_seconds(),
        # The materialisation window covers every feature row.
        "start": _iso(first_us - DAY_US),
        "end": _iso(last_us + DAY_US),
        "lookup_keys": sorted(int(k) for k in lookup),
        "entity_rows": shape.entity_rows,
        "feature_rows": shape.entities * shape.timestamps,
    }
    path = folder / "spec.json"
    path.write_text(json.dumps(spec, indent=2) + "\n")
    return path


def _write_features(path: Path, shape: Shape, rng: np.random.Generator) -> tuple[int, int]:
    rows = shape.entities * shape.timestamps
    keys = np.repeat(np.arange(shape.entities, dtype=np.int64), shape.timestamps)
    day = np.tile(np.arange(shape.timestamps, dtype=np.int64), shape.entities)
    base_us = int(BASE.timestamp() * 1_000_000)
    event_us = base_us + day * DAY_US + rng.integers(0, DAY_US, size=rows)
    order = rng.permutation(rows)
    columns: dict[str, pa.Array] = {
        JOIN_KEY: pa.array(keys[order]),
        TIMESTAMP: pa.array(event_us[order], pa.timestamp("us", tz="UTC")),
        CREATED: pa.array(event_us[order] + 60_000_000, pa.timestamp("us", tz="UTC")),
    }
    for name, dtype in FEATURES:
        if dtype == "int64":
            columns[name] = pa.array(rng.integers(0, 1_000_000, size=rows)[order])
        else:
            columns[name] = pa.array(rng.normal(size=rows)[order])
    pq.write_table(pa.table(columns), path)
    return int(event_us.min()), int(event_us.max())


def _write_entities(path: Path, shape: Shape, rng: np.random.Generator) -> None:
    rows = shape.entity_rows
    copies = rows // 100
    unique = rows - copies
    keys = rng.integers(0, shape.entities, size=unique)
    unknown = rng.random(unique) < 0.01
    keys[unknown] = shape.entities + rng.integers(0, 100, size=int(unknown.sum()))
    base_us = int(BASE.timestamp() * 1_000_000)
    span_days = shape.timestamps + TTL.days + 10
    event_us = base_us + rng.integers(-5 * DAY_US, (span_days - 5) * DAY_US, size=unique)
    labels = rng.random(unique)
    # Exact copies of random rows, placed at random positions.
    source = rng.integers(0, unique, size=copies)
    order = rng.permutation(rows)
    table = pa.table(
        {
            JOIN_KEY: pa.array(np.concatenate([keys, keys[source]])[order]),
            TIMESTAMP: pa.array(
                np.concatenate([event_us, event_us[source]])[order], pa.timestamp("us", tz="UTC")
            ),
            "label": pa.array(np.concatenate([labels, labels[source]])[order]),
        }
    )
    pq.write_table(table, path)


def _iso(micros: int) -> str:
    return datetime.fromtimestamp(micros // 1_000_000, UTC).isoformat()
