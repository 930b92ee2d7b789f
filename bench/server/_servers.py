"""Start a tracking server as a subprocess, wait until it answers, stop it for sure.

Each server runs in its own process group (``start_new_session``), so
stopping it reaches everything it forked (uvicorn workers, MLflow's job
runner) and nothing else. Its output goes to a log file under
``bench/.work/``; a server that exits or stays silent past its start-up
timeout raises ``RuntimeError`` with the end of that log.
"""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from _process import log_tail, stop_group

POLL_SECONDS = 0.25


@dataclass(frozen=True)
class Server:
    """A running server: where to reach it and where its output goes."""

    name: str
    url: str  # http://127.0.0.1:<port>
    pid: int
    log: Path
    started_in: float  # seconds from launch to the first healthy answer


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
            stop_group(proc)


def _wait_healthy(
    name: str, proc: subprocess.Popen[bytes], url: str, log: Path, timeout: float
) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} server exited ({proc.returncode}); {log}:\n{log_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"{name} server not healthy after {timeout:.0f} s; {log}:\n{log_tail(log)}")
