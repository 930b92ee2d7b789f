"""The load generator: single-row predictions against one model server.

Runs in the project venv, in its own process, so the server and the load
share no interpreter. The same bytes go to both servers: ``POST
/invocations`` with ``{"dataframe_split": {"columns": [...], "data": [row]}}``,
cycling through the distinct rows of ``requests.json``.

    load_side.py latency    PORT REQUESTS_JSON OUT_JSON REQUESTS
    load_side.py throughput PORT REQUESTS_JSON OUT_JSON CONNECTIONS START_AT DURATION

latency
    One keep-alive ``http.client`` connection. First each distinct row once
    (warm-up, untimed; its answers are kept to check the predictions), then
    REQUESTS sequential requests, each timed from send to the last byte of
    the answer. Writes the sorted seconds, the predictions, how many
    connections were opened (1 means keep-alive held) and any non-200.

throughput
    CONNECTIONS keep-alive connections on one asyncio (uvloop) loop, each
    sending its next request as soon as the answer arrives. Requests start at
    once (warm-up); only answers that complete inside the window
    [START_AT, START_AT + DURATION] (wall clock, so several processes share
    it) are counted, 200s and others apart. The client is a minimal HTTP/1.1
    reader (status line, Content-Length or chunked body): a full client
    library costs more CPU per request than a fast server does, and would
    measure itself. The process's CPU time inside the window is reported, to
    show the client is not the bottleneck.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import sys
import time
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"


def bodies(requests_file: Path) -> list[bytes]:
    """One JSON body per distinct row of ``requests.json``."""
    spec = json.loads(requests_file.read_text())
    return [
        json.dumps({"dataframe_split": {"columns": spec["columns"], "data": [row]}}).encode()
        for row in spec["rows"]
    ]


def latency(port: int, payloads: list[bytes], requests: int) -> dict[str, Any]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    headers = {"Content-Type": "application/json"}
    sockets: set[int] = set()
    bad: dict[str, int] = {}

    def send(body: bytes) -> bytes:
        conn.request("POST", "/invocations", body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if conn.sock is not None:
            sockets.add(id(conn.sock))
        if response.status != 200:
            bad[str(response.status)] = bad.get(str(response.status), 0) + 1
        return data

    predictions = [json.loads(send(body)).get("predictions") for body in payloads]
    seconds = []
    for i in range(requests):
        body = payloads[i % len(payloads)]
        start = time.perf_counter()
        send(body)
        seconds.append(time.perf_counter() - start)
    conn.close()
    return {
        "seconds": sorted(seconds),
        "predictions": predictions,
        "connections_opened": len(sockets),
        "non_200": bad,
    }


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one whole answer; return its status and whether the server keeps the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, chunked, keep = 0, False, True
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value)
        elif key == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif key == b"connection":
            keep = b"close" not in value.lower()
    if not chunked:
        await reader.readexactly(length)
        return status, keep
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        await reader.readexactly(size + 2)
        if size == 0:
            return status, keep


async def _client(
    port: int, requests: list[bytes], offset: int, start_at: float, end_at: float
) -> tuple[int, int, int]:
    ok = other = reconnects = 0
    reader, writer = await asyncio.open_connection(HOST, port)
    i = offset
    while time.time() < end_at:
        writer.write(requests[i % len(requests)])
        i += 1
        status, keep = await _read_response(reader)
        now = time.time()
        if start_at <= now <= end_at:
            if status == 200:
                ok += 1
            else:
                other += 1
        if not keep:
            writer.close()
            reconnects += 1
            reader, writer = await asyncio.open_connection(HOST, port)
    writer.close()
    return ok, other, reconnects


async def _throughput(
    port: int, payloads: list[bytes], connections: int, start_at: float, duration: float
) -> dict[str, Any]:
    requests = [
        (
            f"POST /invocations HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        for body in payloads
    ]
    end_at = start_at + duration
    cpu_start: float | None = None

    async def mark_cpu() -> None:
        nonlocal cpu_start
        await asyncio.sleep(max(0.0, start_at - time.time()))
        cpu_start = time.process_time()

    marker = asyncio.create_task(mark_cpu())
    late = time.time() > start_at
    results = await asyncio.gather(
        *(_client(port, requests, c * 7, start_at, end_at) for c in range(connections))
    )
    await marker
    cpu = time.process_time() - (cpu_start or 0.0)
    return {
        "ok": sum(r[0] for r in results),
        "non_200": sum(r[1] for r in results),
        "reconnects": sum(r[2] for r in results),
        "window_s": duration,
        "client_cpu_s": cpu,
        "started_late": late,
    }


def main() -> None:
    mode, port, requests_file, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
    payloads = bodies(requests_file)
    if mode == "latency":
        result = latency(port, payloads, int(sys.argv[5]))
    else:
        connections, start_at, duration = int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
        try:
            import uvloop  # a faster loop: less client CPU per request

            runner: Any = uvloop.run
        except ImportError:
            runner = asyncio.run
        result = runner(_throughput(port, payloads, connections, start_at, duration))
    Path(out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
