"""Remote mode: the audit log of a loopml server, read over its native API (``/api/v1/audit``).

``RemoteAuditLog`` has the reading methods of ``AuditLog`` (``list``, ``verify``,
``lines``, ``export``); the server runs the same ``AuditLog`` behind each, so the
checks and the errors are the same embedded and remote. Entries are recorded by
the server itself, never sent by a client. ``open_audit_log`` picks one.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterator
from typing import IO, Any, Unpack

from pydantic import TypeAdapter

from loopml.core.errors import InvalidArgument, StorageError
from loopml.governance._audit import AuditEntry, AuditFilters, AuditLog, AuditVerification
from loopml.store import SqlTrackingStore
from loopml.tracking import Client, get_client
from loopml.tracking._rest import RestTrackingStore, error_of

_ENTRIES = TypeAdapter(list[AuditEntry])
_VERIFICATION = TypeAdapter(AuditVerification)


def _params(**given: Any) -> dict[str, Any]:
    return {k: v for k, v in given.items() if v is not None}


def _checked(line: str) -> str:
    """``line`` if it is a whole JSON entry: a cut connection must not pass as a short export."""
    try:
        json.loads(line)
    except ValueError:
        raise StorageError(
            "The audit export from the server was cut off in the middle of an entry: try again."
        ) from None
    return line


class RemoteAuditLog:
    """The audit log of the loopml server a tracking client talks to."""

    def __init__(self, client: Client) -> None:
        if not isinstance(client.store, RestTrackingStore):
            raise InvalidArgument(f"{client.tracking_uri!r} is not a loopml server.")
        self.client = client
        self._rest = client.store

    def list(
        self,
        *,
        since_ms: int | None = None,
        until_ms: int | None = None,
        user: str | None = None,
        object_type: str | None = None,
        object_id: str | None = None,
        limit: int = 1000,
        before_seq: int | None = None,
    ) -> builtins.list[AuditEntry]:
        params = _params(
            since=since_ms,
            until=until_ms,
            user=user,
            object_type=object_type,
            object_id=object_id,
            limit=limit,
            before_seq=before_seq,
        )
        found = self._rest.call("GET", "/audit", params=params)
        return _ENTRIES.validate_python(found["entries"])

    def verify(self) -> AuditVerification:
        return _VERIFICATION.validate_python(self._rest.call("GET", "/audit/verify"))

    def lines(
        self,
        *,
        since_ms: int | None = None,
        until_ms: int | None = None,
        user: str | None = None,
        object_type: str | None = None,
        object_id: str | None = None,
    ) -> Iterator[str]:
        """The server's JSON lines export, streamed (each line ends in a newline)."""
        params = _params(
            since=since_ms, until=until_ms, user=user, object_type=object_type, object_id=object_id
        )
        with (
            self._rest.reaching(),
            self._rest.http.stream("GET", "/audit/export", params=params) as response,
        ):
            if not response.is_success:
                response.read()
                raise error_of(response)
            for line in response.iter_lines():
                if line.strip():
                    yield _checked(line) + "\n"

    def export(self, out: IO[str], **filters: Unpack[AuditFilters]) -> int:
        """Write the matching entries to ``out`` as JSON lines, oldest first; returns how many."""
        count = 0
        for line in self.lines(**filters):
            out.write(line)
            count += 1
        return count


def open_audit_log(client: Client | None = None) -> AuditLog | RemoteAuditLog:
    """The audit log of a tracking client's store: embedded, or its server's."""
    client = client if client is not None else get_client()
    if isinstance(client.store, SqlTrackingStore):
        return AuditLog(client)
    return RemoteAuditLog(client)
