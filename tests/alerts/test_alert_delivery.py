"""Alert delivery against real HTTP receivers on loopback."""

from __future__ import annotations

import hashlib
import hmac
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest

from loopml.alerts._delivery import (
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Delivery,
    deliver,
    deliver_all,
    sign,
    slack_body,
    verify_signature,
    webhook_body,
)
from loopml.alerts._destinations import Destination, parse_destination

SECRET = "receiver-shared-secret-0123456789"
EVENT = {
    "id": 42,
    "rule": "accuracy-low",
    "monitor": "fraud-daily",
    "deployment": "fraud",
    "metric": "accuracy",
    "value": 0.72,
    "condition": "accuracy < 0.8 for 2 consecutive windows",
    "window_start": 1_764_000_000_000,
    "window_end": 1_764_086_400_000,
    "time": 1_764_086_401_000,
    "message": "accuracy is 0.72 (< 0.8) for 2 consecutive windows of monitor fraud-daily",
}


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A loopback HTTP server answering POSTs with a script of replies (the last repeats)."""

    def __init__(self, replies: list[Reply], verify: bool = False) -> None:
        self.replies = replies
        self.verify = verify
        self.seen: list[Seen] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                index = len(receiver.seen)
                receiver.seen.append(Seen(self.path, headers, body))
                reply = receiver.replies[min(index, len(receiver.replies) - 1)]
                if reply.delay:
                    receiver.release.wait(reply.delay)
                status = reply.status
                if receiver.verify and not verify_signature(
                    SECRET,
                    body,
                    headers.get(TIMESTAMP_HEADER.lower(), ""),
                    headers.get(SIGNATURE_HEADER.lower(), ""),
                ):
                    status = 401
                try:
                    self.send_response(status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the client gave up (a timeout test)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(*replies: Reply, verify: bool = False) -> Receiver:
        started.append(Receiver(list(replies) or [Reply()], verify))
        return started[-1]

    yield start
    for server in started:
        server.close()


class Waits:
    """A fake ``sleep`` that records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _hook(url: str, secret: str | None = SECRET) -> Destination:
    return parse_destination("webhook", url, secret)


def test_signed_webhook_is_verified_by_the_receiver(receiver: Callable[..., Receiver]) -> None:
    server = receiver(Reply(200), verify=True)
    result = deliver(_hook(server.url()), EVENT, allow_private=True)
    assert result == Delivery("webhook", server.url(), True, 1, 200, None)
    [seen] = server.seen
    assert orjson.loads(seen.body) == EVENT
    assert seen.body == webhook_body(EVENT)
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["user-agent"] == "loopml-alerts/1"
    assert seen.headers[EVENT_HEADER.lower()] == "42"
    assert seen.headers[SIGNATURE_HEADER.lower()].startswith("sha256=")
    assert SECRET not in repr(result.to_dict())


def test_wrong_secret_is_rejected_by_the_receiver(receiver: Callable[..., Receiver]) -> None:
    server = receiver(Reply(200), verify=True)
    result = deliver(_hook(server.url(), "another-secret-of-16+chars"), EVENT, allow_private=True)
    assert (result.ok, result.status, result.attempts) == (False, 401, 1)


def test_unsigned_webhook_has_no_signature(receiver: Callable[..., Receiver]) -> None:
    server = receiver(Reply(204))
    result = deliver(_hook(server.url(), None), EVENT, allow_private=True)
    assert (result.ok, result.status) == (True, 204)
    assert SIGNATURE_HEADER.lower() not in server.seen[0].headers
    assert server.seen[0].headers[TIMESTAMP_HEADER.lower()].isdigit()


def test_503_twice_then_200_retries_with_exponential_backoff(
    receiver: Callable[..., Receiver],
) -> None:
    server = receiver(Reply(503), Reply(503), Reply(200))
    waits = Waits()
    result = deliver(_hook(server.url()), EVENT, allow_private=True, backoff=0.5, sleep=waits)
    assert (result.ok, result.attempts, result.status, result.error) == (True, 3, 200, None)
    assert len(server.seen) == 3
    assert len(waits.waits) == 2
    assert 0.5 <= waits.waits[0] <= 0.55
    assert 1.0 <= waits.waits[1] <= 1.1
    # Every attempt carries its own valid signature.
    for seen in server.seen:
        stamp = seen.headers[TIMESTAMP_HEADER.lower()]
        assert verify_signature(SECRET, seen.body, stamp, seen.headers[SIGNATURE_HEADER.lower()])


