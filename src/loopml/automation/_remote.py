"""Remote mode: the automation policies of a loopml server, over its native API.

``RemotePolicies`` has the public methods of ``Policies``; each is one
request and the server runs the same ``Policies`` behind it, so the checks,
the errors and the runs are the same embedded and remote (a run trains in
the server, beside its stores). ``open_policies`` picks one for a client.
"""

from __future__ import annotations

import builtins
from typing import Any
from urllib.parse import quote

from pydantic import TypeAdapter

from loopml.automation._policies import Policies
from loopml.automation._policy import Policy
from loopml.core.errors import InvalidArgument
from loopml.store import PolicyEvent, PolicyRun, SqlTrackingStore
from loopml.tracking import Client, get_client
from loopml.tracking._rest import RestTrackingStore

_RUN = TypeAdapter(PolicyRun)
_RUNS = TypeAdapter(list[PolicyRun])
_EVENTS = TypeAdapter(list[PolicyEvent])


def _path(name: str) -> str:
    return f"/policies/{quote(name, safe='')}"


class RemotePolicies:
    """The policies of the loopml server a tracking client talks to."""

    def __init__(self, client: Client) -> None:
        if not isinstance(client.store, RestTrackingStore):
            raise InvalidArgument(f"{client.tracking_uri!r} is not a loopml server.")
        self.client = client
        self._rest = client.store

    def _call(self, method: str, path: str, payload: Any = None, **params: Any) -> Any:
        given = {k: v for k, v in params.items() if v is not None}
        return self._rest.call(method, path, payload, given or None)

    def create(self, policy: Policy) -> Policy:
        found = self._call("POST", "/policies", {"policy": policy.to_dict()})
        return Policy.from_dict(found["policy"])

    def update(self, policy: Policy) -> Policy:
        found = self._call("PUT", _path(policy.name), {"policy": policy.to_dict()})
        return Policy.from_dict(found["policy"])

    def apply(self, policy: Policy) -> Policy:
        found = self._call("POST", "/policies", {"policy": policy.to_dict(), "replace": True})
        return Policy.from_dict(found["policy"])

    def get(self, name: str) -> Policy:
        return Policy.from_dict(self._call("GET", _path(name))["policy"])

    def list(self) -> builtins.list[Policy]:
        return [Policy.from_dict(p) for p in self._call("GET", "/policies")["policies"]]

    def delete(self, name: str) -> None:
        self._call("DELETE", _path(name))

    def trigger(self, name: str, reason: str = "manual") -> PolicyRun:
        found = self._call("POST", _path(name) + "/trigger", {"reason": reason})
        return _RUN.validate_python(found["run"])

    def poll_triggers(self) -> builtins.list[PolicyRun]:
        return _RUNS.validate_python(self._call("POST", "/policy-runs/poll", {})["runs"])

    def tick(self) -> builtins.list[PolicyRun]:
        return _RUNS.validate_python(self._call("POST", "/policy-runs/tick", {})["runs"])

    def runs(self, name: str | None = None, *, limit: int = 50) -> builtins.list[PolicyRun]:
        found = self._call("GET", "/policy-runs", policy=name, limit=limit)["runs"]
        return _RUNS.validate_python(found)

    def get_run(self, run_id: int) -> PolicyRun:
        return _RUN.validate_python(self._call("GET", f"/policy-runs/{int(run_id)}")["run"])

    def events(
        self, name: str | None = None, *, run_id: int | None = None, limit: int = 1000
    ) -> builtins.list[PolicyEvent]:
        found = self._call("GET", "/policy-events", policy=name, run_id=run_id, limit=limit)
        return _EVENTS.validate_python(found["events"])


def open_policies(client: Client | None = None) -> Policies | RemotePolicies:
    """The policies of a tracking client's store: embedded, or its server's."""
    client = client if client is not None else get_client()
    if isinstance(client.store, SqlTrackingStore):
        return Policies(client)
    return RemotePolicies(client)
