"""The packed format of metric points, and its encoder and decoder.

A chunk is ``b"\\x01"`` (format version) followed by ``count`` little-endian
int64 steps, ``count`` int64 timestamps and ``count`` float64 values. Points
keep the order they were logged in; a history is the concatenation of a
key's chunks, stably sorted by (step, timestamp).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from loopml.core.errors import CorruptObject, InvalidArgument
from loopml.store.records import Metric

FORMAT_VERSION = 1
_HEADER = bytes([FORMAT_VERSION])
_INT = np.dtype("<i8")
_FLOAT = np.dtype("<f8")
_BYTES_PER_POINT = _INT.itemsize * 2 + _FLOAT.itemsize


@dataclass(frozen=True, slots=True)
class PointColumns:
    """The points of one key in one batch, as parallel NumPy arrays."""

    steps: np.ndarray
    timestamps: np.ndarray
    values: np.ndarray

    @classmethod
    def from_lists(
        cls, steps: Sequence[int], timestamps: Sequence[int], values: Sequence[float]
    ) -> PointColumns:
        try:
            packed_steps = np.array(steps, dtype=_INT)
            packed_times = np.array(timestamps, dtype=_INT)
        except OverflowError as exc:
            raise InvalidArgument(
                "A metric step or timestamp does not fit in 64 bits: steps are integers and "
                "timestamps milliseconds since the epoch."
            ) from exc
        return cls(packed_steps, packed_times, np.array(values, dtype=_FLOAT))

    def encode(self) -> bytes:
        """The chunk bytes stored in the database."""
        return b"".join(
            (_HEADER, self.steps.tobytes(), self.timestamps.tobytes(), self.values.tobytes())
        )

    def latest(self) -> tuple[int, int, float]:
        """(step, timestamp, value) of the latest point, ordered as MLflow orders them.

        NaN ranks lowest so it never hides a number; among equal points the one
        logged last wins.
        """
        ranked_values = np.where(np.isnan(self.values), -np.inf, self.values)
        index = int(np.lexsort((ranked_values, self.timestamps, self.steps))[-1])
        return int(self.steps[index]), int(self.timestamps[index]), float(self.values[index])


_POINT = struct.Struct("<qqd")


def encode_point(step: int, timestamp: int, value: float) -> bytes:
    """The chunk of a single point: the same bytes as ``PointColumns.encode``, without NumPy."""
    try:
        return _HEADER + _POINT.pack(step, timestamp, value)
    except struct.error as exc:
        raise InvalidArgument(
            "A metric step or timestamp does not fit in 64 bits: steps are integers and "
            "timestamps milliseconds since the epoch."
        ) from exc


def _decode(data: bytes, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if data[:1] != _HEADER or len(data) != 1 + count * _BYTES_PER_POINT:
        raise CorruptObject(
            f"A stored metric chunk is malformed ({len(data)} bytes for {count} points); "
            "restore the database from a backup."
        )
    body = memoryview(data)[1:]
    steps = np.frombuffer(body, dtype=_INT, count=count)
    times = np.frombuffer(body, dtype=_INT, count=count, offset=count * _INT.itemsize)
    values = np.frombuffer(body, dtype=_FLOAT, count=count, offset=2 * count * _INT.itemsize)
    return steps, times, values


def history_columns(chunks: Iterable[tuple[int, bytes]]) -> PointColumns:
    """Every point from ``(count, data)`` chunks as arrays, ordered by step, then time.

    Charts thin 100,000-point histories from these arrays directly: building one
    ``Metric`` per point costs more than the whole query.
    """
    parts = [_decode(bytes(data), count) for count, data in chunks]
    if not parts:
        empty = np.empty(0, dtype=_INT)
        return PointColumns(empty, empty, np.empty(0, dtype=_FLOAT))
    steps = np.concatenate([p[0] for p in parts])
    times = np.concatenate([p[1] for p in parts])
    values = np.concatenate([p[2] for p in parts])
    order = np.lexsort((times, steps))  # stable: equal points keep their logging order
    return PointColumns(steps[order], times[order], values[order])


def history(key: str, chunks: Iterable[tuple[int, bytes]]) -> list[Metric]:
    """Every point of ``key`` from its ``(count, data)`` chunks, ordered by step, then time."""
    columns = history_columns(chunks)
    return [
        Metric(key, value, timestamp, step)
        for step, timestamp, value in zip(
            columns.steps.tolist(),
            columns.timestamps.tolist(),
            columns.values.tolist(),
            strict=True,
        )
    ]