def test_retries_stop_after_the_limit(receiver: Callable[..., Receiver]) -> None:
    server = receiver(Reply(500, body=b"boom"))
    waits = Waits()
    result = deliver(_hook(server.url()), EVENT, allow_private=True, retries=2, sleep=waits)
    assert (result.ok, result.attempts, result.status) == (False, 3, 500)
    assert result.error == "HTTP 500: boom (3 attempts)"
    assert len(server.seen) == 3
    assert len(waits.waits) == 2


def test_400_is_not_retried(receiver: Callable[..., Receiver]) -> None:
    server = receiver(Reply(400, body=b"invalid_payload"), Reply(200))
    waits = Waits()
    result = deliver(_hook(server.url()), EVENT, allow_private=True, sleep=waits)
    assert (result.ok, result.attempts, result.status) == (False, 1, 400)
    assert result.error == "HTTP 400: invalid_payload"
    assert len(server.seen) == 1
    assert waits.waits == []


def test_timeout_is_reported_and_retried(receiver: Callable[..., Receiver]) -> None:
    server = receiver(Reply(200, delay=5.0))
    waits = Waits()
    result = deliver(
        _hook(server.url()), EVENT, allow_private=True, timeout=0.3, retries=1, sleep=waits
    )
    assert (result.ok, result.attempts, result.status) == (False, 2, None)
    assert result.error is not None
    assert "timeout" in result.error
    assert "2 attempts" in result.error
    assert len(waits.waits) == 1


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(429, {"Retry-After": "7"}), 7.0),
        (Reply(503, {"Retry-After": "2.5"}), 2.5),
        (Reply(429, {"Retry-After": "3600"}), 30.0),
        (Reply(429, {"Retry-After": "0"}), 0.0),
    ],
)
def test_retry_after_is_honoured_and_capped(
    receiver: Callable[..., Receiver], reply: Reply, expected: float
) -> None:
    server = receiver(reply, Reply(200))
    waits = Waits()
    result = deliver(_hook(server.url()), EVENT, allow_private=True, sleep=waits)
    assert (result.ok, result.attempts) == (True, 2)
    assert waits.waits == [expected]


def test_unparseable_retry_after_falls_back_to_backoff(receiver: Callable[..., Receiver]) -> None:
    server = receiver(Reply(429, {"Retry-After": "soon"}), Reply(200))
    waits = Waits()
    result = deliver(_hook(server.url()), EVENT, allow_private=True, backoff=0.2, sleep=waits)
    assert result.ok
    assert 0.2 <= waits.waits[0] <= 0.22


def test_redirect_is_not_followed(receiver: Callable[..., Receiver]) -> None:
    server = receiver(Reply(302, {"Location": "http://169.254.169.254/latest/"}), Reply(200))
    waits = Waits()
    result = deliver(_hook(server.url()), EVENT, allow_private=True, sleep=waits)
    assert (result.ok, result.attempts, result.status) == (False, 1, 302)
    assert result.error is not None
    assert "redirects are not followed" in result.error
    assert len(server.seen) == 1
    assert waits.waits == []


