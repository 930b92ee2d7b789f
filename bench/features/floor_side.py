"""The floor of bench/features: one plain DuckDB ASOF LEFT JOIN, in loopml's venv.

    PYTHON floor_side.py SPEC.json OUT_DIR

What any point-in-time join over these Parquet files costs at the least: the
entity frame (a pandas DataFrame in memory, as the tools get it) joined
ASOF to the feature file on the join key and ``feature ts <= entity ts``,
values older than the TTL blanked, rows back in the entity frame's order,
result as a pandas DataFrame. No tie-breaking on the created timestamp: the
generated data has no ties. Writes ``training.parquet`` (the last run's
result, for the harness to compare) and ``result.json`` (seconds of each
run) into OUT_DIR.
"""

from __future__ import annotations

import json
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

REPEATS = 5


def query(spec: dict[str, Any]) -> str:
    """The ASOF LEFT JOIN, over the registered frame ``entity_df``."""
    key, ts = spec["join_key"], spec["timestamp_field"]
    ttl = int(spec["ttl_seconds"])
    values = ",\n  ".join(
        f"CASE WHEN f.{ts} >= e.{ts} - INTERVAL {ttl} SECOND THEN f.{f['name']} END AS {f['name']}"
        for f in spec["features"]
    )
    path = spec["features_path"].replace("'", "''")
    return f"""
SELECT e.* EXCLUDE (__row),
  {values}
FROM entity_df e
ASOF LEFT JOIN read_parquet('{path}') f
  ON e.{key} = f.{key} AND e.{ts} >= f.{ts}
ORDER BY e.__row
"""


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: floor_side.py SPEC.json OUT_DIR", file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[0]).read_text())
    out = Path(argv[1])
    entities = pd.read_parquet(spec["entities_path"])
    sql = query(spec)
    seconds: list[float] = []
    result = pd.DataFrame()
    for _ in range(REPEATS):
        start = time.perf_counter()
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        con.register("entity_df", entities.assign(__row=np.arange(len(entities))))
        result = con.execute(sql).df()
        seconds.append(time.perf_counter() - start)
        con.close()
    result.to_parquet(out / "training.parquet", index=False)
    report = {"version": version("duckdb"), "training_seconds": seconds, "rows": len(result)}
    (out / "result.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
