"""Remote mode: the audit log of a loopml server, read over its native API (``/api/v1/audit``).

``RemoteAuditLog`` is an ``AuditReader`` like ``AuditLog`` (``list``, ``verify``,
``lines``, ``export``); the server runs the same ``AuditLog`` behind each, so the
checks and the errors are the same embedded and remote. Entries are recorded by
the server itself, never sent by a client. ``open_audit_log`` picks one.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterator
from typing import Any

from pydantic import TypeAdapter

from loopml.core.errors import InvalidArgument, StorageError
from loopml.governance._audit import (
    AuditEntry,
    AuditFilters,
    AuditLog,
    AuditReader,
    AuditVerification,
)
from loopml.store import SqlTrackingStore
from loopml.tracking import Client, get_client
from loopml.tracking._rest import RestTrackingStore, error_of

_ENTRIES = TypeAdapter(list[AuditEntry])
_VERIFICATION = TypeAdapter(AuditVerification)


_PARAM_NAMES = {"since_ms": "since", "until_ms": "until"}  # the rest are named alike


def _params(filters: AuditFilters, **more: Any) -> dict[str, Any]:
    """The filters (and ``more``) as the API's query parameters; unset ones left out."""
    given = {**filters, **more}
    return {_PARAM_NAMES.get(k, k): v for k, v in given.items() if v is not None}


def _checked(line: str) -> str:
    """``line`` if it is a whole JSON entry: a cut connection must not pass as a short export."""
    try:
        json.loads(line)
    except ValueError:
        raise StorageError(
            "The audit export from the server was cut off in the middle of an entry: try again."
        ) from None
    return line


class RemoteAuditLog(AuditReader):
    """The audit log of the loopml server a tracking client talks to."""

    def __init__(self, client: Client) -> None:
        if not isinstance(client.store, RestTrackingStore):
            raise InvalidArgument(f"{client.tracking_uri!r} is not a loopml server.")
        self.client = client
        self._rest = client.store

    def _list(
        self, filters: AuditFilters, limit: int, before_seq: int | None
    ) -> builtins.list[AuditEntry]:
        params = _params(filters, limit=limit, before_seq=before_seq)
        found = self._rest.call("GET", "/audit", params=params)
        return _ENTRIES.validate_python(found["entries"])

    def verify(self) -> AuditVerification:
        return _VERIFICATION.validate_python(self._rest.call("GET", "/audit/verify"))

    def _lines(self, filters: AuditFilters) -> Iterator[str]:
        """The server's JSON lines export, streamed (each line ends in a newline)."""
        with (
            self._rest.reaching(),
            self._rest.http.stream("GET", "/audit/export", params=_params(filters)) as response,
        ):
            if not response.is_success:
                response.read()
                raise error_of(response)
            for line in response.iter_lines():
                if line.strip():
                    yield _checked(line) + "\n"


def open_audit_log(client: Client | None = None) -> AuditLog | RemoteAuditLog:
    """The audit log of a tracking client's store: embedded, or its server's."""
    client = client if client is not None else get_client()
    if isinstance(client.store, SqlTrackingStore):
        return AuditLog(client)
    return RemoteAuditLog(client)
