"""Consistency check: do the online values agree with the offline store's latest ones?

``check_view`` computes, with the same DuckDB query materialisation uses, the
latest offline row per key among rows before the view's last materialisation
ended (rows after it are not expected online yet), samples keys, reads them
from the online store and reports every key whose online row is missing,
older or newer than the offline one, or holds different values.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from loopml.core.clock import now_ms
from loopml.core.errors import InvalidArgument
from loopml.features._definitions import FeatureView
from loopml.features._duck import connect, to_arrow
from loopml.features._materialize import _CREATED_MS, _EVENT_MS, _latest_sql
from loopml.features._online import OnlineStore
from loopml.features._sources import scan_source

if TYPE_CHECKING:
    from loopml.tracking import Client

MISSING, OLDER, NEWER, DIFFERENT = "missing", "older", "newer", "different"


class ViewRegistry(Protocol):
    """What ``check`` needs of the feature registry."""

    def view(self, name: str) -> FeatureView: ...

    def last_materialized(self, view: str) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One sampled key whose online row disagrees with the offline latest row.

    ``kind``: ``missing`` (no online row), ``older``/``newer`` (the online
    row's event time is before/after the offline one's), ``different`` (same
    event time, other values: ``features`` maps each to (offline, online)).
    """

    key: tuple[Any, ...]
    kind: str
    offline_event_ms: int | None
    online_event_ms: int | None
    features: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": list(self.key),
            "kind": self.kind,
            "offline_event_ms": self.offline_event_ms,
            "online_event_ms": self.online_event_ms,
            "features": {k: [str(a), str(b)] for k, (a, b) in self.features.items()},
        }


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What ``check`` found for one view: how many keys it sampled, which disagreed."""

    view: str
    offline_keys: int
    sampled: int
    until_ms: int
    mismatches: tuple[Mismatch, ...]

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def to_dict(self) -> dict[str, Any]:
        return {
            "view": self.view,
            "offline_keys": self.offline_keys,
            "sampled": self.sampled,
            "until_ms": self.until_ms,
            "ok": self.ok,
            "mismatches": [m.to_dict() for m in self.mismatches],
        }


def check(
    view: str,
    *,
    registry: ViewRegistry,
    online: OnlineStore,
    sample: int = 100,
    seed: int | None = None,
    client_factory: Callable[[], Client] | None = None,
) -> CheckResult:
    """Check registered view ``view`` up to the end of its last materialisation (else now)."""
    return check_view(
        registry.view(view),
        online,
        until_ms=registry.last_materialized(view),
        sample=sample,
        seed=seed,
        client_factory=client_factory,
    )


def check_view(
    view: FeatureView,
    online: OnlineStore,
    *,
    until_ms: int | None = None,
    sample: int = 100,
    seed: int | None = None,
    client_factory: Callable[[], Client] | None = None,
) -> CheckResult:
    """Compare ``sample`` random keys of ``view`` online against the offline latest rows.

    ``until_ms``: only offline rows with event times before it count (pass the
    end of the view's last materialisation; None means now).
    """
    if isinstance(sample, bool) or not isinstance(sample, int) or sample < 1:
        raise InvalidArgument(f"sample must be a positive number of keys, not {sample!r}.")
    until = now_ms() if until_ms is None else until_ms
    conn = connect()
    try:
        scan = scan_source(conn, view, "c", client_factory=client_factory)
        latest = to_arrow(conn.sql(_latest_sql(scan, None, until)))
    finally:
        conn.close()
    keys = list(zip(*(latest.column(k).to_pylist() for k in view.join_keys), strict=True))
    picked = sorted(random.Random(seed).sample(range(len(keys)), min(sample, len(keys))))
    events = latest.column(_EVENT_MS).to_pylist()
    created = latest.column(_CREATED_MS).to_pylist()
    values = {name: latest.column(name).to_pylist() for name in view.features}
    stored = online.read(view.name, [keys[i] for i in picked], view.features)
    mismatches = []
    for i, row in zip(picked, stored, strict=True):
        offline_event = events[i]
        if row is None:
            mismatches.append(Mismatch(keys[i], MISSING, offline_event, None))
            continue
        order = (row.event_ts_ms, row.created_ts_ms)
        expected = (offline_event, created[i] or 0)
        if order != expected:
            kind = OLDER if order < expected else NEWER
            mismatches.append(Mismatch(keys[i], kind, offline_event, row.event_ts_ms))
            continue
        differing = {
            name: (values[name][i], row.values.get(name))
            for name in view.features
            if not _same(values[name][i], row.values.get(name))
        }
        if differing:
            mismatches.append(
                Mismatch(keys[i], DIFFERENT, offline_event, row.event_ts_ms, differing)
            )
    return CheckResult(view.name, len(keys), len(picked), until, tuple(mismatches))


def _same(offline: Any, online: Any) -> bool:
    if isinstance(offline, float) and isinstance(online, float):
        if math.isnan(offline) and math.isnan(online):
            return True
        return math.isclose(offline, online, rel_tol=1e-9, abs_tol=0.0)
    if isinstance(offline, float) and math.isnan(offline):
        return online is None  # NaN is stored as null
    return bool(offline == online)
