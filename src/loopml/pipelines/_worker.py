"""One attempt of one step, wherever the executor runs it.

``execute_step`` resumes the step's child run (created by the runner), makes
it the active run (so ``lm.log_metric`` inside the step logs to it), loads
the inputs, calls the function with its output captured, stores the
outputs and uploads the log. It never raises for the step's own failure: it
returns a ``StepOutcome`` saying what happened, and the runner decides
about retries. The run ends FINISHED, or FAILED for this attempt (a retry
sets it RUNNING again, as resuming a run does in MLflow).

In a worker process the tracking settings of the runner are applied first
(URI, object store, home), since a worker may have started before them.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loopml.core.errors import InvalidArgument
from loopml.pipelines import _tags as tags
from loopml.pipelines._build import Value
from loopml.pipelines._capture import captured
from loopml.pipelines._formats import UnstorableOutput
from loopml.pipelines._outputs import StoredOutput, load_output, store_outputs
from loopml.pipelines._step import Step
from loopml.store import RunStatus, RunTag
from loopml.tracking import Client, get_client, set_tracking_uri, start_run

_applied: dict[str, str] = {}


@dataclass(frozen=True)
class Input:
    """An argument that is a stored output of an upstream step."""

    output: StoredOutput
    allow_pickle: bool  # the producing step's permission (its outputs may be pickles)
    where: str


@dataclass(frozen=True)
class StepTask:
    """Everything one attempt needs, sent to the executor."""

    step: Step
    node: str
    run_id: str
    args: tuple[Value | Input, ...]
    kwargs: dict[str, Value | Input]
    attempt: int
    attempts: int
    environment: dict[str, str]
    origin_pid: int
    log_path: str


@dataclass(frozen=True)
class StepOutcome:
    """What an attempt did: its outputs, or its error and whether retrying may help."""

    ok: bool
    outputs: dict[str, StoredOutput] = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None
    retryable: bool = True


class _Failed(Exception):
    """Ends the step's run block as FAILED (its ``with`` marks the run so)."""


def execute_step(task: StepTask) -> StepOutcome:
    """Run one attempt of a step in its child run; see the module docstring."""
    in_worker = os.getpid() != task.origin_pid
    if in_worker:
        _apply(task.environment)
    client = get_client()
    log = _log_file(task)
    outcome = StepOutcome(ok=False)
    with captured(log, descriptors=in_worker):
        if task.attempt > 1:
            print(f"--- attempt {task.attempt} of {task.attempts} ---", flush=True)
        try:
            with start_run(run_id=task.run_id, nested=True):
                client.log_batch(
                    task.run_id,
                    tags=[RunTag(tags.STATUS, RunStatus.RUNNING), _attempt_tag(task)],
                )
                outcome = _attempt(client, task)
                if not outcome.ok:
                    raise _Failed()
        except _Failed:
            pass
    _finish(client, task, log, outcome)
    return outcome


def _attempt(client: Client, task: StepTask) -> StepOutcome:
    step = task.step
    started = time.monotonic()
    try:
        args = [_value(client, a) for a in task.args]
        kwargs = {k: _value(client, v) for k, v in task.kwargs.items()}
        result = step.fn(*args, **kwargs)
        values = _split(step, task.node, result)
        outputs = store_outputs(
            client, task.run_id, values, step=task.node, allow_pickle=step.options.allow_pickle
        )
    except (Exception, SystemExit) as exc:
        text = "".join(traceback.format_exception(exc))
        print(text, end="", file=sys.stderr, flush=True)
        return StepOutcome(
            ok=False,
            error=f"{type(exc).__name__}: {exc}",
            traceback=text,
            retryable=not isinstance(exc, UnstorableOutput | _BadReturn),
        )
    print(f"step {task.node!r} finished in {time.monotonic() - started:.3f} s", flush=True)
    client.log_batch(
        task.run_id,
        tags=[
            RunTag(tags.OUTPUTS, _outputs_tag(outputs)),
            RunTag(tags.STATUS, RunStatus.FINISHED),
        ],
    )
    return StepOutcome(ok=True, outputs=outputs)


class _BadReturn(InvalidArgument):
    """The step returned something other than its declared outputs (retrying won't help)."""


def _split(step: Step, node: str, result: Any) -> dict[str, Any]:
    names = step.options.outputs
    if len(names) == 1:
        return {names[0]: result}
    if not isinstance(result, tuple | list) or len(result) != len(names):
        got = f"{len(result)} values" if isinstance(result, tuple | list) else "one value"
        raise _BadReturn(
            f"Step {node!r} declares the outputs {list(names)} but returned {got} "
            f"({type(result).__name__}): return a tuple of {len(names)} values in that order."
        )
    return dict(zip(names, result, strict=True))


def _value(client: Client, arg: Value | Input) -> Any:
    if isinstance(arg, Value):
        return arg.value
    return load_output(client, arg.output, allow_pickle=arg.allow_pickle, where=arg.where)


def _outputs_tag(outputs: Mapping[str, StoredOutput]) -> str:
    text = json.dumps({k: v.summary() for k, v in outputs.items()}, separators=(",", ":"))
    return tags.tail(text)


def _attempt_tag(task: StepTask) -> RunTag:
    return RunTag(tags.ATTEMPTS, str(task.attempt))


def _finish(client: Client, task: StepTask, log: Path, outcome: StepOutcome) -> None:
    """Upload the log (and the traceback of a failure); tags may go on an ended run."""
    if log.exists():
        with open(log, "rb") as stream:
            client.log_artifact_stream(task.run_id, stream, tags.LOG_FILE)
        if str(log) != task.log_path:
            log.unlink()
    if not outcome.ok:
        client.log_text(task.run_id, outcome.traceback or "", tags.TRACEBACK_FILE)
        client.log_batch(
            task.run_id,
            tags=[
                RunTag(tags.STATUS, RunStatus.FAILED),
                RunTag(tags.ERROR, tags.tail(outcome.error or "", 1000)),
                RunTag(tags.TRACEBACK, tags.tail(outcome.traceback or "")),
            ],
        )


def _log_file(task: StepTask) -> Path:
    # The runner's path when it is on this machine (it can then upload a partial log
    # of a step killed at its timeout); a private temporary file elsewhere (Ray nodes).
    wanted = Path(task.log_path)
    if wanted.parent.is_dir():
        return wanted
    fd, name = tempfile.mkstemp(prefix="loopml-step-", suffix=".log")
    os.close(fd)
    return Path(name)


def _apply(environment: Mapping[str, str]) -> None:
    """Use the runner's tracking settings in this worker process (once per change)."""
    global _applied
    if environment == _applied:
        return
    os.environ.update(environment)
    set_tracking_uri(environment["LOOPML_TRACKING_URI"])
    _applied = dict(environment)


def runner_environment(client: Client) -> dict[str, str]:
    """The settings a worker needs to write where the runner does."""
    settings = client.settings
    environment = {
        "LOOPML_TRACKING_URI": client.tracking_uri,
        "LOOPML_HOME": str(settings.home),
        "LOOPML_OBJECT_STORE_OPTIONS": json.dumps(settings.object_store_options),
    }
    if not client.is_remote:
        environment["LOOPML_OBJECT_STORE_URI"] = client.object_store_uri
    return environment