def test_private_receiver_refused_without_permission(
    receiver: Callable[..., Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = receiver(Reply(200))
    monkeypatch.delenv("LOOPML_ALERTS_ALLOW_PRIVATE", raising=False)
    refused = deliver(_hook(server.url()), EVENT)
    assert (refused.ok, refused.attempts, refused.status) == (False, 0, None)
    assert refused.error is not None
    assert "LOOPML_ALERTS_ALLOW_PRIVATE=true" in refused.error
    assert server.seen == []
    monkeypatch.setenv("LOOPML_ALERTS_ALLOW_PRIVATE", "true")
    assert deliver(_hook(server.url()), EVENT).ok
    assert len(server.seen) == 1


def test_metadata_address_is_refused_even_when_private_allowed() -> None:
    result = deliver(_hook("http://169.254.169.254/latest/meta-data/"), EVENT, allow_private=True)
    assert (result.ok, result.attempts) == (False, 0)
    assert result.error is not None
    assert "link-local" in result.error


def test_connection_refused_is_retried() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits = Waits()
    result = deliver(
        _hook(f"http://127.0.0.1:{port}/hook"), EVENT, allow_private=True, retries=2, sleep=waits
    )
    assert (result.ok, result.attempts, result.status) == (False, 3, None)
    assert result.error is not None
    assert result.error.startswith("connection failed")
    assert len(waits.waits) == 2


def test_event_that_is_not_json_is_reported_not_raised() -> None:
    result = deliver(_hook("http://127.0.0.1:9/x"), {"id": 1, "value": object()})
    assert (result.ok, result.attempts) == (False, 0)
    assert result.error is not None
    assert "cannot be encoded as JSON" in result.error


def test_slack_body_shape() -> None:
    event = dict(EVENT, monitor="<fraud & co>", message="line one\nline two")
    body = orjson.loads(slack_body(event))
    assert set(body) == {"text", "blocks"}
    assert body["text"] == "loopml alert accuracy-low: line one line two"
    [section] = body["blocks"]
    assert section["type"] == "section"
    assert section["text"]["type"] == "mrkdwn"
    fields = {f["text"].split("\n", 1)[0]: f["text"].split("\n", 1)[1] for f in section["fields"]}
    assert all(f["type"] == "mrkdwn" for f in section["fields"])
    assert fields["*Monitor*"] == "&lt;fraud &amp; co&gt;"
    assert fields["*Value*"] == "0.72"
    assert fields["*Condition*"] == "accuracy &lt; 0.8 for 2 consecutive windows"
    assert fields["*Window*"] == "2025-11-24 16:00:00 UTC to 2025-11-25 16:00:00 UTC"
    assert fields["*Event*"] == "42"
    missing = orjson.loads(slack_body(dict(EVENT, value=None)))
    assert "*Value*\nmissing" in [f["text"] for f in missing["blocks"][0]["fields"]]


def test_slack_delivery_posts_the_slack_body(receiver: Callable[..., Receiver]) -> None:
    server = receiver(Reply(200))
    slack = parse_destination("slack", server.url("/services/T1/B2/token"))
    result = deliver(slack, EVENT, allow_private=True)
    assert result.ok
    assert result.url == server.url("/services/***")
    assert server.seen[0].body == slack_body(EVENT)
    assert SIGNATURE_HEADER.lower() not in server.seen[0].headers


def test_deliver_all_keeps_order_and_isolates_failures(
    receiver: Callable[..., Receiver],
) -> None:
    good = receiver(Reply(200))
    bad = receiver(Reply(500))
    destinations = [
        _hook(good.url("/first")),
        _hook(bad.url("/second")),
        _hook("http://169.254.169.254/third"),
        _hook(good.url("/fourth")),
    ]
    results = deliver_all(destinations, EVENT, allow_private=True, retries=1, sleep=Waits())
    assert [r.url for r in results] == [d.redacted()["url"] for d in destinations]
    assert [r.ok for r in results] == [True, False, False, True]
    assert [r.attempts for r in results] == [1, 2, 0, 1]
    assert sorted(s.path for s in good.seen) == ["/first", "/fourth"]
    assert deliver_all([], EVENT) == []


def test_verify_signature_rejects_tampering_and_stale_timestamps() -> None:
    body = webhook_body(EVENT)
    now = int(time.time())
    signature = sign(SECRET, now, body)
    assert verify_signature(SECRET, body, str(now), signature)
    assert not verify_signature(SECRET, body.replace(b"0.72", b"0.99"), str(now), signature)
    assert not verify_signature("wrong-secret-0123456789", body, str(now), signature)
    assert not verify_signature(SECRET, body, str(now + 1), signature)
    assert not verify_signature(SECRET, body, "not-a-number", signature)
    assert not verify_signature(SECRET, body, str(now), "sha256=ünïcode")
    # Replays: valid signature, timestamp outside the tolerance either way.
    assert verify_signature(SECRET, body, str(now), signature, now=now + 300)
    assert not verify_signature(SECRET, body, str(now), signature, now=now + 301)
    assert not verify_signature(SECRET, body, str(now), signature, now=now - 301)
    assert not verify_signature(
        SECRET, body, str(now), signature, now=now + 31, tolerance_seconds=30
    )


def test_sign_is_hmac_sha256_of_timestamp_and_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign(SECRET, 1_700_000_000, b"{}") == f"sha256={expected}"


def test_delivery_to_dict() -> None:
    delivery = Delivery("webhook", "https://example.com/h", False, 2, 503, "HTTP 503")
    assert delivery.to_dict() == {
        "kind": "webhook",
        "url": "https://example.com/h",
        "ok": False,
        "attempts": 2,
        "status": 503,
        "error": "HTTP 503",
    }
