"""``AuditLog``: who did what, when, to which object, in a chain that shows any later edit.

::

    audit = AuditLog()                              # over loopml.tracking.get_client()
    audit.record(actor="alice", action="set_alias", object_type="registered_model",
                 object_id="churn@champion", summary={"version": 7}, request_id=rid)
    audit.list(user="alice", since_ms=parse_time("7d"))   # newest first
    audit.verify()                                  # AuditVerification(ok, checked, problems)
    audit.export(open("audit.jsonl", "w"))          # JSON lines, oldest first

The server records every mutating request (``loopml.server._audit``) and every
login and token use; ``loopml audit`` and the ``/audit`` page read it. Entries
are only ever appended; ``verify`` walks all of them (see ``_audit_chain``).
Reading the log is for administrators: ``require_auditor`` says who may.
"""

from __future__ import annotations

import abc
import builtins
import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import IO, Any, TypedDict, Unpack

from loopml.core.clock import now_ms
from loopml.core.errors import InvalidArgument, PermissionDenied, Unauthenticated
from loopml.governance._audit_chain import ChainCheck, entry_hash
from loopml.governance._audit_fields import fit, parse_summary, parse_time, summary_text
from loopml.governance._principal import Principal
from loopml.store import SqlTrackingStore
from loopml.store._sql_audit import AuditHead, AuditQuery, AuditRow, SqlAuditStore
from loopml.tracking import Client, get_client

MAX_LIST = 10_000
_CATCH_UP_ROUNDS = 10


@dataclass(frozen=True)
class AuditEntry:
    """One audit entry: ``time`` in epoch ms; ``summary`` is what changed (a JSON object)."""

    seq: int
    time: int
    actor: str
    action: str
    object_type: str
    object_id: str
    summary: dict[str, Any]
    request_id: str
    source: str
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, row: AuditRow) -> AuditEntry:
        return cls(**{**asdict(row), "summary": parse_summary(row.summary)})

    def to_dict(self) -> dict[str, Any]:
        """The entry as JSON-ready data (what export writes, one per line)."""
        return asdict(self)


class AuditFilters(TypedDict, total=False):
    """The filters ``list``, ``lines`` and ``export`` share (all optional)."""

    since_ms: int | None
    until_ms: int | None
    user: str | None
    object_type: str | None
    object_id: str | None


@dataclass(frozen=True)
class AuditVerification:
    """What ``verify`` found: ``ok`` when every entry is intact and chained to the head.

    ``problems`` name the entry (its ``seq``) and what is wrong with it; ``last_hash``
    is the head's hash, worth keeping elsewhere to detect a rebuilt chain later.
    """

    ok: bool
    checked: int
    problems: list[str]
    last_seq: int = 0
    last_hash: str = ""


def require_auditor(principal: Principal | None) -> None:
    """Refuse anyone but an administrator (or the embedded single user) the audit log."""
    if principal is None:
        raise Unauthenticated("Sign in as an administrator to read the audit log.")
    if principal.via == "local" or principal.is_admin:
        return
    raise PermissionDenied(
        f"User {principal.name!r} may not read the audit log: it is for administrators."
    )


def filters_from_text(
    since: str | None,
    until: str | None,
    user: str | None,
    object_type: str | None,
    object_id: str | None,
) -> AuditFilters:
    """Filters as a person types them (CLI options, query parameters), as ``list`` takes them.

    ``since``/``until`` take what ``parse_time`` takes; InvalidArgument if malformed.
    """
    return {
        "since_ms": None if since is None else parse_time(since),
        "until_ms": None if until is None else parse_time(until),
        "user": user,
        "object_type": object_type,
        "object_id": object_id,
    }


def _known(filters: AuditFilters) -> AuditFilters:
    """``filters`` if every name is a filter's: a misspelt one must not silently match all."""
    unknown = sorted(set(filters) - AuditFilters.__optional_keys__)
    if unknown:
        raise TypeError(f"Unexpected audit filter(s): {', '.join(unknown)}.")
    return filters


