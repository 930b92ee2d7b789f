"""Helpers shared by the dataset tests: unique names and small tables written for real."""

from __future__ import annotations

import uuid
from pathlib import Path

IRIS_CSV = (
    "sepal,petal,species,ok\n"
    "5.1,1.4,setosa,true\n"
    "4.9,,setosa,false\n"
    "6.3,4.9,virginica,true\n"
    "5.8,NaN,versicolor,\n"
)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def write_csv(path: Path, text: str = IRIS_CSV) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def write_parquet(path: Path, columns: dict[str, list[object]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)
    return path


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root
