"""The loopml side of bench/features; runs in the project venv.

    PYTHON loopml_side.py SPEC.json OUT_DIR

The same steps as ``feast_side.py`` through ``loopml.features.FeatureStore``
(definitions in a fresh SQLite tracking store, from LOOPML_HOME and
LOOPML_TRACKING_URI set by the harness):

- ``get_training_set(entity_df, features).to_pandas()``, the median of
  ``TRAINING_REPEATS``;
- ``materialize(start, end)`` and ``get_online(features, entity_rows)``
  (median of ``LOOKUPS`` calls after a warm-up), once into a SQLite online
  store in OUT_DIR, once into Redis (``REDIS_URI``, db 15, flushed before and
  after: the benchmark owns that database).

Writes ``training.parquet`` and ``result.json`` into OUT_DIR.
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
import redis

from loopml.features import Entity, FeatureStore, FeatureView, Field, FileSource

TRAINING_REPEATS = 5
WARMUP, LOOKUPS = 20, 1000
REDIS_URI = "redis://127.0.0.1:6379/15"


def definitions(spec: dict[str, Any]) -> tuple[Entity, FeatureView, list[str]]:
    """The entity and view of the spec, and its feature references."""
    entity = Entity(name=spec["entity"], join_keys=(spec["join_key"],))
    view = FeatureView(
        name=spec["view"],
        entities=(entity,),
        schema=tuple(Field(f["name"], f["dtype"]) for f in spec["features"]),
        source=FileSource(
            path=spec["features_path"],
            timestamp_field=spec["timestamp_field"],
            created_timestamp_column=spec["created_field"],
        ),
        ttl=timedelta(seconds=spec["ttl_seconds"]),
    )
    return entity, view, [f"{spec['view']}:{f['name']}" for f in spec["features"]]


def online_case(
    spec: dict[str, Any], online: str, refs: list[str]
) -> tuple[float, float, dict[str, list[Any]]]:
    """Materialise into ``online``, then time lookups: (materialise s, median ms, values)."""
    with FeatureStore(online=online) as store:
        start = time.perf_counter()
        store.materialize(
            start=datetime.fromisoformat(spec["start"]), end=datetime.fromisoformat(spec["end"])
        )
        materialize = time.perf_counter() - start
        rows = [{spec["join_key"]: key} for key in spec["lookup_keys"]]
        lookups: list[float] = []
        result: Any = None
        for i in range(WARMUP + LOOKUPS):
            start = time.perf_counter()
            result = store.get_online(refs, entity_rows=rows)
            if i >= WARMUP:
                lookups.append(time.perf_counter() - start)
    return materialize, statistics.median(lookups) * 1000, _by_key(result, spec)


def _by_key(result: Any, spec: dict[str, Any]) -> dict[str, list[Any]]:
    """``{key: [feature values in spec order]}`` from an OnlineResult (rows in request order)."""
    names = [f["name"] for f in spec["features"]]
    return {
        str(key): [result.values[n][i] for n in names] for i, key in enumerate(spec["lookup_keys"])
    }


def _online_into(
    report: dict[str, Any], name: str, spec: dict[str, Any], online: str, refs: list[str]
) -> None:
    seconds, ms, values = online_case(spec, online, refs)
    report["materialize_seconds"][name] = seconds
    report["online_ms"][name] = ms
    report["online_values"][name] = values


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: loopml_side.py SPEC.json OUT_DIR", file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[0]).read_text())
    out = Path(argv[1])
    entity, view, refs = definitions(spec)
    sqlite_uri = f"sqlite:///{out / 'online.db'}"
    entities = pd.read_parquet(spec["entities_path"])
    training: list[float] = []
    result = pd.DataFrame()
    with FeatureStore(online=sqlite_uri) as store:
        store.apply([entity, view])
        for _ in range(TRAINING_REPEATS):
            start = time.perf_counter()
            result = store.get_training_set(entities, features=refs).to_pandas()
            training.append(time.perf_counter() - start)
    result.to_parquet(out / "training.parquet", index=False)

    report: dict[str, Any] = {
        "version": version("loopml"),
        "training_seconds": training,
        "rows": len(result),
        "materialize_seconds": {},
        "online_ms": {},
        "online_values": {},
        "errors": {},
    }
    _online_into(report, "sqlite", spec, sqlite_uri, refs)
    try:
        with redis.Redis.from_url(REDIS_URI, socket_connect_timeout=2) as db:
            db.flushdb()
            try:
                _online_into(report, "redis", spec, REDIS_URI, refs)
            finally:
                db.flushdb()
    except redis.RedisError as exc:  # no Redis here: keep the other figures
        report["errors"]["redis"] = f"{type(exc).__name__}: {exc}"
    (out / "result.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
