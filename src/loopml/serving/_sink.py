"""Where predictions are logged: a narrow seam over ``loopml.deployments.PredictionLogger``.

The server only needs ``record`` (never blocks, never raises), the
``dropped`` and ``queue_depth`` counters for ``/metrics``, and ``close``.
``NullSink`` stands in when the log is off (``--no-prediction-log``), so no
code path asks "is logging on?".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("loopml.serving")


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One logged prediction: the fields of ``loopml.deployments.PredictionRecord``."""

    request_id: str
    time_ms: int
    deployment: str
    model_uri: str
    model_version: str
    role: str
    inputs: dict[str, list[Any]]
    outputs: list[Any]
    latency_ms: float
    error: str | None = None


class PredictionSink(Protocol):
    """What the server writes predictions to."""

    def record(self, entry: LogEntry) -> bool:
        """Queue one entry; False when it was dropped. Never blocks, never raises."""
        ...

    @property
    def dropped(self) -> int: ...

    @property
    def queue_depth(self) -> int: ...

    def close(self, timeout: float = 10.0) -> None: ...


class NullSink:
    """The sink when the prediction log is off: takes nothing, drops nothing."""

    def record(self, entry: LogEntry) -> bool:
        return False

    @property
    def dropped(self) -> int:
        return 0

    @property
    def queue_depth(self) -> int:
        return 0

    def close(self, timeout: float = 10.0) -> None:
        return None


class LoggerSink:
    """Adapts ``loopml.deployments.PredictionLogger`` (records are its PredictionRecord)."""

    def __init__(self, logger: Any, record_type: Any) -> None:
        self._logger = logger
        self._record_type = record_type

    def record(self, entry: LogEntry) -> bool:
        try:
            return bool(
                self._logger.record(
                    self._record_type(
                        request_id=entry.request_id,
                        time_ms=entry.time_ms,
                        deployment=entry.deployment,
                        model_uri=entry.model_uri,
                        model_version=entry.model_version,
                        role=entry.role,
                        inputs=entry.inputs,
                        outputs=entry.outputs,
                        latency_ms=entry.latency_ms,
                        error=entry.error,
                    )
                )
            )
        except Exception:  # the contract says it never raises; the server never trusts that
            log.exception("The prediction log refused a record")
            return False

    @property
    def dropped(self) -> int:
        return int(self._logger.dropped)

    @property
    def queue_depth(self) -> int:
        return int(self._logger.queue_depth)

    def close(self, timeout: float = 10.0) -> None:
        self._logger.close(timeout)
