"""Whether a source has event-time ties, remembered per source content.

The point-in-time join orders feature rows by (event time, created time,
row position) only to settle rows of one key that share an event time;
ordering by event time alone is measurably cheaper, and gives the same
answer when no two rows share (join keys, event time). Finding that out
costs a full aggregate over the source, more than it saves on one join, so
the verdict is remembered under the digest of the content it was computed
on (the digest a training set already records as the source version): a
changed source has a new digest and is checked afresh, so a verdict never
goes stale.

The verdicts live in small files under the loopml home, one per (content,
join keys, event time column), written atomically: a verdict is a pure
function of its key, so concurrent writers write the same bytes and a
reader sees a whole verdict or none. Without a home (``NoTieCache``) the
join keeps the full ordering and never pays for a check.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

from loopml.core.atomic import write_text_atomic
from loopml.core.errors import StorageError
from loopml.features._duck import quote

if TYPE_CHECKING:
    import duckdb

    from loopml.features._sources import SourceScan

_FORMAT = 1
"""Bump when what a verdict means changes: older verdict files are then ignored."""
_TIES, _NONE = "ties", "none"
_INTEGERS = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
    | {"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
)
_INEXACT = frozenset({"FLOAT", "DOUBLE"})


class TieCache(ABC):
    """Where verdicts ("does this content have ties?") are kept between joins."""

    @abstractmethod
    def get(self, key: str) -> bool | None:
        """The verdict stored under ``key`` (True: ties), or None when there is none."""

    @abstractmethod
    def put(self, key: str, has_ties: bool) -> None:
        """Remember a verdict; a cache that cannot write forgets it silently."""

    @property
    @abstractmethod
    def remembers(self) -> bool:
        """Whether a verdict put now is found later (else checking never pays off)."""


class NoTieCache(TieCache):
    """No place to keep verdicts: every join keeps the full tie-breaking order."""

    def get(self, key: str) -> bool | None:
        return None

    def put(self, key: str, has_ties: bool) -> None:
        return None

    @property
    def remembers(self) -> bool:
        return False


class FileTieCache(TieCache):
    """One small file per verdict in ``folder`` (created on first write)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def under(cls, home: Path) -> FileTieCache:
        """The cache of the loopml home ``home``."""
        return cls(home.expanduser() / "cache" / "features" / "ties")

    def get(self, key: str) -> bool | None:
        try:
            text = (self.folder / key).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
        # Anything but a whole verdict (a foreign or damaged file) counts as unknown.
        return {_TIES: True, _NONE: False}.get(text)

    def put(self, key: str, has_ties: bool) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_text_atomic(self.folder / key, _TIES if has_ties else _NONE)
        except (OSError, StorageError):
            return  # a read-only home only costs the next join a check

    @property
    def remembers(self) -> bool:
        return True


def verdict_key(digest: str, join_keys: tuple[str, ...], event_column: str) -> str:
    """The file name of a verdict: ties depend on the content and on which columns tie."""
    text = json.dumps([_FORMAT, digest, list(join_keys), event_column])
    return hashlib.sha256(text.encode()).hexdigest()


def exact_keys(entity_types: dict[str, str], scan: SourceScan) -> bool:
    """Whether the join compares every key by identity, so source ties are the only ties.

    Keys of one type (or integers of any width) are equal exactly when their
    values are; a float key, or one cast to another kind for the comparison
    (BIGINT against DOUBLE), can make distinct source values meet one entity
    key, which a tie check on the source's own values would not see.
    """
    for key in scan.view.join_keys:
        mine, theirs = entity_types[key], scan.columns[key]
        if mine in _INEXACT or theirs in _INEXACT:
            return False
        if mine != theirs and not (mine in _INTEGERS and theirs in _INTEGERS):
            return False
    return True


def has_ties(conn: duckdb.DuckDBPyConnection, scan: SourceScan, event: str) -> bool:
    """Whether two of the source's rows share join keys and event time ``event`` (SQL).

    Counts distinct hashes of (keys, event time): distinct hashes prove
    distinct rows; a hash collision only reads as a tie, which costs speed,
    never correctness. Rows without an event time never join, so they never tie.
    """
    keys = ", ".join(quote(k) for k in scan.view.join_keys)
    timestamp = quote(scan.view.source.timestamp_field)
    rows = conn.execute(
        f"SELECT count(*) - count(DISTINCT hash({keys}, {event})) FROM {scan.relation} "
        f"WHERE {timestamp} IS NOT NULL"
    ).fetchall()  # fetched to the end: this DuckDB refuses new work over an unfinished result
    return rows[0][0] != 0


def ties_possible(
    conn: duckdb.DuckDBPyConnection,
    scan: SourceScan,
    event: str,
    entity_types: dict[str, str],
    cache: TieCache,
) -> bool:
    """Whether the join must break ties: False only when the source provably has none.

    A verdict not yet known is computed (one aggregate over the source) and
    remembered when ``cache`` can keep it; when it cannot, the answer is True
    without a check, since a check per join costs more than it saves.
    """
    if not exact_keys(entity_types, scan):
        return True
    key = verdict_key(scan.digest.result(), scan.view.join_keys, scan.view.source.timestamp_field)
    known = cache.get(key)
    if known is not None:
        return known
    if not cache.remembers:
        return True
    found = has_ties(conn, scan, event)
    cache.put(key, found)
    return found
