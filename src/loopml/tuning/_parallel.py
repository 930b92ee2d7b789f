"""Trials ``parallelism`` at a time on the local process pool or on Ray.

This process asks Optuna for each trial and tells it the outcome (Optuna's
ask-and-tell), so the study and the recorder stay here; the objective runs
in a worker behind a ``RemoteTrial``. A trial past ``trial_timeout`` is
killed and FAILS with ``StepTimeout``; a worker that dies fails its trial
and the study goes on. An exception outside ``catch``, or Ctrl-C, stops the
study: running trials are killed and recorded as FAIL (runs KILLED), the
exception propagates.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait

import optuna
from optuna.trial import TrialState

from loopml.executors import ExecutorError, StepTimeout, get_executor
from loopml.tuning._objective import Outcome, describe
from loopml.tuning._remote import TrialServer, run_remote_trial
from loopml.tuning._seam import stop_requested
from loopml.tuning._session import INTERRUPTED, Limits, Session

POLL_SECONDS = 0.5  # how often the loop wakes while trials run (Ctrl-C, stop requests)


def run_parallel(
    session: Session,
    blob: bytes,
    limits: Limits,
    executor_kind: str,
    workers: int,
    trial_timeout: float | None,
    resources: Mapping[str, float] | None,
) -> None:
    """Run trials on ``workers`` workers of the ``executor_kind`` executor."""
    executor = get_executor(executor_kind, max_workers=workers)
    server = TrialServer(session.study, session.lock, blob, _listen_host(executor_kind))
    running: dict[Future[Outcome], tuple[optuna.Trial, str]] = {}
    started, since = 0, time.monotonic()
    study = session.study
    try:
        while True:
            while (
                len(running) < workers
                and not stop_requested(study)
                and not limits.exhausted(started, since)
            ):
                with session.lock:
                    trial = study.ask()
                started += 1
                token = server.open(trial)
                future = executor.submit(
                    run_remote_trial,
                    server.address,
                    server.authkey,
                    token,
                    server.digest,
                    session.n_objectives,
                    session.keep_model,
                    timeout=trial_timeout,
                    resources=resources,
                )
                running[future] = (trial, token)
            if not running:
                return
            done, _ = wait(running, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                trial, token = running.pop(future)
                server.close_trial(token)
                try:
                    outcome = _outcome(future, trial_timeout)
                except BaseException as exc:  # raised past `catch`: this trial fails first
                    with session.lock:
                        session.fail_running(trial, exc)
                    raise
                with session.lock:
                    session.finish(trial, outcome)
    except BaseException as exc:
        reason = INTERRUPTED if isinstance(exc, KeyboardInterrupt) else _stopped_by(exc)
        for future, (trial, _) in running.items():
            future.cancel()
            with session.lock:
                session.finish(trial, Outcome(TrialState.FAIL, fail_reason=reason), killed=True)
        raise
    finally:
        server.close()
        executor.shutdown(kill=True)


def _outcome(future: Future[Outcome], trial_timeout: float | None) -> Outcome:
    """The trial's outcome; an executor failure fails the trial, others propagate."""
    try:
        return future.result()
    except StepTimeout as exc:
        reason, text = describe(exc)
        return Outcome(
            TrialState.FAIL,
            fail_reason=f"{reason} (trial_timeout={trial_timeout} s)",
            traceback=text,
        )
    except ExecutorError as exc:  # the worker died, or the objective could not be loaded
        reason, text = describe(exc)
        return Outcome(TrialState.FAIL, fail_reason=reason, traceback=text)


def _stopped_by(exc: BaseException) -> str:
    return f"Stopped: the study ended with {type(exc).__name__}: {exc}"


def _listen_host(executor_kind: str) -> str:
    if executor_kind != "ray":
        return "127.0.0.1"
    import ray

    # Ray workers may run on other nodes: listen where they can reach this process.
    return str(ray.util.get_node_ip_address())
