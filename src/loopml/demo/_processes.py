"""The demo's two servers as child processes: started on free loopback ports, stopped cleanly.

Each child runs the ``loopml`` CLI with the demo's own environment (its
``LOOPML_HOME``), writes its output to a log file in the demo folder and
gets a session of its own, so a Ctrl-C in the terminal reaches the demo,
which then stops its children in order (SIGTERM, then SIGKILL after a grace
period) rather than leaving them half-stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from loopml.core.errors import InvalidState

# The CLI's entry point, run by this interpreter (the `loopml` script may not be on PATH).
# A child whose demo died without stopping it (SIGKILL, a CI timeout) stops itself: a
# thread sees its parent change, sends itself SIGTERM (uvicorn's graceful shutdown) and,
# should that hang, exits 20 s later.
_CLI = """\
import os, signal, sys, threading, time
parent = os.getppid()
def _watch():
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(20.0)
    os._exit(1)
threading.Thread(target=_watch, name="loopml-demo-orphan-watch", daemon=True).start()
from loopml._entry import main
sys.argv[0] = "loopml"
main()
"""
STOP_GRACE_SECONDS = 15.0


def free_port() -> int:
    """A TCP port free on loopback right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ChildServer:
    """A running ``loopml`` server process: its name, URL, log file and process."""

    name: str
    url: str
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def log_tail(self, chars: int = 2000) -> str:
        """The end of the child's output, for an error message."""
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM the child, wait for it, SIGKILL it if it does not stop in time."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_child(
    name: str,
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    port: int,
    ready_path: str,
    log: Path,
    timeout: float = 90.0,
) -> ChildServer:
    """Start ``loopml ARGS`` and wait until ``GET ready_path`` answers 200.

    InvalidState (with the end of the child's log) if it exits or is not ready
    within ``timeout`` seconds; the child is stopped then.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", _CLI, *args],
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    child = ChildServer(name, f"http://127.0.0.1:{port}", log, process)
    deadline = time.monotonic() + timeout
    try:
        while not _ready(child.url + ready_path):
            if process.poll() is not None:
                raise InvalidState(f"The {name} exited at start:\n{child.log_tail()}")
            if time.monotonic() > deadline:
                raise InvalidState(
                    f"The {name} was not ready in {timeout:.0f} s:\n{child.log_tail()}"
                )
            time.sleep(0.2)
    except BaseException:
        child.stop()
        raise
    return child


def _ready(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(url, timeout=2.0).status_code == 200
    return False


def child_environment(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment minus loopml's and MLflow's settings, plus the demo's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOPML_", "MLFLOW_"))}
    env["LOOPML_HOME"] = str(home)
    env.update(extra or {})
    return env
