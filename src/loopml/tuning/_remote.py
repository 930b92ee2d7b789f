"""Trials in worker processes, driven by the study in this process.

Optuna samples in ``trial.suggest_*`` and prunes in ``trial.should_prune``,
both reading the whole study, which lives here. So a worker's trial is a
proxy (``RemoteTrial``): each ``suggest_*``, ``report``, ``should_prune``
and ``set_user_attr`` is one round trip to the ``TrialServer`` of the
process that asked for the trial, which runs it on the real Optuna trial.
Pruning decisions are therefore Optuna's own, taken with every
intermediate value reported so far by every trial; sampling sees the
trials still running, as with Optuna's ``n_jobs``.

The channel is ``multiprocessing.connection`` over TCP with a random key
(HMAC challenge before anything is read): only processes given the key,
ours, can talk to it. It listens on 127.0.0.1 for the local pool and on
this node's address for Ray. Calls into Optuna are serialised with the
tuning loop's ask and tell by one lock.

The objective travels once per worker process, not once per trial: a
trial carries its digest, and a worker that has not seen it asks the
server for the bytes (an objective closing over a dataset is sent once).
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import threading
from collections.abc import Callable
from multiprocessing.connection import Client as Connect
from multiprocessing.connection import Connection, Listener
from typing import Any

import optuna
from optuna.trial import BaseTrial

from loopml.core.errors import InvalidArgument
from loopml.tuning._objective import Objective, Outcome, call_objective
from loopml.tuning._seam import forget_cached_trials, request_stop

_TRIAL_OPS = frozenset(
    {
        "suggest_float",
        "suggest_int",
        "suggest_categorical",
        "suggest_uniform",
        "suggest_loguniform",
        "suggest_discrete_uniform",
        "report",
        "should_prune",
        "set_user_attr",
        "set_constraint",
    }
)
_TRIAL_PROPERTIES = frozenset({"params", "distributions", "user_attrs"})


def pack_objective(objective: Objective, catch: tuple[type[BaseException], ...]) -> bytes:
    """The objective and the exceptions it may raise, as bytes a worker can load."""
    import cloudpickle

    try:
        return bytes(cloudpickle.dumps((objective, catch)))
    except Exception as exc:  # pickling raises many types
        raise InvalidArgument(
            f"The objective cannot be sent to worker processes: {type(exc).__name__}: {exc}. "
            "Use a function whose closure holds picklable values (no open connections, "
            "locks or files), or parallelism=1."
        ) from exc


class TrialServer:
    """Serves the live trials of this process to the workers running them."""

    def __init__(self, study: optuna.Study, lock: threading.Lock, blob: bytes, host: str) -> None:
        self._study = study
        self._lock = lock
        self._blob = blob
        self.digest = hashlib.blake2b(blob, digest_size=16).hexdigest()
        self.authkey = secrets.token_bytes(32)
        self._listener = Listener((host, 0), authkey=self.authkey)
        self.address: tuple[str, int] = self._listener.address
        self._trials: dict[str, optuna.Trial] = {}
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="loopml-trials", daemon=True)
        self._thread.start()

    def open(self, trial: optuna.Trial) -> str:
        """A token a worker uses to reach ``trial``."""
        token = secrets.token_hex(16)
        self._trials[token] = trial
        return token

    def close_trial(self, token: str) -> None:
        self._trials.pop(token, None)

    def close(self) -> None:
        self._closed = True
        self._trials.clear()
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn = self._listener.accept()
            except (OSError, EOFError):
                if self._closed:
                    return
                continue  # a failed handshake (wrong key) costs that caller only
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: Connection) -> None:
        with conn:
            try:
                kind, token, need_objective = conn.recv()
                trial = self._trials.get(token) if kind == "open" else None
                if trial is None:
                    conn.send(("error", "This trial is no longer running in the study."))
                    return
                info = {"number": trial.number, "datetime_start": trial.datetime_start}
                conn.send(("ok", info, self._blob if need_objective else None))
                while True:
                    op, args, kwargs = conn.recv()
                    conn.send(self._call(trial, op, args, kwargs))
            except (EOFError, OSError):
                return  # the worker finished (or died): nothing to answer

    def _call(self, trial: optuna.Trial, op: str, args: Any, kwargs: Any) -> tuple[str, Any]:
        try:
            with self._lock:
                # This thread never asks or tells, so Optuna's per-thread trial cache
                # would go stale: samplers and pruners must see the study as it is.
                forget_cached_trials(self._study)
                if op in _TRIAL_OPS:
                    return "ok", getattr(trial, op)(*args, **kwargs)
                if op in _TRIAL_PROPERTIES:
                    return "ok", getattr(trial, op)
                if op == "stop_study":
                    request_stop(self._study)
                    return "ok", None
            raise InvalidArgument(f"Unknown trial call {op!r}.")
        except Exception as exc:
            return "raise", _sendable(exc)


def _sendable(exc: Exception) -> Exception:
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))  # allow-unsafe: our own bytes, made on the line above
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


class _RemoteStudy:
    """The part of ``trial.study`` an objective may use from a worker: ``stop()``."""

    def __init__(self, call: Callable[..., Any]) -> None:
        self._call = call

    def stop(self) -> None:
        """Start no more trials; those running finish (as ``Study.stop`` does)."""
        self._call("stop_study")


class RemoteTrial(BaseTrial):
    """An Optuna trial whose calls run on the study's process (see the module doc)."""

    def __init__(self, conn: Connection, info: dict[str, Any]) -> None:
        self._conn = conn
        self._number = int(info["number"])
        self._datetime_start = info["datetime_start"]
        self.study = _RemoteStudy(self._call)

    def _call(self, op: str, *args: Any, **kwargs: Any) -> Any:
        self._conn.send((op, args, kwargs))
        status, value = self._conn.recv()
        if status == "raise":
            raise value
        return value

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        return self._call("suggest_float", name, low, high, step=step, log=log)

    def suggest_uniform(self, name: str, low: float, high: float) -> float:
        return self._call("suggest_uniform", name, low, high)

    def suggest_loguniform(self, name: str, low: float, high: float) -> float:
        return self._call("suggest_loguniform", name, low, high)

    def suggest_discrete_uniform(self, name: str, low: float, high: float, q: float) -> float:
        return self._call("suggest_discrete_uniform", name, low, high, q)

    def suggest_int(
        self, name: str, low: int, high: int, *, step: int = 1, log: bool = False
    ) -> int:
        return self._call("suggest_int", name, low, high, step=step, log=log)

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        return self._call("suggest_categorical", name, choices)

    def report(self, value: float, step: int) -> None:
        self._call("report", value, step)

    def should_prune(self) -> bool:
        return bool(self._call("should_prune"))

    def set_user_attr(self, key: str, value: Any) -> None:
        self._call("set_user_attr", key, value)

    def set_constraint(self, key: str, value: float) -> None:
        self._call("set_constraint", key, value)

    @property
    def params(self) -> dict[str, Any]:
        return self._call("params")

    @property
    def distributions(self) -> dict[str, optuna.distributions.BaseDistribution]:
        return self._call("distributions")

    @property
    def user_attrs(self) -> dict[str, Any]:
        return self._call("user_attrs")

    @property
    def datetime_start(self) -> Any:
        return self._datetime_start

    @property
    def number(self) -> int:
        return self._number