def _query(
    filters: AuditFilters, *, newest_first: bool = True, before_seq: int | None = None
) -> AuditQuery:
    since_ms, until_ms = filters.get("since_ms"), filters.get("until_ms")
    object_type, object_id = filters.get("object_type"), filters.get("object_id")
    for name, value in (("since_ms", since_ms), ("until_ms", until_ms), ("before_seq", before_seq)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidArgument(f"{name} must be an integer, not {value!r}.")
    if since_ms is not None and until_ms is not None and since_ms >= until_ms:
        raise InvalidArgument("The time range is empty: 'since' must be before 'until'.")
    if object_id is not None and not object_type:
        raise InvalidArgument("An object id needs its object type (TYPE:ID).")
    return AuditQuery(
        since_ms=since_ms,
        until_ms=until_ms,
        actor=filters.get("user") or None,
        object_type=object_type or None,
        object_id=object_id,
        newest_first=newest_first,
        before_seq=before_seq,
    )


class AuditReader(abc.ABC):
    """Reading an audit log, embedded (``AuditLog``) or a server's (``RemoteAuditLog``).

    The public methods and their filters (``AuditFilters``) are defined here once;
    each log reads the entries its own way (``_list``, ``_lines``, ``verify``).
    """

    def list(
        self, *, limit: int = 1000, before_seq: int | None = None, **filters: Unpack[AuditFilters]
    ) -> builtins.list[AuditEntry]:
        """Entries in ``[since_ms, until_ms)`` by ``user`` on the object, newest first.

        ``before_seq`` pages on: pass the ``seq`` of the last entry of the previous page.
        """
        return self._list(_known(filters), limit, before_seq)

    def lines(self, **filters: Unpack[AuditFilters]) -> Iterator[str]:
        """Matching entries as JSON lines (each ending in a newline), oldest first."""
        return self._lines(_known(filters))

    def export(self, out: IO[str], **filters: Unpack[AuditFilters]) -> int:
        """Write the matching entries to ``out`` as JSON lines, oldest first; returns how many."""
        count = 0
        for line in self.lines(**filters):
            out.write(line)
            count += 1
        return count

    @abc.abstractmethod
    def verify(self) -> AuditVerification:
        """Walk every entry in ``seq`` order and report each edit, gap, broken link or cut tail."""

    @abc.abstractmethod
    def _list(
        self, filters: AuditFilters, limit: int, before_seq: int | None
    ) -> builtins.list[AuditEntry]: ...

    @abc.abstractmethod
    def _lines(self, filters: AuditFilters) -> Iterator[str]: ...


class AuditLog(AuditReader):
    """The audit log of one metadata store (embedded, or inside the server)."""

    def __init__(self, client: Client | None = None) -> None:
        self.client = client if client is not None else get_client()
        if not isinstance(self.client.store, SqlTrackingStore):
            raise InvalidArgument(
                "The audit log is kept beside the metadata database; against a server use "
                "loopml.governance.open_audit_log(client), which reads it through the API."
            )
        self.store = SqlAuditStore(self.client.store.db)

    def record(
        self,
        *,
        actor: str,
        action: str,
        object_type: str,
        object_id: str,
        summary: Mapping[str, Any] | None = None,
        request_id: str = "",
        source: str = "",
    ) -> AuditEntry:
        """Append one entry (one transaction); secrets are dropped from ``summary``."""
        text = summary_text(summary)
        fields = {
            "actor": fit(actor, "actor"),
            "action": fit(action, "action"),
            "object_type": fit(object_type, "object_type"),
            "object_id": fit(object_id, "object_id"),
            "request_id": fit(request_id, "request_id"),
            "source": fit(source, "source"),
        }

        def build(seq: int, prev_hash: str) -> AuditRow:
            row = AuditRow(
                seq=seq, time=now_ms(), summary=text, prev_hash=prev_hash, hash="", **fields
            )
            return AuditRow(**{**asdict(row), "hash": entry_hash(row)})

        return AuditEntry.of(self.store.append(build))

    def _list(
        self, filters: AuditFilters, limit: int, before_seq: int | None
    ) -> builtins.list[AuditEntry]:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= MAX_LIST:
            raise InvalidArgument(f"limit must be between 1 and {MAX_LIST}, not {limit!r}.")
        query = _query(filters, before_seq=before_seq)
        return [AuditEntry.of(row) for row in self.store.list(query, limit)]

    def verify(self) -> AuditVerification:
        check = ChainCheck()
        head: AuditHead | None = None
        for _ in range(_CATCH_UP_ROUNDS):
            after = None if check.last is None else check.last.seq
            read = check.add(self.store.iterate(AuditQuery(after_seq=after)))
            head = self.store.head()
            caught_up = head is None or check.last is None or head.last_seq <= check.last.seq
            if caught_up or read == 0:  # entries appended meanwhile are read in the next round
                break
        problems = check.finish(head)
        return AuditVerification(
            ok=not problems,
            checked=check.checked,
            problems=problems,
            last_seq=0 if head is None else head.last_seq,
            last_hash="" if head is None else head.last_hash,
        )

    def _lines(self, filters: AuditFilters) -> Iterator[str]:
        # The filters are checked now (InvalidArgument), the entries read as iterated.
        query = _query(filters, newest_first=False)
        return (
            json.dumps(AuditEntry.of(row).to_dict(), sort_keys=True) + "\n"
            for row in self.store.iterate(query)
        )
