"""The anchor side of bench/features: Feast, in its own venv (``bench/.venvs/feast``).

    PYTHON feast_side.py SPEC.json OUT_DIR

Feast as its quickstart sets it up: a ``feature_store.yaml`` with the file
offline store and the SQLite online store in OUT_DIR, the entity and feature
view applied through the Python API (what ``feast apply`` does), then

- ``get_historical_features(entity_df, features).to_df()`` on the entity
  frame (a pandas DataFrame in memory), timed ``TRAINING_REPEATS`` times;
- ``materialize(start, end)`` of the whole window into SQLite (one row per
  entity);
- ``get_online_features(features, entity_rows).to_dict()`` for the spec's
  lookup keys, the median of ``LOOKUPS`` calls after a warm-up.

Writes ``training.parquet`` (the result of the historical retrieval) and
``result.json`` into OUT_DIR. Imports nothing of loopml.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd
from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
from feast.types import Float64, Int64

TRAINING_REPEATS = 3
WARMUP, LOOKUPS = 5, 200
_TYPES = {"float64": Float64, "int64": Int64}

FEATURE_STORE_YAML = """\
project: loopml_bench
registry: {root}/registry.db
provider: local
online_store:
  type: sqlite
  path: {root}/online.db
offline_store:
  type: file
entity_key_serialization_version: 3
"""


def build_store(spec: dict[str, Any], root: Path) -> tuple[FeatureStore, list[str]]:
    """Write the repo config, apply the entity and view; return the store and feature refs."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "feature_store.yaml").write_text(FEATURE_STORE_YAML.format(root=root))
    entity = Entity(name=spec["entity"], join_keys=[spec["join_key"]], value_type=ValueType.INT64)
    source = FileSource(
        name=f"{spec['view']}_source",
        path=spec["features_path"],
        timestamp_field=spec["timestamp_field"],
        created_timestamp_column=spec["created_field"],
    )
    view = FeatureView(
        name=spec["view"],
        entities=[entity],
        ttl=timedelta(seconds=spec["ttl_seconds"]),
        schema=[Field(name=f["name"], dtype=_TYPES[f["dtype"]]) for f in spec["features"]],
        source=source,
        online=True,
    )
    store = FeatureStore(repo_path=str(root))
    store.apply([entity, view])
    return store, [f"{spec['view']}:{f['name']}" for f in spec["features"]]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: feast_side.py SPEC.json OUT_DIR", file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[0]).read_text())
    out = Path(argv[1])
    store, refs = build_store(spec, out / "repo")
    entities = pd.read_parquet(spec["entities_path"])

    training: list[float] = []
    result = pd.DataFrame()
    for _ in range(TRAINING_REPEATS):
        start = time.perf_counter()
        result = store.get_historical_features(entity_df=entities, features=refs).to_df()
        training.append(time.perf_counter() - start)
    result.to_parquet(out / "training.parquet", index=False)

    start = time.perf_counter()
    store.materialize(datetime.fromisoformat(spec["start"]), datetime.fromisoformat(spec["end"]))
    materialize = time.perf_counter() - start

    rows = [{spec["join_key"]: key} for key in spec["lookup_keys"]]
    lookups: list[float] = []
    values: dict[str, Any] = {}
    for i in range(WARMUP + LOOKUPS):
        start = time.perf_counter()
        values = store.get_online_features(features=refs, entity_rows=rows).to_dict()
        if i >= WARMUP:
            lookups.append(time.perf_counter() - start)

    report = {
        "version": version("feast"),
        "training_seconds": training,
        "rows": len(result),
        "materialize_seconds": {"sqlite": materialize},
        "online_ms": {"sqlite": statistics.median(lookups) * 1000},
        "online_values": {"sqlite": _by_key(values, spec)},
    }
    (out / "result.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


def _by_key(columns: dict[str, list[Any]], spec: dict[str, Any]) -> dict[str, list[Any]]:
    """``{key: [feature values in spec order]}`` from Feast's column-wise answer."""
    names = [f["name"] for f in spec["features"]]
    keys = columns[spec["join_key"]]
    return {str(k): [columns[n][i] for n in names] for i, k in enumerate(keys)}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
