"""The online store: the latest feature values per entity key, for low-latency lookups.

Materialisation writes feature rows through ``OnlineStore.write``; serving and
``get_online`` read them back with ``OnlineStore.read``. Every backend keeps
exactly one row per ``(view, entity key)``: the one with the greatest
``(event timestamp, created timestamp)`` ever written, so writing an older row
after a newer one changes nothing and materialisation may be re-run or run out
of order.

Rows are stored compactly: all features of one key in one msgpack blob, so a
lookup of N keys is one query (SQLite) or one round trip (Redis) and one decode
per key. An entity key is the tuple of its join-key values, in the order of the
view's join keys; ``encode_key`` turns it into the bytes both backends index.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import msgpack

from loopml.core.errors import InvalidArgument, StorageError

EntityKey = tuple[Any, ...]
"""The join-key values of one entity, in the order of the view's join keys."""


class OnlineStoreUnavailable(StorageError):
    """The online store cannot be reached (Redis down, database locked or unreadable).

    Raised within the store's timeout (about half a second for Redis), never
    after an indefinite wait, so a serving request fails fast and clearly.
    """

    http_status = 503
    error_code = "TEMPORARILY_UNAVAILABLE"


@dataclass(frozen=True, slots=True)
class OnlineRow:
    """The stored values of one entity key and the timestamps of the row they came from."""

    values: dict[str, Any]
    event_ts_ms: int
    created_ts_ms: int


class OnlineStore(abc.ABC):
    """Latest feature values per ``(view, entity key)``; SQLite and Redis implement it."""

    uri: str = ""

    @abc.abstractmethod
    def _write_encoded(self, view: str, rows: Mapping[bytes, tuple[int, int, bytes]]) -> int:
        """Store ``{key: (event_ts_ms, created_ts_ms, payload)}`` where newer; count stored."""

    @abc.abstractmethod
    def _read_encoded(
        self, view: str, keys: Sequence[bytes]
    ) -> list[tuple[int, int, bytes] | None]:
        """The ``(event_ts_ms, created_ts_ms, payload)`` of each key, None where absent."""

    @abc.abstractmethod
    def delete_view(self, view: str) -> None:
        """Forget every row of ``view`` (its definition changed incompatibly, or it was removed)."""

    @abc.abstractmethod
    def count(self, view: str) -> int:
        """How many keys of ``view`` are stored (for reports and checks)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections; the store must not be used afterwards."""

    def write(
        self,
        view: str,
        keys: Sequence[EntityKey],
        values: Any,
        event_ts_ms: Sequence[int],
        created_ts_ms: Sequence[int] | None = None,
    ) -> int:
        """Store one row per key, keeping only rows newer than what is stored.

        ``values`` is a ``pyarrow.Table`` or a mapping ``{feature: column}``
        (lists or arrays), one entry per key. A row replaces the stored one
        when its ``(event_ts_ms, created_ts_ms)`` is greater or equal; within
        one call, duplicate keys resolve the same way (later rows win ties).
        ``created_ts_ms`` None counts as 0. Returns the number of rows stored.
        """
        columns = _columns(values)
        count = len(keys)
        if len(event_ts_ms) != count or (created_ts_ms is not None and len(created_ts_ms) != count):
            raise InvalidArgument(
                f"Online write to {view!r}: {count} keys but {len(event_ts_ms)} event timestamps"
                + ("" if created_ts_ms is None else f" and {len(created_ts_ms)} created timestamps")
                + "."
            )
        for name, column in columns.items():
            if len(column) != count:
                raise InvalidArgument(
                    f"Online write to {view!r}: feature {name!r} has {len(column)} values "
                    f"for {count} keys."
                )
        names = list(columns)
        cols = [columns[n] for n in names]
        latest: dict[bytes, tuple[int, int, bytes]] = {}
        for i, key in enumerate(keys):
            try:
                event = int(event_ts_ms[i])
                created = 0 if created_ts_ms is None else int(created_ts_ms[i] or 0)
            except (TypeError, ValueError):
                raise InvalidArgument(
                    f"Online write to {view!r}: row {i} has no valid event timestamp "
                    f"({event_ts_ms[i]!r}); give epoch milliseconds."
                ) from None
            encoded = encode_key(key)
            held = latest.get(encoded)
            if held is not None and (held[0], held[1]) > (event, created):
                continue
            row = {name: col[i] for name, col in zip(names, cols, strict=True)}
            latest[encoded] = (event, created, pack_values(row))
        if not latest:
            return 0
        return self._write_encoded(view, latest)

    def read(
        self, view: str, keys: Sequence[EntityKey], features: Sequence[str] | None = None
    ) -> list[OnlineRow | None]:
        """The stored row of each key (only ``features`` when given), None where none is stored.

        The result has one entry per key, in order; duplicates are answered twice.
        A requested feature missing from a stored row comes back as None.
        """
        found = self._read_encoded(view, [encode_key(key) for key in keys])
        if features is None:  # the lookup path: no per-row filtering
            return [
                None if h is None else OnlineRow(unpack_values(h[2]), h[0], h[1]) for h in found
            ]
        out: list[OnlineRow | None] = []
        for hit in found:
            if hit is None:
                out.append(None)
                continue
            stored = unpack_values(hit[2])
            out.append(OnlineRow({name: stored.get(name) for name in features}, hit[0], hit[1]))
        return out

    def __enter__(self) -> OnlineStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def encode_key(key: EntityKey | Any) -> bytes:
    """The bytes an entity key is indexed by: msgpack of its values, typed (1 and "1" differ).

    Integral floats and numpy scalars encode like the Python int/float they
    equal, so a key read from a DataFrame matches one sent as JSON.
    """
    parts = key if isinstance(key, tuple | list) else (key,)
    try:
        if len(parts) == 1 and type(parts[0]) in _PLAIN_KEY_TYPES:  # the common case, fast
            return msgpack.packb(parts, use_bin_type=True)
        return msgpack.packb([_key_part(p) for p in parts], use_bin_type=True)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidArgument(f"Entity key {key!r:.100} cannot be used: {exc}") from None


