"""Start a tracking server as a subprocess, wait until it answers, stop it for sure.

Each server runs in its own process group (``start_new_session``), so
stopping it reaches everything it forked (uvicorn workers, MLflow's job
runner) and nothing else. Its output goes to a log file under
``bench/.work/``; a server that exits or stays silent past its start-up
timeout raises ``RuntimeError`` with the end of that log.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

POLL_SECONDS = 0.25
STOP_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class Server:
    """A running server: where to reach it and where its output goes."""

    name: str
    url: str  # http://127.0.0.1:<port>
    pid: int
    log: Path
    started_in: float  # seconds from launch to the first healthy answer


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(
    name: str,
    cmd: list[str],
    *,
    port: int,
    health_path: str,
    env: dict[str, str],
    cwd: Path,
    log: Path,
    timeout: float,
) -> Iterator[Server]:
    """Run ``cmd`` (a server on ``port``) for the duration of the block."""
    log.parent.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            started_in = _wait_healthy(name, proc, url + health_path, log, timeout)
            yield Server(name=name, url=url, pid=proc.pid, log=log, started_in=started_in)
        finally:
            _stop(proc)


def _wait_healthy(
    name: str, proc: subprocess.Popen[bytes], url: str, log: Path, timeout: float
) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} server exited ({proc.returncode}); {log}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"{name} server not healthy after {timeout:.0f} s; {log}:\n{_tail(log)}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    # The group id is the server's pid (a new session): only what it started.
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; give its children the same grace, then force them.
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while time.monotonic() < deadline and _group_alive(proc.pid):
            time.sleep(POLL_SECONDS)
        if not _group_alive(proc.pid):
            return


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
