"""The prediction log: bounded asynchronous writes, segments + index, range reads, labels."""

from __future__ import annotations

import threading

import pandas as pd
import pytest
from deployments_support import prediction, unique

from loopml.core.errors import InvalidArgument, NotFound, StorageError
from loopml.deployments import (
    Deployments,
    PredictionLogger,
    PredictionRecord,
    PredictionSegment,
    log_labels,
    read_predictions,
)
from loopml.deployments._storage import SegmentStorage
from loopml.tracking import Client


def test_rows_segments_and_index(client: Client, deployments: Deployments) -> None:
    name = unique("log")
    deployments.create(name, "models:/m@champion")
    with PredictionLogger(client, name, flush_rows=4, flush_interval_seconds=60) as logger:
        assert logger.record(prediction(name, "a", 1_000, rows=3))
        assert logger.record(prediction(name, "b", 2_000, outputs=[[0.1, 0.9]], role="shadow"))
        assert logger.record(prediction(name, "c", 3_000, outputs=[], error="boom"))
        logger.flush()
        assert logger.queue_depth == 0 and logger.dropped == 0
        assert logger.written_rows == 5
    segments = deployments.list_segments(name)
    assert sum(s.rows for s in segments) == 5 and len(segments) == 2
    assert segments[0].min_time == 1_000 and segments[-1].max_time == 3_000

    frame = read_predictions(name, client=client)
    assert list(frame["request_id"]) == ["a", "a", "a", "b", "c"]
    assert list(frame["row"]) == [0, 1, 2, 0, 0]
    assert list(frame["input.x"])[:3] == [0.0, 1.0, 2.0]
    assert set(frame["input.city"]) == {"paris"}
    assert list(frame["role"]) == ["primary"] * 3 + ["shadow", "primary"]
    assert list(frame["prediction"])[:3] == ["0.5", "1.5", "2.5"]  # text: one segment has JSON
    assert frame["prediction"].iloc[3] == "[0.1,0.9]"
    assert pd.isna(frame["prediction"].iloc[4]) and frame["error"].iloc[4] == "boom"
    assert {"time_ms", "deployment", "model_uri", "model_version", "latency_ms", "label"} <= set(
        frame.columns
    )


def test_time_range_reads_only_overlapping_segments(
    client: Client, deployments: Deployments
) -> None:
    name = unique("range")
    with PredictionLogger(client, name, flush_rows=10) as logger:
        for i in range(50):  # five segments of ten requests each: 0-9, 10-19, ...
            logger.record(prediction(name, f"r{i}", 10_000 + i * 100))
            if i % 10 == 9:
                logger.flush()
    assert len(deployments.list_segments(name)) == 5
    assert len(deployments.list_segments(name, 11_000, 12_000)) == 1
    frame = read_predictions(name, since_ms=11_000, until_ms=12_500, client=client)
    assert list(frame["request_id"]) == [f"r{i}" for i in range(10, 25)]
    assert read_predictions(name, since_ms=20_000, client=client).empty
    assert len(read_predictions(name, until_ms=10_200, client=client)) == 2


def test_labels_join_by_request_id(client: Client) -> None:
    name = unique("labels")
    with PredictionLogger(client, name) as logger:
        for i in range(6):
            logger.record(prediction(name, f"r{i}", 1_000 + i, rows=2))
    assert log_labels(name, {"r0": 1, "r1": 0, "r2": 1}, client=client) == 3
    relabel = pd.DataFrame({"request_id": ["r2", "r3"], "label": [0, 1]})
    assert log_labels(name, relabel, client=client) == 2
    frame = read_predictions(name, client=client)
    by_request = frame.groupby("request_id")["label"].first()
    assert by_request[["r0", "r1", "r2", "r3"]].tolist() == [1, 0, 0, 1]
    assert by_request[["r4", "r5"]].isna().all()
    assert (frame.groupby("request_id")["label"].nunique(dropna=False) == 1).all()
    assert "label" not in read_predictions(name, with_labels=False, client=client).columns


def test_bad_labels_are_refused_and_store_nothing(client: Client) -> None:
    name = unique("badlabels")
    with pytest.raises(NotFound, match=name):
        log_labels(name, {"r1": 1}, client=client)
    with PredictionLogger(client, name) as logger:
        logger.record(prediction(name, "r1", 1))
    with pytest.raises(InvalidArgument, match="request_id"):
        log_labels(name, {"ok": 1, "": 2}, client=client)
    with pytest.raises(InvalidArgument, match="JSON"):
        log_labels(name, {"r1": 1, "r2": object()}, client=client)
    with pytest.raises(InvalidArgument, match="column 'label'"):
        log_labels(name, pd.DataFrame({"request_id": ["r1"]}), client=client)
    with pytest.raises(InvalidArgument):
        log_labels(name, [("r1", 1)], client=client)  # type: ignore[arg-type]
    assert read_predictions(name, client=client)["label"].isna().all()