_PLAIN_KEY_TYPES = frozenset({int, str})


def _key_part(value: Any) -> Any:
    plain = _plain(value)
    if isinstance(plain, float) and plain.is_integer() and abs(plain) < 2**53:
        return int(plain)
    return plain


def pack_values(row: Mapping[str, Any]) -> bytes:
    """One row's features as one msgpack blob (datetimes keep their instant)."""
    try:
        return msgpack.packb(
            {k: _plain(v) for k, v in row.items()}, use_bin_type=True, datetime=True
        )
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"Cannot store feature values online: {exc}") from exc


def unpack_values(blob: bytes) -> dict[str, Any]:
    """The inverse of ``pack_values``."""
    return msgpack.unpackb(blob, raw=False, timestamp=3)


def _plain(value: Any) -> Any:
    """Python scalars for numpy/pandas ones; None for NaN/NaT; aware UTC for naive datetimes."""
    if value is None or isinstance(value, bool | int | str | bytes):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value.isoformat()
    item = getattr(value, "item", None)
    if callable(item):  # numpy scalar
        return _plain(item())
    to_py = getattr(value, "to_pydatetime", None)
    if callable(to_py):  # pandas Timestamp
        return _plain(to_py()) if value == value else None
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _columns(values: Any) -> dict[str, Sequence[Any]]:
    """``{feature: list of values}`` from a pyarrow Table or a mapping of columns."""
    if hasattr(values, "column_names") and hasattr(values, "to_pydict"):
        return values.to_pydict()
    if isinstance(values, Mapping):
        return {str(k): _as_list(v) for k, v in values.items()}
    raise InvalidArgument(
        f"Online write: values must be a pyarrow Table or a mapping of columns, "
        f"got {type(values).__name__}."
    )


def _as_list(column: Any) -> Sequence[Any]:
    tolist = getattr(column, "tolist", None)
    if callable(tolist):
        return tolist()
    to_pylist = getattr(column, "to_pylist", None)
    if callable(to_pylist):
        return to_pylist()
    return list(column)


def iter_chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most ``size`` items (bounded statements and Lua calls)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
