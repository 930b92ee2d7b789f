"""What the inference server's handlers share: models, sink, metrics, and the answer helpers.

``ServingApp`` holds the model manager (the current routing), the prediction
sink and the metrics; after an answer is sent it logs the prediction and
mirrors the request to the shadow model, neither of which can delay or fail
the answer. The helpers encode bodies with orjson and build each protocol's
error shape: MLflow's ``{"error_code", "message"}`` on the scoring routes,
``{"error": "..."}`` on ``/v2``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from contextlib import suppress
from typing import Any

import numpy as np
import orjson
from starlette.requests import Request
from starlette.responses import Response

from loopml.core.errors import InvalidArgument, LoopmlError
from loopml.serving._features import FeatureInputs
from loopml.serving._metrics import ServingMetrics
from loopml.serving._payload import Payload, columns_of, jsonable, rows_of
from loopml.serving._reload import ModelManager
from loopml.serving._routing import SHADOW, Routing, log_share
from loopml.serving._served import ServedModel
from loopml.serving._sink import LogEntry, NullSink, PredictionSink

log = logging.getLogger("loopml.serving")
JSON = "application/json"
MLFLOW, V2 = "mlflow", "v2"
# Mirrored requests waiting for a slow shadow model, beyond which mirrors are skipped.
SHADOW_MAX_QUEUE_ROWS = 10_000


class BodyTooLarge(InvalidArgument):
    """A request body over ``max_body_bytes``."""

    http_status = 413
    error_code = "REQUEST_LIMIT_EXCEEDED"


class NotReady(LoopmlError):
    """No model has loaded yet."""

    http_status = 503
    error_code = "TEMPORARILY_UNAVAILABLE"


class ServingApp:
    """The state the handlers share: the model manager, the sink, the metrics."""

    def __init__(
        self,
        manager: ModelManager,
        sink: PredictionSink,
        metrics: ServingMetrics,
        features: FeatureInputs | None = None,
    ) -> None:
        self.manager = manager
        self.sink = sink
        self.metrics = metrics
        # Set when requests carry entity keys and the server looks features up.
        self.features = features
        self.config = manager.config
        self.name = manager.source.name
        self.deployment = manager.source.deployment
        # Nothing to build for a sink that keeps nothing.
        self._log_rate = 0.0 if isinstance(sink, NullSink) else self.config.log_sample_rate
        self._tasks: set[asyncio.Task[None]] = set()

    # -- shared steps ------------------------------------------------------------------
    def routing(self) -> Routing:
        routing = self.manager.routing
        if routing is None:
            raise NotReady(
                "No model is loaded yet: "
                + (self.manager.last_error or "the first load is running.")
            )
        return routing

    async def body(self, request: Request) -> bytes:
        limit = self.config.max_body_bytes
        length = request.headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                raise InvalidArgument(f"Content-Length {length!r} is not a number.")
            if int(length) > limit:
                raise BodyTooLarge(f"The body is {int(length)} bytes; the limit is {limit} bytes.")
            return await request.body()
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"The body is over the limit of {limit} bytes.")
            chunks.append(chunk)
        return b"".join(chunks)

    def after(
        self,
        routing: Routing,
        model: ServedModel,
        role: str,
        request_id: str,
        payload: Payload,
        predictions: Any,
        started: float,
        logged: dict[str, list[Any]] | None = None,
    ) -> None:
        """Log the answer and mirror the request to the shadow (called once it is sent).

        ``logged`` holds the input columns the log records when they differ from
        the model input (a feature service's entity keys and feature values).
        """
        latency_ms = (time.perf_counter() - started) * 1000.0
        self._log(model, role, request_id, payload, predictions, latency_ms, None, logged)
        shadow = routing.shadow
        if shadow is not None:
            if shadow.batcher.queue_depth >= SHADOW_MAX_QUEUE_ROWS:
                self.metrics.shadow_dropped.inc()  # a slow shadow must not grow memory
                return
            task = asyncio.get_running_loop().create_task(
                self._shadow(shadow, request_id, payload, logged)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def failed(
        self,
        model: ServedModel,
        role: str,
        payload: Payload,
        request_id: str,
        started: float,
        error: Exception,
    ) -> None:
        """Log a request the model failed on: its error, no predictions.

        Monitors and automation policies read a route's error rate from the log
        (a canary that fails on inputs the champion takes is rolled back).
        """
        latency_ms = (time.perf_counter() - started) * 1000.0
        text = f"{type(error).__name__}: {error}"[:500]
        self._log(model, role, request_id, payload, None, latency_ms, text)

    async def _shadow(
        self,
        shadow: ServedModel,
        request_id: str,
        payload: Payload,
        logged: dict[str, list[Any]] | None,
    ) -> None:
        started = time.perf_counter()
        try:
            predictions = await shadow.infer(payload)
            error = None
        except Exception as exc:  # a shadow's failure is logged, never seen by the caller
            self.metrics.shadow_errors.inc()
            predictions, error = None, f"{type(exc).__name__}: {exc}"[:500]
        latency_ms = (time.perf_counter() - started) * 1000.0
        self._log(shadow, SHADOW, request_id, payload, predictions, latency_ms, error, logged)

    def _log(
        self,
        model: ServedModel,
        role: str,
        request_id: str,
        payload: Payload,
        predictions: Any,
        latency_ms: float,
        error: str | None,
        logged: dict[str, list[Any]] | None = None,
    ) -> None:
        rate = self._log_rate
        if rate <= 0.0 or (rate < 1.0 and log_share(request_id) >= rate):
            return
        try:
            entry = LogEntry(
                request_id=request_id,
                time_ms=int(time.time() * 1000),
                deployment=self.deployment,
                model_uri=model.key.uri,
                model_version=model.key.version,
                role=role,
                inputs=columns_of(payload) if logged is None else logged,
                outputs=rows_of(predictions) if predictions is not None else [],
                latency_ms=latency_ms,
                error=error,
            )
            self.sink.record(entry)
        except Exception:  # the log never fails a request
            log.exception("Could not log a prediction")

    def observe(self, version: str, protocol: str, status: int, started: float) -> None:
        self.metrics.requests.labels(version, protocol, str(status)).inc()
        self.metrics.latency.labels(version, protocol).observe(time.perf_counter() - started)
        if status >= 400:
            self.metrics.errors.labels(protocol, str(status)).inc()

    def refresh_gauges(self) -> None:
        routing = self.manager.routing
        depth = 0
        if routing is not None:
            depth = sum(m.batcher.queue_depth for m in routing.models.values())
        self.metrics.queue_depth.set(depth)
        self.metrics.log_dropped.set(self.sink.dropped)
        self.metrics.log_queue.set(self.sink.queue_depth)

    def current_version(self) -> str:
        routing = self.manager.routing
        return routing.primary.key.uri if routing is not None else "none"

    async def close(self) -> None:
        for task in list(self._tasks):
            with suppress(Exception):
                await asyncio.wait_for(task, 5.0)
        await self.manager.close()
        await asyncio.to_thread(self.sink.close, 10.0)
        if self.features is not None:
            self.features.close()


def headers(request_id: str, version: str) -> dict[str, str]:
    return {"x-request-id": request_id, "x-model-version": version}


def request_id_of(request: Request) -> str:
    given = request.headers.get("x-request-id")
    if given and len(given) <= 200:
        return given
    return uuid.uuid4().hex


def dumps(value: Any) -> bytes:
    return orjson.dumps(
        value, default=_fallback, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    )


def _fallback(value: Any) -> Any:
    """What orjson cannot write itself: NumPy arrays of objects, pandas values, the rest as text."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def predictions_json(predictions: Any) -> bytes:
    if (
        isinstance(predictions, np.ndarray)
        and predictions.dtype.kind in "biuf"
        and predictions.flags.c_contiguous
    ):
        return b'{"predictions":' + dumps(predictions) + b"}"
    return dumps({"predictions": jsonable(predictions)})


def mlflow_error(exc: LoopmlError, headers: dict[str, str]) -> Response:
    return Response(dumps(exc.to_dict()), exc.http_status, headers, JSON)


def v2_error(exc: LoopmlError, headers: dict[str, str]) -> Response:
    return Response(dumps({"error": exc.message}), exc.http_status, headers, JSON)