class _Gate(SegmentStorage):
    """A sink that blocks until opened, or fails while ``failing`` is set."""

    def __init__(self, error: Exception | None = None) -> None:
        self.open = threading.Event()
        self.error = error
        self.batches: list[int] = []

    def write(
        self, deployment: str, data: bytes, min_time: int, max_time: int, rows: int
    ) -> PredictionSegment:
        self.open.wait(30)
        if self.error is not None:
            raise self.error
        self.batches.append(rows)
        return PredictionSegment(
            len(self.batches), deployment, "0" * 64, min_time, max_time, rows, 0
        )

    def read(self, segment: PredictionSegment) -> bytes:
        raise AssertionError("not read")


def test_a_slow_sink_keeps_memory_bounded_and_counts_drops(client: Client) -> None:
    sink = _Gate()
    logger = PredictionLogger(
        client, "slow", max_queue_rows=50, flush_rows=10, flush_interval_seconds=0.01, storage=sink
    )
    accepted = sum(logger.record(prediction("slow", f"r{i}", i)) for i in range(500))
    assert logger.queue_depth <= 50
    assert accepted <= 50 and logger.dropped == 500 - accepted
    sink.open.set()
    logger.close()
    assert sum(sink.batches) == accepted and logger.queue_depth == 0
    assert max(sink.batches) <= 10


def test_a_broken_sink_is_retried_and_never_raises(client: Client) -> None:
    sink = _Gate(StorageError("object store down"))
    sink.open.set()
    logger = PredictionLogger(client, "broken", flush_rows=1, storage=sink)
    assert logger.record(prediction("broken", "r1", 1))
    logger.flush(timeout=0.8)  # returns, it does not raise
    assert logger.failed_writes >= 2 and "object store down" in (logger.last_error or "")
    sink.error = None  # the store comes back: the retried batch gets through
    logger.flush(timeout=20)
    assert sink.batches == [1] and logger.dropped == 0
    logger.close()


def test_refused_batches_and_bad_records_are_dropped_and_counted(client: Client) -> None:
    sink = _Gate(InvalidArgument("refused"))
    sink.open.set()
    logger = PredictionLogger(client, "refused", flush_rows=1, storage=sink)
    assert logger.record(prediction("refused", "r1", 1))
    logger.flush()
    assert logger.dropped == 1 and logger.failed_writes == 1  # not retried: a 4xx is final
    broken = PredictionRecord("r2", 1, "refused", "m", "1", "primary", None, [1], 1.0)  # type: ignore[arg-type]
    assert logger.record(broken) is False
    assert logger.dropped == 2
    logger.close()
    assert logger.record(prediction("refused", "r3", 1)) is False  # closed: dropped


def test_sampling_is_deterministic_by_request_id(client: Client) -> None:
    sink = _Gate()
    sink.open.set()
    logger = PredictionLogger(client, "sampled", sample_rate=0.5, storage=sink)
    first = [logger.record(prediction("sampled", f"r{i}", i)) for i in range(400)]
    again = [logger.record(prediction("sampled", f"r{i}", i)) for i in range(400)]
    assert first == again and 100 < sum(first) < 300
    assert logger.sampled_out == 800 - 2 * sum(first) and logger.dropped == 0
    logger.close()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_queue_rows": 0},
        {"flush_rows": 0},
        {"flush_interval_seconds": 0},
        {"sample_rate": 1.5},
        {"sample_rate": -0.1},
        {"max_queue_rows": 1.5},
    ],
)
def test_bad_logger_settings_are_refused(client: Client, kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidArgument):
        PredictionLogger(client, "settings", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="deployment name"):
        PredictionLogger(client, "a/b")


def test_a_large_log_reads_back_whole(client: Client) -> None:
    name = unique("large")
    with PredictionLogger(client, name, max_queue_rows=300_000, flush_rows=50_000) as logger:
        for i in range(20_000):
            logger.record(prediction(name, f"r{i}", i, rows=10))
    log_labels(name, {f"r{i}": i % 2 for i in range(0, 20_000, 2)}, client=client)
    frame = read_predictions(name, client=client)
    assert len(frame) == 200_000 and frame["time_ms"].is_monotonic_increasing
    assert frame["label"].notna().sum() == 100_000
    assert (frame.loc[frame["request_id"] == "r4", "label"] == 0).all()
