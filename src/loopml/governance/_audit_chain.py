"""The audit chain: how an entry is hashed, and the walk that finds what was changed.

Each entry's ``hash`` is the SHA-256 (hex) of the canonical JSON of its fields
(``seq``, ``time``, ``actor``, ``action``, ``object_type``, ``object_id``, the stored
``summary`` text, ``request_id``, ``source``) and ``prev_hash``, the hash of the
entry before it (64 zeros for the first). The head row records the last entry.
So an edited entry no longer matches its hash, a deleted or reordered one
breaks the link of the entry after it or leaves a gap in ``seq``, and a
truncated tail no longer reaches the head.

The hash has no secret key: someone who can write the database could rebuild
the whole chain. Keep an exported copy (or the head hash printed by ``loopml
audit verify``) elsewhere to detect that too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from loopml.governance._audit_fields import canonical_json
from loopml.store._sql_audit import GENESIS_HASH, AuditHead, AuditRow

MAX_PROBLEMS = 100


def entry_hash(row: AuditRow) -> str:
    """The hash ``row`` must carry: SHA-256 over its canonical fields and ``prev_hash``."""
    fields = {
        "seq": row.seq,
        "time": row.time,
        "actor": row.actor,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "summary": row.summary,
        "request_id": row.request_id,
        "source": row.source,
        "prev_hash": row.prev_hash,
    }
    return hashlib.sha256(canonical_json(fields).encode("ascii")).hexdigest()


def _span(first: int, last: int) -> str:
    return f"Entry {first} is" if first == last else f"Entries {first} to {last} are"


class ChainCheck:
    """Feed it every row in ``seq`` order, then the head; it collects what is wrong."""

    def __init__(self) -> None:
        self.checked = 0
        self.last: AuditRow | None = None
        self.problems: list[str] = []
        self._dropped = 0

    def _problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        else:
            self._dropped += 1

    def add(self, rows: Iterable[AuditRow]) -> int:
        """Check each row against the one before it; returns how many were read."""
        count = 0
        for row in rows:
            self._check(row)
            self.last = row
            self.checked += 1
            count += 1
        return count

    def _check(self, row: AuditRow) -> None:
        prev = self.last
        expected_seq = 1 if prev is None else prev.seq + 1
        if row.seq > expected_seq:
            where = (
                "the start of the log was deleted"
                if prev is None
                else f"between entry {prev.seq} and entry {row.seq}: they were deleted"
            )
            self._problem(f"{_span(expected_seq, row.seq - 1)} missing ({where}).")
        elif prev is None and row.prev_hash != GENESIS_HASH:
            self._problem(
                f"Entry {row.seq} starts the log but does not link to the start of the chain "
                "(its prev_hash is not the genesis hash): it was changed."
            )
        elif prev is not None and row.prev_hash != prev.hash:
            self._problem(
                f"Entry {row.seq} does not follow entry {prev.seq}: its prev_hash is not the "
                f"hash of entry {prev.seq} (entry {prev.seq} was rewritten, or entries were "
                "deleted, inserted or reordered here)."
            )
        if entry_hash(row) != row.hash:
            self._problem(
                f"Entry {row.seq} was altered: its content (time, actor, action, object, "
                "summary, request id or source) no longer matches its hash."
            )

    def finish(self, head: AuditHead | None) -> list[str]:
        """Compare the last row with the head; returns every problem found."""
        last = self.last
        if head is None:
            if last is not None:
                self._problem(
                    f"The chain head (table audit_head) is missing although the log has "
                    f"{self.checked} entries: it was deleted."
                )
        elif last is None:
            if head.last_seq > 0:
                self._problem(
                    f"The log is empty but its head records entry {head.last_seq}: every entry "
                    "was deleted."
                )
        elif head.last_seq > last.seq:
            self._problem(
                f"The log ends at entry {last.seq} but its head records entry {head.last_seq}: "
                f"{_span(last.seq + 1, head.last_seq).lower()} missing (deleted from the end)."
            )
        elif head.last_seq < last.seq:
            self._problem(
                f"The chain head records entry {head.last_seq} but the log continues to entry "
                f"{last.seq}: the head was changed, or entries were added around the audit log."
            )
        elif head.last_hash != last.hash:
            self._problem(
                f"The hash of the last entry ({last.seq}) does not match the chain head: the "
                "entry or the head was changed."
            )
        if self._dropped:
            self.problems.append(f"... and {self._dropped} more problems.")
        return self.problems
