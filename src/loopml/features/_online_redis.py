"""The Redis online store, for teams: one hash per view, one field per entity key.

A lookup of N keys is one ``HMGET`` (one round trip). Each field's value is a
32-character header, the event and created timestamps as fixed-width hex
(offset so that byte order is numeric order), then the msgpack blob of the
features. Writes go through a Lua script that compares headers, so "keep the
newer row" holds atomically even when two materialisations race.

Connect and read timeouts default to half a second and redis-py's retries are
off: with Redis down, a lookup fails with ``OnlineStoreUnavailable`` quickly
instead of hanging a serving request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from loopml.core.errors import InvalidArgument, StorageError
from loopml.features._online import OnlineStore, OnlineStoreUnavailable, iter_chunks

_OFFSET = 1 << 63
_HEADER = 32

# KEYS[1]: the view's hash; ARGV: field, value, field, value, ...
_WRITE_NEWER = """
local stored = 0
for i = 1, #ARGV, 2 do
    local old = redis.call('HGET', KEYS[1], ARGV[i])
    if (not old) or string.sub(ARGV[i + 1], 1, 32) >= string.sub(old, 1, 32) then
        redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
        stored = stored + 1
    end
end
return stored
"""

_WRITE_BATCH = 1000  # rows per script call: bounded argument lists, short server pauses


class RedisOnlineStore(OnlineStore):
    """Online rows in Redis under ``<prefix>:<view>`` hashes."""

    def __init__(
        self, uri: str, *, prefix: str = "loopml:features", timeout_seconds: float = 0.5
    ) -> None:
        self.uri = uri
        self.prefix = prefix
        try:
            self._redis = redis.Redis.from_url(
                uri,
                socket_timeout=timeout_seconds,
                socket_connect_timeout=timeout_seconds,
                retry=Retry(NoBackoff(), 0),
                retry_on_timeout=False,
            )
        except ValueError as exc:
            raise InvalidArgument(f"Invalid Redis URI {uri!r}: {exc}") from exc
        self._write_newer = self._redis.register_script(_WRITE_NEWER)

    def _hash(self, view: str) -> str:
        return f"{self.prefix}:{view}"

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """The one seam translating redis-py errors."""
        try:
            yield
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise OnlineStoreUnavailable(
                f"The Redis online store at {_display(self.uri)} is unavailable: {exc}"
            ) from exc
        except redis.RedisError as exc:
            raise StorageError(
                f"The Redis online store at {_display(self.uri)} failed: {exc}"
            ) from exc

    def _write_encoded(self, view: str, rows: Mapping[bytes, tuple[int, int, bytes]]) -> int:
        args: list[bytes] = []
        for key, (event, created, blob) in rows.items():
            header = b"%016x%016x" % (event + _OFFSET, created + _OFFSET)
            args.append(key)
            args.append(header + blob)
        stored = 0
        with self._errors():
            for chunk in iter_chunks(args, 2 * _WRITE_BATCH):
                stored += int(self._write_newer(keys=[self._hash(view)], args=list(chunk)))
        return stored

    def _read_encoded(
        self, view: str, keys: Sequence[bytes]
    ) -> list[tuple[int, int, bytes] | None]:
        if not keys:
            return []
        with self._errors():
            values: list[Any] = self._redis.hmget(self._hash(view), list(keys))
        return [None if v is None else _split(v) for v in values]

    def delete_view(self, view: str) -> None:
        with self._errors():
            self._redis.delete(self._hash(view))

    def count(self, view: str) -> int:
        with self._errors():
            return int(self._redis.hlen(self._hash(view)))

    def close(self) -> None:
        self._redis.close()


def _split(value: bytes) -> tuple[int, int, bytes]:
    return (
        int(value[:16], 16) - _OFFSET,
        int(value[16:_HEADER], 16) - _OFFSET,
        value[_HEADER:],
    )


def _display(uri: str) -> str:
    """The URI without a password, for messages."""
    scheme, sep, rest = uri.partition("://")
    if "@" in rest:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"
