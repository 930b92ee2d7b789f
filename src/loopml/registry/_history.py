"""Rollback: the previous holder of an alias, read from its history.

The history is replayed as a stack of holders: a set or promotion pushes its
version, a deletion pushes "unset", and a rollback pops back to the version it
moved to. So rolling back twice after v1 -> v2 -> v3 goes to v2, then v1 (not
back and forth between v3 and v2), and a rollback after a deletion restores
the last holder. Versions deleted since are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from loopml.core.errors import InvalidArgument
from loopml.store import AliasAction, AliasEvent


def _holders(events: Sequence[AliasEvent]) -> list[int | None]:
    stack: list[int | None] = []
    for event in events:
        if event.action == AliasAction.ROLLBACK:
            while stack and stack[-1] != event.version:
                stack.pop()
            if not stack:
                stack.append(event.version)
        elif not stack or stack[-1] != event.version:
            stack.append(event.version)
    return stack


def rollback_target(
    name: str,
    alias: str,
    events: Sequence[AliasEvent],
    current: int | None,
    exists: Callable[[int], bool],
) -> int:
    """The version ``alias`` held before ``current``; InvalidArgument if there is none."""
    stack = _holders(events)
    if stack and stack[-1] == current:
        stack.pop()
    while stack:
        version = stack.pop()
        if version is not None and version != current and exists(version):
            return version
    held = "is not set" if current is None else f"points at version {current}"
    raise InvalidArgument(
        f"Cannot roll back alias {alias!r} of {name!r}: it {held} and no earlier version "
        "that still exists held it. Use set_alias to point it somewhere."
    )
