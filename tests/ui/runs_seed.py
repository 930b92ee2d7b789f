"""Runs for the UI tests, written straight to the live server's store in a few bulk calls."""

from __future__ import annotations

import io
import math
import struct
import uuid
import zlib
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

from loopml.store import DatasetInput, Metric, NewRun, Param, RunTag
from loopml.tracking import Client

XSS = "<img src=x onerror=alert(1)>"
LONG_POINTS = 20_000


def tiny_png() -> bytes:
    """A real 2x2 PNG (red pixels), made without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def parquet_bytes() -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table({"city": ["Oslo", "Lima", XSS], "temp": [3.5, 19.0, 7.25]}), sink)
    return sink.getvalue()


@dataclass
class Seeded:
    experiment_id: str
    name: str
    run_ids: list[str]  # the sweep runs, in creation order (start_time ascending)
    detail: str  # the run with artifacts, inputs, children and a long metric
    children: list[str] = field(default_factory=list)
    xss_experiment: str = ""
    xss_run: str = ""


def seed(client: Client, runs: int = 60) -> Seeded:
    """One experiment with a sweep of ``runs`` runs, a detailed parent run, and an XSS probe."""
    name = f"sweep-{uuid.uuid4().hex[:8]}"
    experiment_id = client.create_experiment(name)
    sweep = [
        NewRun(
            run_name=f"trial-{i:03d}",
            start_time=1_700_000_000_000 + i * 1000,
            end_time=1_700_000_060_000 + i * 1000,
            metrics=tuple(
                Metric(key, value, 1_700_000_000_000 + i * 1000 + step * 100, step)
                for step in range(10)
                for key, value in (("loss", 1.0 / (1 + step + i)), ("acc", 0.5 + i / 200))
            ),
            params=(
                Param("lr", str(0.001 * (i + 1))),
                Param("depth", str(3 + i % 4)),
                Param("optimizer", "adam" if i % 2 else "sgd"),
                Param("seed", "7"),
            ),
            tags=(RunTag("team", "vision" if i % 3 else "search"),),
        )
        for i in range(runs)
    ]
    run_ids = client.create_runs(experiment_id, sweep)

    detail = client.create_run(experiment_id, run_name="parent-with-artifacts").info.run_id
    history = [
        Metric("curve", math.sin(s / 50) + (25.0 if s == 12_345 else 0.0), 1_700_000_000_000 + s, s)
        for s in range(LONG_POINTS)
    ]
    for start in range(0, LONG_POINTS, 5000):
        client.log_batch(detail, metrics=history[start : start + 5000])
    client.log_batch(
        detail,
        params=[Param("lr", "0.01"), Param("note", XSS)],
        tags=[RunTag("owner", XSS), RunTag("mlflow.source.name", "train.py")],
    )
    client.log_inputs(detail, [DatasetInput("churn-train", "abc123def4567890", context="training")])
    client.log_artifact_stream(detail, io.BytesIO(tiny_png()), "plots/red.png")
    client.log_text(detail, f"hello {XSS}\nsecond line", "notes.txt")
    client.log_dict(detail, {"auc": 0.91, "label": XSS}, "metrics.json")
    client.log_text(detail, "a,b\n1,x\n2,y\n", "data/head.csv")
    client.log_artifact_stream(detail, io.BytesIO(parquet_bytes()), "data/cities.parquet")
    client.log_text(detail, "<h1>Report</h1><script>parent.alert(1)</script>", "report.html")
    client.log_text(detail, "artifact_path: model\nflavors: {}\n", "model/MLmodel")
    client.log_text(detail, "x", f"{XSS}.txt")
    children = client.create_runs(
        experiment_id,
        [NewRun(run_name=f"child-{i}", start_time=1_700_000_100_000 + i, parent_run_id=detail)
         for i in range(2)],
    )  # fmt: skip
    client.set_terminated(detail)

    xss_experiment = client.create_experiment(f"{XSS} {uuid.uuid4().hex[:6]}")
    (xss_run,) = client.create_runs(
        xss_experiment,
        [NewRun(run_name=XSS, start_time=1_700_000_000_000, params=(Param("p", XSS),),
                tags=(RunTag("t", XSS),), metrics=(Metric("m", 1.0, 1_700_000_000_000, 0),))],
    )  # fmt: skip
    client.log_text(xss_run, XSS, f"{XSS}.html")
    return Seeded(experiment_id, name, run_ids, detail, children, xss_experiment, xss_run)
