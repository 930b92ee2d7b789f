"""Sending alert events: signed webhooks and Slack messages, with bounded retries.

Delivery never raises: an alert that cannot be sent is reported as a failed
:class:`Delivery` (stored with the event by the caller), so one broken destination
cannot stop a monitor or the other destinations. httpx exceptions are translated
here, at this one seam.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson

from loopml.alerts._destinations import Destination, allow_private_from_env, check_address
from loopml.core.errors import InvalidArgument

SIGNATURE_HEADER = "X-Loopml-Signature"
TIMESTAMP_HEADER = "X-Loopml-Timestamp"
EVENT_HEADER = "X-Loopml-Event"
USER_AGENT = "loopml-alerts/1"
MAX_RETRY_AFTER = 30.0
MAX_PARALLEL = 8
_SNIPPET = 200
_FIELD_MAX = 1900  # Slack refuses section fields over 2000 characters


@dataclass(frozen=True)
class Delivery:
    """The outcome of sending one event to one destination (``url`` is redacted)."""

    kind: str
    url: str
    ok: bool
    attempts: int
    status: int | None
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, for storing beside the event."""
        return asdict(self)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Loopml-Signature`` value: ``sha256=`` + HMAC-SHA256 of ``f"{timestamp}." + body``.

    The timestamp is signed with the body so a captured request cannot be replayed
    later with a fresh timestamp.
    """
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    body: bytes,
    timestamp: str,
    signature: str,
    *,
    now: float | None = None,
    tolerance_seconds: int = 300,
) -> bool:
    """Whether a received webhook is genuine and fresh; for receivers (and our tests).

    Pass the raw body and the ``X-Loopml-Timestamp`` and ``X-Loopml-Signature``
    headers. False when the timestamp is not an integer or is more than
    ``tolerance_seconds`` away from ``now`` (a replay), or the signature does not
    match; the comparison takes constant time.
    """
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance_seconds:
        return False
    expected = sign(secret, stamp, body)
    return hmac.compare_digest(expected.encode(), str(signature).encode())


def webhook_body(event: Mapping[str, Any]) -> bytes:
    """The event as JSON with sorted keys, so the same event always signs the same."""
    return orjson.dumps(dict(event), option=orjson.OPT_SORT_KEYS)


def _escape(text: object) -> str:
    # Slack's mrkdwn treats these three as control characters in user-supplied text.
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _when(ms: object) -> str:
    try:
        moment = datetime.fromtimestamp(int(ms) / 1000, UTC)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError, OSError):
        return str(ms)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _value(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing"
    if isinstance(value, int | float):
        return f"{float(value):.6g}"
    return str(value)


def slack_body(event: Mapping[str, Any]) -> bytes:
    """A Slack incoming-webhook message: a one-line ``text`` and a section of fields.

    ``text`` is what notifications and clients without blocks show; the section
    lays out monitor, deployment, metric, value, condition and window.
    """
    rule = event.get("rule") or "alert"
    message = str(
        event.get("message") or f"{event.get('metric')} breached {event.get('condition')}"
    )
    summary = " ".join(f"loopml alert {rule}: {message}".split())
    fields = [
        ("Monitor", event.get("monitor")),
        ("Deployment", event.get("deployment")),
        ("Metric", event.get("metric")),
        ("Value", _value(event.get("value"))),
        ("Condition", event.get("condition")),
    ]
    if event.get("window_start") is not None and event.get("window_end") is not None:
        window = f"{_when(event['window_start'])} to {_when(event['window_end'])}"
        fields.append(("Window", window))
    if event.get("id") is not None:
        fields.append(("Event", event["id"]))
    section = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": f"*{_escape(rule)}*\n{_escape(message)}"[:2900]},
        "fields": [
            {"type": "mrkdwn", "text": f"*{name}*\n{_escape(value)}"[:_FIELD_MAX]}
            for name, value in fields
            if value is not None
        ],
    }
    return orjson.dumps({"text": summary[:2900], "blocks": [section]})


def _retry_after(response: httpx.Response) -> float | None:
    if response.status_code not in (429, 503):
        return None
    raw = response.headers.get("Retry-After")
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(raw).timestamp() - time.time()
        except (TypeError, ValueError, IndexError):
            return None
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _backoff(backoff: float, retry: int) -> float:
    base = max(backoff, 0.0) * 2**retry
    return base + random.uniform(0.0, base * 0.1)


def _headers(destination: Destination, event: Mapping[str, Any], body: bytes) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if destination.kind == "webhook":
        # Fresh per attempt: a retry after a long wait must not arrive already stale.
        timestamp = int(time.time())
        headers[EVENT_HEADER] = str(event.get("id", ""))
        headers[TIMESTAMP_HEADER] = str(timestamp)
        if destination.secret is not None:
            headers[SIGNATURE_HEADER] = sign(destination.secret, timestamp, body)
    return headers


def _snippet(response: httpx.Response) -> str:
    # Only the start of the body: a hostile endpoint could answer with gigabytes.
    try:
        for chunk in response.iter_bytes():
            return " ".join(chunk[:_SNIPPET].decode("utf-8", "replace").split())
    except httpx.HTTPError:
        pass
    return ""


def deliver(
    destination: Destination,
    event: Mapping[str, Any],
    *,
    timeout: float = 5.0,
    retries: int = 3,
    backoff: float = 0.5,
    allow_private: bool | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """POST ``event`` to ``destination``; never raises, the outcome is the return value.

    The address is checked (:func:`check_address`) before every attempt; a refusal
    gives ``attempts=0`` (or the attempts made so far). Connection errors, timeouts,
    429 and 5xx are retried up to ``retries`` more times, waiting
    ``backoff * 2**n`` plus up to 10% jitter, or the ``Retry-After`` of a 429/503
    (capped at 30 s). Other 4xx are final. Redirects are not followed (a 3xx fails):
    following one would let a public URL bounce the server to a private address.
    ``allow_private=None`` reads ``LOOPML_ALERTS_ALLOW_PRIVATE``.
    """
    shown = str(destination.redacted()["url"])

    def result(ok: bool, attempts: int, status: int | None, error: str | None) -> Delivery:
        return Delivery(destination.kind, shown, ok, attempts, status, error)

    try:
        body = slack_body(event) if destination.kind == "slack" else webhook_body(event)
    except (TypeError, ValueError) as exc:
        return result(False, 0, None, f"the event cannot be encoded as JSON: {exc}")
    allow = allow_private_from_env() if allow_private is None else allow_private
    attempts, status, error = 0, None, None
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for retry in range(max(retries, 0) + 1):
            try:
                check_address(destination.url, allow_private=allow)
            except InvalidArgument as exc:
                return result(False, attempts, status, exc.message)
            attempts += 1
            wait = None
            try:
                headers = _headers(destination, event, body)
                with client.stream("POST", destination.url, content=body, headers=headers) as r:
                    status = r.status_code
                    if 200 <= status < 300:
                        return result(True, attempts, status, None)
                    snippet = _snippet(r)
                    error = f"HTTP {status}" + (f": {snippet}" if snippet else "")
                    if 300 <= status < 400:
                        error += " (redirects are not followed; use the final URL)"
                        break
                    if status != 429 and status < 500:
                        break
                    wait = _retry_after(r)
            except httpx.TimeoutException:
                status, error = None, f"timeout after {timeout:g} s"
            except httpx.TransportError as exc:
                status, error = None, f"connection failed: {type(exc).__name__}: {exc}"
            except Exception as exc:  # never raise: an alert failure must not stop a monitor
                status, error = None, f"{type(exc).__name__}: {exc}"
                break
            if retry < max(retries, 0):
                sleep(_backoff(backoff, retry) if wait is None else wait)
    if attempts > 1 and error is not None:
        error += f" ({attempts} attempts)"
    return result(False, attempts, status, error)


def deliver_all(
    destinations: Sequence[Destination], event: Mapping[str, Any], **kwargs: Any
) -> list[Delivery]:
    """Deliver ``event`` to every destination in parallel (at most 8 threads).

    Results come back in the order of ``destinations``; a slow or failing
    destination delays only its own result. ``kwargs`` go to :func:`deliver`.
    """
    if not destinations:
        return []
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(destinations))) as pool:
        return list(pool.map(lambda d: deliver(d, event, **kwargs), destinations))
