"""Micro-batching: concurrent requests share model calls and each gets its own rows back."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from inprocess import InProcess
from serving_support import FEATURES, classifier

from conftest import Store
from loopml.core.errors import InvalidArgument
from loopml.serving import NullSink, ServeConfig, create_serving_app
from loopml.serving._batcher import MicroBatcher
from loopml.serving._payload import Table


def _table(*rows: list[float]) -> Table:
    return Table(("x",), np.array(rows, dtype=float))


class Recorder:
    """A model that doubles its input, records batch sizes, and can be held on its first call."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.release = threading.Event()
        self.release.set()
        self.entered = threading.Event()

    def __call__(self, payload: Any) -> np.ndarray:
        self.entered.set()
        self.release.wait(10)
        values = payload.values[:, 0]
        if (values < 0).any():
            raise InvalidArgument("negative values are refused")
        self.sizes.append(len(values))
        return values * 2


def test_requests_queued_behind_a_busy_model_form_one_batch() -> None:
    model = Recorder()

    async def scenario() -> list[Any]:
        batcher = MicroBatcher(model, max_batch_size=64, max_delay_seconds=0.002, name="t")
        model.release.clear()
        first = asyncio.ensure_future(batcher.submit(_table([1.0])))
        while not model.entered.is_set():  # the first batch is inside the model
            await asyncio.sleep(0.001)
        rest = [
            asyncio.ensure_future(batcher.submit(_table([float(i)], [float(i) + 0.5])))
            for i in range(10)
        ]
        await asyncio.sleep(0.01)
        assert batcher.queue_depth == 20
        model.release.set()
        results = await asyncio.gather(first, *rest)
        await batcher.close()
        return results

    results = asyncio.run(scenario())
    assert model.sizes == [1, 20]  # ten requests of two rows: one model call
    assert results[0].tolist() == [2.0]
    for i, result in enumerate(results[1:]):  # each caller gets its own rows, in order
        assert result.tolist() == [2.0 * i, 2.0 * i + 1.0]


def test_a_bad_request_fails_alone_and_batches_respect_the_size_limit() -> None:
    model = Recorder()

    async def scenario() -> list[Any]:
        batcher = MicroBatcher(model, max_batch_size=4, max_delay_seconds=0.0, name="t")
        model.release.clear()
        first = asyncio.ensure_future(batcher.submit(_table([1.0])))
        while not model.entered.is_set():
            await asyncio.sleep(0.001)
        payloads = [_table([2.0]), _table([-1.0]), _table([3.0]), _table([4.0]), _table([5.0])]
        rest = [asyncio.ensure_future(batcher.submit(p)) for p in payloads]
        await asyncio.sleep(0.01)
        model.release.set()
        results = await asyncio.gather(first, *rest, return_exceptions=True)
        await batcher.close()
        return results

    results = asyncio.run(scenario())
    assert isinstance(results[2], InvalidArgument)
    assert "negative" in results[2].message
    assert [r.tolist() for i, r in enumerate(results) if i != 2] == [
        [2.0],
        [4.0],
        [6.0],
        [8.0],
        [10.0],
    ]
    assert max(model.sizes) <= 4


def test_the_wait_adapts_to_load() -> None:
    async def scenario() -> tuple[float, float, float]:
        batcher = MicroBatcher(
            lambda p: p.values[:, 0], max_batch_size=4, max_delay_seconds=0.004, name="t"
        )
        batcher._adapt(requests=3, rows=3)  # requests arrive together: wait a little
        grown = batcher.current_wait
        batcher._adapt(requests=4, rows=4)  # batches fill by themselves: wait less
        shrunk = batcher.current_wait
        await batcher.submit(_table([1.0]))  # a lone request on an idle server: no wait
        idle = batcher.current_wait
        await batcher.close()
        return grown, shrunk, idle

    grown, shrunk, idle = asyncio.run(scenario())
    assert 0 < grown <= 0.004
    assert shrunk < grown
    assert idle == 0.0


@pytest.mark.parametrize("path", ["onnx", "native"])
def test_concurrent_http_requests_are_batched_and_routed_back(iris_store: Store, path: str) -> None:
    config = ServeConfig(model_uri="models:/iris/1", max_batch_delay_ms=5, onnx=path == "onnx")
    app = create_serving_app(config, client=iris_store.client, sink=NullSink())
    rng = np.random.RandomState(7)
    inputs = [rng.randn(1 + i % 3, 4) * 3 for i in range(40)]
    with InProcess(app) as server:
        assert _settled_path(server) == path
        answers = server.concurrently(
            [
                (
                    "/invocations",
                    {"json": {"dataframe_split": {"columns": FEATURES, "data": x.tolist()}}},
                )
                for x in inputs
            ]
        )
        metrics = server.get("/metrics").text
    model = classifier()
    for x, answer in zip(inputs, answers, strict=True):
        assert answer.status_code == 200, answer.text
        assert (
            answer.json()["predictions"]
            == model.predict(pd.DataFrame(x, columns=FEATURES)).tolist()
        )
    count = _sample(metrics, "loopml_serving_batch_size_count")
    total = _sample(metrics, "loopml_serving_batch_size_sum")
    single = _sample(metrics, 'loopml_serving_batch_size_bucket{le="1.0"}')
    assert total >= sum(len(x) for x in inputs)
    assert count < 40  # fewer model calls than requests
    assert single < count or total / count > 1  # some batch held more than one row


def _settled_path(server: InProcess) -> str:
    """The predict path once the background ONNX check is done (it starts native)."""
    deadline = time.monotonic() + 60
    while True:
        health = server.get("/health").json()
        if "background" not in health["path_reason"]:
            return str(health["path"])
        assert time.monotonic() < deadline, health
        time.sleep(0.05)


def _sample(text: str, name: str) -> float:
    line = next(x for x in text.splitlines() if x.startswith(name + " "))
    return float(line.rsplit(" ", 1)[1])