# Objectives already loaded in this worker process, by digest.
_LOADED: dict[str, tuple[Objective, tuple[type[BaseException], ...]]] = {}


def run_remote_trial(
    address: tuple[str, int],
    authkey: bytes,
    token: str,
    digest: str,
    n_objectives: int,
    with_model: bool,
) -> Outcome:
    """The body of a trial in a worker: connect, run the objective, return its outcome.

    An exception outside the study's ``catch`` propagates (the executor
    hands it to the study's process, which stops the study).
    """
    import pickle

    with Connect(address, authkey=authkey) as conn:
        conn.send(("open", token, digest not in _LOADED))
        reply = conn.recv()
        if reply[0] != "ok":
            raise InvalidArgument(reply[1])
        _, info, blob = reply
        if blob is not None:
            if len(_LOADED) >= 8:  # a long-lived worker serving many studies
                _LOADED.clear()
            # Sent by the study process that started this worker, over a connection
            # authenticated with the key it handed out (multiprocessing authkey).
            _LOADED[digest] = pickle.loads(blob)  # allow-unsafe: see above
        objective, catch = _LOADED[digest]
        return call_objective(
            objective,
            RemoteTrial(conn, info),
            n_objectives=n_objectives,
            with_model=with_model,
            catch=catch,
        )
