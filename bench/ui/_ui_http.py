"""Timing HTTP requests from a client on loopback: the server's time for a page.

One keep-alive connection per server, the same client code for loopml and
MLflow: a figure is the request's wall time from sending it to having read the
whole body, the median of ``repeat`` after ``warmup`` untimed requests. A
server that sends a ``Server-Timing`` header has its own figure kept beside it.
"""

from __future__ import annotations

import http.client
import re
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 120.0
_DUR = re.compile(r"(?:^|;)\s*dur=([0-9.]+)")


@dataclass(frozen=True)
class Request:
    """One request a page (or the page's script) makes."""

    label: str
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Timing:
    """A request's figures in ms, and the last answer (for the checks of its content)."""

    label: str
    median_ms: float
    min_ms: float
    max_ms: float
    response_bytes: int
    server_timing_ms: float | None  # median of the header's figure; None: no header
    body: bytes = field(repr=False)


class Client:
    """A keep-alive HTTP/1.1 connection to one server on loopback."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port
        self._conn = self._connect()
        self.reconnects = 0

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self._host, self._port, timeout=TIMEOUT_SECONDS)

    def close(self) -> None:
        self._conn.close()

    def send(self, request: Request) -> tuple[float, bytes, float | None]:
        """(seconds, body, Server-Timing ms or None); a status other than 200 raises.

        A connection the server dropped (a worker restarted, an idle timeout) is opened
        again and the request sent once more; that attempt's time is the one kept.
        """
        try:
            return self._send(request)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self._conn.close()
            self._conn = self._connect()
            self.reconnects += 1
            return self._send(request)

    def _send(self, request: Request) -> tuple[float, bytes, float | None]:
        headers = {"Accept-Encoding": "identity", **request.headers}
        if request.body is not None:
            headers.setdefault("Content-Type", "application/json")
        start = time.perf_counter()
        self._conn.request(request.method, request.path, body=request.body, headers=headers)
        response = self._conn.getresponse()
        body = response.read()
        seconds = time.perf_counter() - start
        if response.status != 200:
            raise RuntimeError(
                f"{request.label}: {request.method} {request.path[:200]} answered "
                f"{response.status}: {body[:300]!r}"
            )
        return seconds, body, _server_timing(response.getheader("Server-Timing"))

    def time(self, request: Request, warmup: int, repeat: int) -> Timing:
        """The request's median wall time over ``repeat`` runs after ``warmup`` runs."""
        body = b""
        for _ in range(warmup):
            _, body, _ = self.send(request)
        samples: list[float] = []
        server: list[float] = []
        for _ in range(repeat):
            seconds, body, reported = self.send(request)
            samples.append(seconds * 1000)
            if reported is not None:
                server.append(reported)
        return Timing(
            label=request.label,
            median_ms=statistics.median(samples),
            min_ms=min(samples),
            max_ms=max(samples),
            response_bytes=len(body),
            server_timing_ms=statistics.median(server) if server else None,
            body=body,
        )


def _server_timing(header: str | None) -> float | None:
    """The ``total`` metric's ``dur`` of a Server-Timing header, else the sum of them all."""
    if not header:
        return None
    durations: dict[str, float] = {}
    for metric in header.split(","):
        name = metric.split(";", 1)[0].strip()
        found = _DUR.search(metric)
        if found:
            durations[name] = float(found.group(1))
    if not durations:
        return None
    return durations.get("total", sum(durations.values()))
