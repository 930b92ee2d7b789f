"""Workspaces, their members and roles, which workspace owns an object, and ``authorize``.

Every object (experiment, registered model, dataset, deployment, policy)
belongs to one workspace; one with no ownership row belongs to "default",
which is created the first time anything needs it. Roles are read from the
database on each ``authorize``, so removing a member or changing a role
takes effect on that member's next request, whatever session or token it
holds.
"""

from __future__ import annotations

from collections.abc import Callable

from loopml.core.errors import InvalidArgument, NotFound, PermissionDenied
from loopml.core.text import check_text
from loopml.governance._names import check_name
from loopml.governance._principal import Principal
from loopml.governance._roles import DEFAULT_WORKSPACE, OBJECT_KINDS, Action, Member, Role
from loopml.store import SqlGovernanceStore
from loopml.store.governance_records import MAX_OBJECT_KEY, Workspace

MAX_DESCRIPTION = 10_000


def _kind(value: object) -> str:
    if value not in OBJECT_KINDS:
        raise InvalidArgument(
            f"Unknown object kind {value!r:.60}: use one of {', '.join(OBJECT_KINDS)}."
        )
    return str(value)


class WorkspaceRules:
    """The workspace half of ``Governance``: membership, ownership and authorization."""

    def __init__(self, store: SqlGovernanceStore, clock: Callable[[], int]) -> None:
        self.store = store
        self.clock = clock
        self._default_ready = False

    def _ensure_default(self) -> None:
        """Create the "default" workspace unless this instance has seen it already."""
        if not self._default_ready:
            self.store.ensure_workspace(
                DEFAULT_WORKSPACE, "Objects not assigned elsewhere.", self.clock()
            )
            self._default_ready = True

    def _workspace(self, name: str) -> str:
        name = check_name(name, "workspace")
        if name == DEFAULT_WORKSPACE:
            self._ensure_default()
        return name

    def create_workspace(self, name: str, description: str = "") -> Workspace:
        """Create a workspace (``AlreadyExists`` if the name is taken)."""
        name = self._workspace(name)
        description = check_text(description, "workspace description", MAX_DESCRIPTION)
        return self.store.insert_workspace(name, description, self.clock())

    def get_workspace(self, name: str) -> Workspace:
        found = self.store.get_workspace(self._workspace(name))
        if found is None:
            raise NotFound(f"No workspace named {name!r}.")
        return found

    def list_workspaces(self) -> list[Workspace]:
        self._ensure_default()
        return self.store.list_workspaces()

    def add_member(self, workspace: str, user: str, role: Role | str) -> None:
        """Give ``user`` ``role`` in ``workspace`` (replacing its role there); ``NotFound``."""
        workspace = self._workspace(workspace)
        user = check_name(user, "user")
        self.store.put_member(workspace, user, Role.parse(role).value, self.clock())

    def remove_member(self, workspace: str, user: str) -> None:
        """Take ``user`` out of ``workspace``; ``NotFound`` if it was not a member."""
        workspace = self.get_workspace(workspace).name
        if not self.store.delete_member(workspace, check_name(user, "user")):
            raise NotFound(f"{user!r} is not a member of workspace {workspace!r}.")

    def members(self, workspace: str) -> list[Member]:
        workspace = self.get_workspace(workspace).name
        return [Member(m.workspace, m.user, Role(m.role)) for m in self.store.members(workspace)]

    def role_of(self, user: str, workspace: str) -> Role | None:
        """``user``'s role in ``workspace``, or None (global admins have no role needed)."""
        role = self.store.role_of(check_name(user, "user"), check_name(workspace, "workspace"))
        return None if role is None else Role(role)

    def assign(self, kind: str, key: str, workspace: str) -> None:
        """Move an object (``kind`` in ``OBJECT_KINDS``) into ``workspace``."""
        kind = _kind(kind)
        key = check_text(key, f"{kind} key", MAX_OBJECT_KEY)
        if not key:
            raise InvalidArgument(f"The {kind} key is empty.")
        self.store.assign(kind, key, self._workspace(workspace))

    def workspace_of(self, kind: str, key: str) -> str:
        """The workspace owning an object: "default" unless it was assigned elsewhere."""
        found = self.store.workspace_of(_kind(kind), check_text(key, f"{kind} key", MAX_OBJECT_KEY))
        return DEFAULT_WORKSPACE if found is None else found

    def authorize(self, principal: Principal, workspace: str, action: Action | str) -> None:
        """Return if ``principal`` may do ``action`` in ``workspace``; ``PermissionDenied`` if not.

        Local (embedded) principals and global admins may do everything.
        """
        action = Action.parse(action)
        if principal.via == "local" or principal.is_admin:
            return
        role = self.role_of(principal.name, workspace)
        if role is not None and role.allows(action):
            return
        held = f"role {role.value}" if role is not None else "no role"
        raise PermissionDenied(
            f"User {principal.name!r} may not {action.value} in workspace {workspace!r} "
            f"({held} there)."
        )
