"""SQL repository of aliases: the current holders and their append-only history.

Every move (set, promote, rollback, delete) updates ``model_aliases`` and appends
one ``alias_events`` row in the same transaction, so the history never misses a
move and never records one that did not happen. A gated promotion keeps each
gate's verdict in the row's ``details`` (JSON), messages cut to
``MAX_GATE_MESSAGE`` characters so one verbose gate cannot bloat the history.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from types import EllipsisType
from typing import Any

from sqlalchemy import Connection, delete, select

from loopml.core.errors import InvalidState
from loopml.store import _sql_registry_models as models
from loopml.store import _sql_registry_versions as versions
from loopml.store._models import ALIAS_EVENTS, MODEL_ALIASES, MODEL_VERSIONS
from loopml.store._registry_base import no_alias
from loopml.store._upsert import upsert
from loopml.store.registry_records import AliasAction, AliasEvent, GateResult

MAX_GATE_NAME = 256
MAX_GATE_MESSAGE = 500


def holder(conn: Connection, name: str, alias: str) -> int | None:
    """The version ``alias`` points at, or None."""
    return conn.execute(
        select(MODEL_ALIASES.c.version).where(
            MODEL_ALIASES.c.name == name, MODEL_ALIASES.c.alias == alias
        )
    ).scalar()


def set_alias(
    conn: Connection,
    name: str,
    alias: str,
    version: int | None,
    *,
    user: str,
    reason: str,
    action: AliasAction,
    expected: int | EllipsisType | None,
    now: int,
    gates: Sequence[GateResult] = (),
) -> AliasEvent:
    models.check_exists(conn, name)
    current = holder(conn, name, alias)
    if expected is not ... and current != expected:
        was = "unset" if expected is None else f"version {expected}"
        now_held = "unset" if current is None else f"version {current}"
        raise InvalidState(
            f"Alias {alias!r} of {name!r} moved meanwhile: expected {was}, it is {now_held}. "
            "Nothing changed; run the promotion again."
        )
    if version is None:
        if current is None:
            raise no_alias(name, alias)
        conn.execute(
            delete(MODEL_ALIASES).where(
                MODEL_ALIASES.c.name == name, MODEL_ALIASES.c.alias == alias
            )
        )
    else:
        exists = conn.execute(
            select(MODEL_VERSIONS.c.version).where(
                MODEL_VERSIONS.c.name == name, MODEL_VERSIONS.c.version == version
            )
        ).first()
        if exists is None:
            raise versions.missing_version(conn, name, version)
        upsert(
            conn,
            MODEL_ALIASES,
            [{"name": name, "alias": alias, "version": version}],
            keys=("name", "alias"),
            update=("version",),
        )
    verdicts = tuple(_shorten(g) for g in gates)
    event = AliasEvent(name, alias, version, current, now, user, reason, action, verdicts)
    conn.execute(
        ALIAS_EVENTS.insert().values(
            name=name,
            alias=alias,
            version=version,
            previous_version=current,
            time=now,
            user_id=user,
            reason=reason,
            action=action,
            details=_details(verdicts),
        )
    )
    return event


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _shorten(gate: GateResult) -> GateResult:
    return GateResult(
        _cut(str(gate.gate), MAX_GATE_NAME),
        bool(gate.passed),
        _cut(str(gate.message), MAX_GATE_MESSAGE),
    )


def _details(gates: tuple[GateResult, ...]) -> str:
    if not gates:
        return "{}"
    rows = [dataclasses.asdict(g) for g in gates]
    return json.dumps({"gates": rows}, separators=(",", ":"))


def _gates(details: str | None) -> tuple[GateResult, ...]:
    """The verdicts a row's ``details`` holds; a row without them has none."""
    data: Any = json.loads(details) if details else {}
    rows = data.get("gates", []) if isinstance(data, dict) else []
    return tuple(GateResult(str(r["gate"]), bool(r["passed"]), str(r["message"])) for r in rows)


def history(conn: Connection, name: str, alias: str | None) -> list[AliasEvent]:
    models.check_exists(conn, name)
    query = select(
        ALIAS_EVENTS.c.name,
        ALIAS_EVENTS.c.alias,
        ALIAS_EVENTS.c.version,
        ALIAS_EVENTS.c.previous_version,
        ALIAS_EVENTS.c.time,
        ALIAS_EVENTS.c.user_id,
        ALIAS_EVENTS.c.reason,
        ALIAS_EVENTS.c.action,
        ALIAS_EVENTS.c.details,
    ).where(ALIAS_EVENTS.c.name == name)
    if alias is not None:
        query = query.where(ALIAS_EVENTS.c.alias == alias)
    return [
        AliasEvent(*row[:-1], gates=_gates(row[-1]))
        for row in conn.execute(query.order_by(ALIAS_EVENTS.c.id))
    ]
