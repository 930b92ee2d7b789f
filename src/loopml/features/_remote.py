"""Remote mode: the feature definitions of a loopml server, over its native API.

``RemoteFeatureRegistry`` implements ``BaseFeatureRegistry``'s primitives,
each one request (an apply checks the batch here first, then once more on
the server); the server runs the same ``FeatureRegistry`` behind them,
so versioning, refusals and errors are the same embedded and remote. An
apply sends the definitions' specs, never code. ``open_registry`` picks one
for a tracking client.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from pydantic import TypeAdapter

from loopml.core.errors import InvalidArgument
from loopml.features._apply import kind_of, plan_apply
from loopml.features._definitions import Definition
from loopml.features._registry import FeatureRegistry
from loopml.features._registry_base import ApplyResult, BaseFeatureRegistry, normalize_kind
from loopml.store import FeatureMaterialization, FeatureRecord, SqlTrackingStore
from loopml.tracking import Client, get_client
from loopml.tracking._rest import RestTrackingStore

_RECORD = TypeAdapter(FeatureRecord)
_RECORDS = TypeAdapter(list[FeatureRecord])
_MATERIALIZATION = TypeAdapter(FeatureMaterialization)
_MATERIALIZATIONS = TypeAdapter(list[FeatureMaterialization])


def _definition_path(kind: str, name: str) -> str:
    return f"/features/definitions/{quote(normalize_kind(kind), safe='')}/{quote(name, safe='')}"


class RemoteFeatureRegistry(BaseFeatureRegistry):
    """The feature registry of the loopml server a tracking client talks to."""

    def __init__(self, client: Client) -> None:
        if not isinstance(client.store, RestTrackingStore):
            raise InvalidArgument(f"{client.tracking_uri!r} is not a loopml server.")
        self.client = client
        self._rest = client.store

    def _call(self, method: str, path: str, payload: Any = None, **params: Any) -> Any:
        given = {k: v for k, v in params.items() if v is not None}
        return self._rest.call(method, path, payload, given or None)

    def apply(self, definitions: Sequence[Definition] | Definition) -> builtins.list[ApplyResult]:
        batch = [definitions] if isinstance(definitions, Definition) else list(definitions)
        # Checked here too: a spec names a view's entities only, so whether an embedded
        # Entity matches the registered one can be seen on this side alone. The server
        # checks the rest again under its lock.
        plan_apply(batch, self)
        payload = {
            "definitions": [{"kind": kind_of(d), "name": d.name, "spec": d.spec()} for d in batch]
        }
        done = self._call("POST", "/features/apply", payload)["results"]
        return [
            ApplyResult(str(r["kind"]), str(r["name"]), int(r["version"]), bool(r["changed"]))
            for r in done
        ]

    def record(self, kind: str, name: str, version: int | None = None) -> FeatureRecord:
        found = self._call("GET", _definition_path(kind, name), version=version)
        return _RECORD.validate_python(found["definition"])

    def list(self, kind: str | None = None) -> builtins.list[FeatureRecord]:
        kind = None if kind is None else normalize_kind(kind)
        found = self._call("GET", "/features/definitions", kind=kind)["definitions"]
        return _RECORDS.validate_python(found)

    def history(self, kind: str, name: str) -> builtins.list[FeatureRecord]:
        found = self._call("GET", _definition_path(kind, name) + "/versions")["definitions"]
        return _RECORDS.validate_python(found)

    def record_materialization(
        self, view: str, start_ms: int, end_ms: int, rows: int
    ) -> FeatureMaterialization:
        payload = {"view": view, "start_ms": start_ms, "end_ms": end_ms, "rows": rows}
        done = self._call("POST", "/features/materializations", payload)["materialization"]
        return _MATERIALIZATION.validate_python(done)

    def materializations(
        self, view: str, limit: int = 100
    ) -> builtins.list[FeatureMaterialization]:
        path = f"/features/materializations/{quote(view, safe='')}"
        found = self._call("GET", path, limit=limit)["materializations"]
        return _MATERIALIZATIONS.validate_python(found)

    def last_materialized(self, view: str) -> int | None:
        path = f"/features/materializations/{quote(view, safe='')}"
        last = self._call("GET", path, limit=1)["last_materialized"]
        return None if last is None else int(last)


def open_registry(client: Client | None = None) -> BaseFeatureRegistry:
    """The feature registry of a tracking client's store: embedded, or its server's."""
    client = client if client is not None else get_client()
    if isinstance(client.store, SqlTrackingStore):
        return FeatureRegistry(client)
    return RemoteFeatureRegistry(client)
