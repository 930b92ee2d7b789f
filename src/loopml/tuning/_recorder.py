"""Finished trials written as runs in bulk, never one round trip per trial.

Finished trials queue here and are written with one ``Client.create_runs``
call when ``max_items`` are waiting or the oldest has waited ``interval``
seconds (the tracking client's flush settings), and on ``flush()``. A study
of a thousand one-millisecond trials is one write; a study of one-minute
trials writes each trial as it ends. Writing happens on the tuning loop's
thread, between trials: a background thread would fight the loop for the
GIL and win nothing.

The queue holds Optuna's own records of the trials (kept by the study
anyway); they become runs only when written, so a fast study does not keep
thousands of run objects alive between writes (which costs the garbage
collector more than building them).

A write that fails keeps its trials queued for the next attempt; ``flush()``
raises the failure. At most ``interval`` seconds of finished trials are lost
if the process is killed outright (``kill -9``); Ctrl-C and exceptions flush.
"""

from __future__ import annotations

import logging
import time

from optuna.trial import FrozenTrial

from loopml.core.errors import LoopmlError
from loopml.tracking import Client
from loopml.tuning._records import trial_to_run, value_keys

log = logging.getLogger("loopml.tuning")

MAX_TRIALS_PER_WRITE = 1000

# A finished trial, why it failed (message, traceback) and whether Ctrl-C cut it short.
_Finished = tuple[FrozenTrial, str | None, str | None, bool]


class TrialRecorder:
    """Queues finished trials and writes them, as child runs of the study's run, in bulk."""

    def __init__(
        self,
        client: Client,
        experiment_id: str,
        *,
        parent_run_id: str,
        user_id: str,
        n_objectives: int,
        max_items: int | None = None,
        interval: float | None = None,
    ) -> None:
        self._client = client
        self._experiment_id = experiment_id
        self._parent_run_id = parent_run_id
        self._user_id = user_id
        self._value_names = value_keys(n_objectives)
        settings = client.settings
        self._max_items = max(1, min(max_items or settings.flush_max_items, MAX_TRIALS_PER_WRITE))
        self._interval = settings.flush_interval_seconds if interval is None else interval
        self._pending: list[_Finished] = []
        self._oldest = 0.0
        self._error: LoopmlError | None = None
        self.run_ids: dict[int, str] = {}

    @property
    def client(self) -> Client:
        return self._client

    @property
    def parent_run_id(self) -> str:
        """The study's run: every trial's run is its child."""
        return self._parent_run_id

    @property
    def pending(self) -> int:
        """Trials finished but not yet written."""
        return len(self._pending)

    def add(
        self,
        trial: FrozenTrial,
        fail_reason: str | None = None,
        traceback_text: str | None = None,
        killed: bool = False,
    ) -> None:
        """Queue a finished trial; write the queue if it is full or old enough."""
        if not self._pending:
            self._oldest = time.monotonic()
        self._pending.append((trial, fail_reason, traceback_text, killed))
        if (
            len(self._pending) >= self._max_items
            or time.monotonic() - self._oldest >= self._interval
        ):
            self._write()

    def flush(self) -> None:
        """Write every queued trial now; raise the last write failure, if any."""
        self._write()
        if self._pending and self._error is not None:
            error, self._error = self._error, None
            raise error

    def _write(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_items]
            runs = [
                trial_to_run(
                    trial,
                    parent_run_id=self._parent_run_id,
                    value_names=self._value_names,
                    user_id=self._user_id,
                    fail_reason=reason,
                    traceback_text=text,
                    killed=killed,
                )
                for trial, reason, text, killed in batch
            ]
            try:
                ids = self._client.create_runs(self._experiment_id, runs)
            except LoopmlError as exc:
                # Kept for the next attempt; flush() raises it if it is still failing.
                log.warning("loopml: could not write %d trial runs yet: %s", len(batch), exc)
                self._error = exc
                self._oldest = time.monotonic()
                return
            self._error = None
            del self._pending[: len(batch)]
            self.run_ids.update(zip((item[0].number for item in batch), ids, strict=True))
