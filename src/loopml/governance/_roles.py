"""Roles, actions and what a role allows: viewer < editor < maintainer < admin.

A role allows the action it is named for and every action below it; the
order is the one place this rule is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self

from loopml.core.errors import InvalidArgument

DEFAULT_WORKSPACE = "default"
OBJECT_KINDS = ("experiment", "registered_model", "dataset", "deployment", "policy")


class _Ranked(StrEnum):
    """A string enum ordered by declaration, not alphabetically."""

    @property
    def rank(self) -> int:
        return list(type(self)).index(self)

    def _other_rank(self, other: Any) -> int | None:
        return other.rank if isinstance(other, type(self)) else None

    def __lt__(self, other: Any) -> bool:
        rank = self._other_rank(other)
        return NotImplemented if rank is None else self.rank < rank

    def __le__(self, other: Any) -> bool:
        rank = self._other_rank(other)
        return NotImplemented if rank is None else self.rank <= rank

    def __gt__(self, other: Any) -> bool:
        rank = self._other_rank(other)
        return NotImplemented if rank is None else self.rank > rank

    def __ge__(self, other: Any) -> bool:
        rank = self._other_rank(other)
        return NotImplemented if rank is None else self.rank >= rank

    @classmethod
    def parse(cls, value: object) -> Self:
        """The member named by ``value`` (a member or its string); ``InvalidArgument``."""
        if isinstance(value, cls):
            return value
        try:
            return cls(value if isinstance(value, str) else repr(value))
        except ValueError:
            names = ", ".join(member.value for member in cls)
            what = cls.__name__.lower()
            raise InvalidArgument(f"Unknown {what} {value!r:.60}: use one of {names}.") from None


class Action(_Ranked):
    """What a request does to a workspace's objects."""

    READ = "read"
    WRITE = "write"  # log runs, register versions, create objects
    MAINTAIN = "maintain"  # move aliases, deployments, policies, delete
    ADMINISTER = "administer"  # members and roles


class Role(_Ranked):
    """A user's role in one workspace."""

    VIEWER = "viewer"
    EDITOR = "editor"
    MAINTAINER = "maintainer"
    ADMIN = "admin"

    def allows(self, action: Action | str) -> bool:
        """Whether this role may do ``action`` (its own action and those below it)."""
        return Action.parse(action).rank <= self.rank


@dataclass(frozen=True, slots=True)
class Member:
    """A user's role in a workspace."""

    workspace: str
    user: str
    role: Role
