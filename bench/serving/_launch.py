"""Start a model server, time it to its first successful prediction, stop it for sure.

Cold start is measured the way a caller feels it: from just before the
process is spawned to the first ``200`` answer to a real ``POST
/invocations`` (not a health probe, which some servers answer before the
model is loaded). The poll is fine-grained (``POLL_SECONDS``) because a fast
server starts in about a second, where a coarse poll would be a large error.

Each server runs in its own process group (``start_new_session``), so
stopping it reaches everything it forked (MLflow's ``uvicorn`` child,
uvicorn workers) and nothing else. Its output goes to a log file; a server
that exits or stays unready past its timeout raises ``RuntimeError`` with
the end of that log.
"""

from __future__ import annotations

import http.client
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from _process import log_tail, start_group, stop_group

POLL_SECONDS = 0.02


@dataclass(frozen=True)
class Server:
    """A running model server: where to reach it and how long it took to answer."""

    name: str
    host: str
    port: int
    pid: int
    log: Path
    cold_start: float  # seconds from spawn to the first 200 on POST /invocations


@contextmanager
def serve(
    name: str,
    cmd: list[str],
    *,
    port: int,
    body: bytes,
    env: dict[str, str],
    cwd: Path,
    log: Path,
    timeout: float,
) -> Iterator[Server]:
    """Run ``cmd`` (a server on ``port``) for the block; ``body`` is the probe request."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        start = time.monotonic()
        proc = start_group(cmd, cwd=cwd, env=env, out=out)
        try:
            cold = _wait_first_prediction(name, proc, port, body, log, start, timeout)
            yield Server(name, "127.0.0.1", port, proc.pid, log, cold)
        finally:
            stop_group(proc)


def _wait_first_prediction(
    name: str,
    proc: subprocess.Popen[bytes],
    port: int,
    body: bytes,
    log: Path,
    start: float,
    timeout: float,
) -> float:
    last = "no answer"
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited ({proc.returncode}); {log}:\n{log_tail(log)}")
        status = _post(port, body)
        if status == 200:
            return time.monotonic() - start
        if status is not None:
            last = f"HTTP {status}"
        time.sleep(POLL_SECONDS)
    raise RuntimeError(
        f"{name}: no 200 on /invocations after {timeout:.0f} s ({last}); {log}:\n{log_tail(log)}"
    )


def _post(port: int, body: bytes) -> int | None:
    """The status of one ``POST /invocations``; ``None`` while nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(
            "POST", "/invocations", body=body, headers={"Content-Type": "application/json"}
        )
        response = conn.getresponse()
        response.read()
        return response.status
    except (ConnectionError, TimeoutError, http.client.HTTPException, OSError):
        return None
    finally:
        conn.close()
