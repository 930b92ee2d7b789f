"""What travels to a worker and back: a call, and its outcome, as bytes.

A call is the function and its arguments pickled with cloudpickle (so
closures and functions of ``__main__`` travel by value), together with the
submitter's ``sys.path`` and working directory: a worker started long ago,
or on another node, can then import the modules the submitter imported
(``loopml pipelines run module:pipeline`` adds the current folder to the
path, as ``python -m`` does). These are our own processes exchanging our
own bytes; nothing here reads bytes from anyone else.

An outcome is the function's value, or its exception with the traceback
text; an exception that cannot be pickled comes back as ``ExecutorError``
naming its type and message.
"""

from __future__ import annotations

import os
import pickle
import sys
import traceback
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Self

from loopml.core.errors import InvalidArgument
from loopml.executors._base import Call, ExecutorError, RemoteTraceback, StepTimeout, task_name

# A local worker's answers (see ``_process_worker``): a call started; a call ended.
STARTED = b"S"
DONE = b"D"


@dataclass(eq=False)
class PackedTask:
    """A submitted call on its way to a worker process: its future, bytes and deadline."""

    future: Future[Any]
    blob: bytes
    name: str
    timeout: float | None
    deadline: float | None = None

    @classmethod
    def of(cls, call: Call[Any]) -> Self:
        """The call packed (InvalidArgument if it cannot be pickled), with a new future."""
        return cls(Future(), pack_call(call), call.name, call.timeout)

    def timed_out(self, how: str) -> StepTimeout:
        """The error of a task stopped at its deadline (``how``: what was done to it)."""
        return StepTimeout(
            f"{self.name} ran longer than its timeout of {self.timeout:g} s and was {how}. "
            "Raise the timeout, or make the task faster."
        )


def pack_call(call: Call[Any]) -> bytes:
    """The call as bytes; InvalidArgument if the function or an argument cannot be pickled."""
    import cloudpickle

    fn = call.fn
    try:
        body = cloudpickle.dumps((fn, call.args, call.kwargs), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # pickling raises many types (TypeError, PicklingError...)
        raise InvalidArgument(
            f"Cannot send {task_name(fn)} to a worker: {type(exc).__name__}: {exc}. Pass "
            "values that can be pickled (no open files, locks or connections), or use the "
            "inline executor."
        ) from exc
    return pickle.dumps((list(sys.path), os.getcwd(), body), protocol=pickle.HIGHEST_PROTOCOL)


def load_call(blob: bytes, *, chdir: bool) -> Call[Any] | bytes:
    """The function and arguments of a packed call, or the packed outcome of why not.

    ``chdir`` moves into the submitter's working directory first (local
    workers share the machine; Ray workers may not). Loading imports the
    task's modules, which is why a timeout starts after it.
    """
    try:
        # The call was packed by the executor that started this worker (its own
        # process, or a Ray task it submitted); no outside party writes these bytes.
        path, cwd, body = pickle.loads(blob)  # allow-unsafe: see above
        for entry in reversed(path):
            if entry not in sys.path:
                sys.path.insert(0, entry)
        if chdir and os.path.isdir(cwd):
            os.chdir(cwd)
        fn, args, kwargs = pickle.loads(body)  # allow-unsafe: as above
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        return _failure(
            ExecutorError(
                f"The worker could not load the task: {type(exc).__name__}: {exc}. Its module "
                "must be importable in the worker (same code and packages)."
            )
        )
    return Call(fn, args, kwargs)


def run_loaded(call: Call[Any]) -> bytes:
    """Run a loaded call and pack its outcome (never raises for the call's own errors)."""
    try:
        value = call.fn(*call.args, **call.kwargs)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        return _failure(exc)
    try:
        import cloudpickle

        return pickle.dumps(("ok", cloudpickle.dumps(value)), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        return _failure(
            ExecutorError(
                f"{task_name(call.fn)} returned a {type(value).__name__} that cannot be sent "
                f"back from the worker: {type(exc).__name__}: {exc}."
            )
        )


def run_call(blob: bytes, *, chdir: bool) -> bytes:
    """Load and run a packed call here; its packed outcome."""
    loaded = load_call(blob, chdir=chdir)
    return loaded if isinstance(loaded, bytes) else run_loaded(loaded)


def _failure(exc: BaseException) -> bytes:
    text = "".join(traceback.format_exception(exc))
    try:
        import cloudpickle

        body: bytes | None = cloudpickle.dumps(exc)
    except Exception:
        body = None
    return pickle.dumps(
        ("error", body, text, type(exc).__name__, str(exc)), protocol=pickle.HIGHEST_PROTOCOL
    )


def read_outcome(blob: bytes) -> Any:
    """The value of a packed outcome, or raise its exception (traceback as ``__cause__``).

    The outcome was packed by the worker this executor started for the task.
    """
    message = pickle.loads(blob)  # allow-unsafe: from our own worker process
    if message[0] == "ok":
        return pickle.loads(message[1])  # allow-unsafe: from our own worker process
    _, body, text, type_name, detail = message
    exc: BaseException | None = None
    if body is not None:
        try:
            exc = pickle.loads(body)  # allow-unsafe: from our own worker process
        except Exception:
            exc = None
    if not isinstance(exc, BaseException):
        exc = ExecutorError(f"The task raised {type_name}: {detail}")
    exc.__cause__ = RemoteTraceback(text)
    raise exc
