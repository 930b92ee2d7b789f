"""The SQL governance store: users, API tokens, UI sessions, workspaces, members, ownership.

Every write is one transaction. Rules (who may do what, password strength,
token formats) live in ``loopml.governance``; this module only keeps rows.
The "default" workspace is inserted with ON CONFLICT DO NOTHING, so any
number of processes may ensure it at once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, or_, select, update

from loopml.core.errors import AlreadyExists, NotFound
from loopml.store._database import Database
from loopml.store._governance_models import (
    API_TOKENS,
    UI_SESSIONS,
    USERS,
    WORKSPACE_MEMBERS,
    WORKSPACE_OBJECTS,
    WORKSPACES,
)
from loopml.store._migrate import upgrade
from loopml.store._upsert import ignore_statement, upsert
from loopml.store.governance_records import (
    LoginState,
    Membership,
    StoredSession,
    StoredToken,
    TokenInfo,
    User,
    Workspace,
)


def _user(row: Any) -> User:
    return User(
        name=row.name,
        kind=row.kind,
        is_admin=bool(row.is_admin),
        disabled=bool(row.disabled),
        created_time=row.created_time,
        has_password=row.password_hash is not None,
    )


def _token(row: Any) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        user=row.user_name,
        name=row.name,
        created_time=row.created_time,
        expires_time=row.expires_time,
        last_used_time=row.last_used_time,
        revoked_time=row.revoked_time,
    )


def _workspace(row: Any) -> Workspace:
    return Workspace(name=row.name, description=row.description, created_time=row.created_time)


def _membership(row: Any) -> Membership:
    return Membership(
        workspace=row.workspace, user=row.user_name, role=row.role, created_time=row.created_time
    )


def _user_row(conn: Connection, name: str) -> Any:
    return conn.execute(select(USERS).where(USERS.c.name == name)).first()


def _check_workspace(conn: Connection, name: str) -> None:
    found = conn.execute(select(WORKSPACES.c.name).where(WORKSPACES.c.name == name)).first()
    if found is None:
        raise NotFound(f"No workspace named {name!r}: create it with `loopml workspaces create`.")


class SqlGovernanceStore:
    """Governance rows on a metadata database (migrated on first use)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        upgrade(db)

    # -- users ---------------------------------------------------------------------------
    def insert_user(
        self, name: str, kind: str, password_hash: str | None, is_admin: bool, now: int
    ) -> User:
        """Add a user; ``AlreadyExists`` if the name is taken."""
        with self.db.write() as conn:
            if _user_row(conn, name) is not None:
                raise AlreadyExists(f"A user named {name!r} exists already.")
            conn.execute(
                USERS.insert().values(
                    name=name,
                    kind=kind,
                    password_hash=password_hash,
                    is_admin=is_admin,
                    disabled=False,
                    failed_logins=0,
                    last_failed_time=None,
                    created_time=now,
                )
            )
            return _user(_user_row(conn, name))

    def get_user(self, name: str) -> User | None:
        with self.db.read() as conn:
            row = _user_row(conn, name)
        return None if row is None else _user(row)

    def login_state(self, name: str) -> LoginState | None:
        """The user with its password hash and failure counter, or None."""
        with self.db.read() as conn:
            row = _user_row(conn, name)
        if row is None:
            return None
        return LoginState(
            user=_user(row),
            password_hash=row.password_hash,
            failed_logins=row.failed_logins,
            last_failed_time=row.last_failed_time,
        )

    def list_users(self) -> list[User]:
        with self.db.read() as conn:
            rows = conn.execute(select(USERS).order_by(USERS.c.name)).all()
        return [_user(row) for row in rows]

    def has_admin(self) -> bool:
        """Whether an enabled admin exists."""
        query = select(USERS.c.name).where(USERS.c.is_admin.is_(True), USERS.c.disabled.is_(False))
        with self.db.read() as conn:
            return conn.execute(query.limit(1)).first() is not None

    def set_password_hash(self, name: str, password_hash: str, *, reset_failures: bool) -> bool:
        """Store a new hash (and clear the failure counter if asked); False if no such user."""
        values: dict[str, Any] = {"password_hash": password_hash}
        if reset_failures:
            values.update(failed_logins=0, last_failed_time=None)
        with self.db.write() as conn:
            result = conn.execute(update(USERS).where(USERS.c.name == name).values(**values))
            return bool(result.rowcount)

    def record_login_failure(self, name: str, now: int) -> None:
        """Count one more consecutive failure (in the database, so every worker sees it)."""
        with self.db.write() as conn:
            conn.execute(
                update(USERS)
                .where(USERS.c.name == name)
                .values(failed_logins=USERS.c.failed_logins + 1, last_failed_time=now)
            )

    def reset_login_failures(self, name: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                update(USERS)
                .where(USERS.c.name == name, USERS.c.failed_logins != 0)
                .values(failed_logins=0, last_failed_time=None)
            )

    def disable_user(self, name: str) -> User | None:
        """Mark the user disabled and end its sessions, in one transaction; None if unknown."""
        with self.db.write() as conn:
            result = conn.execute(update(USERS).where(USERS.c.name == name).values(disabled=True))
            if not result.rowcount:
                return None
            conn.execute(delete(UI_SESSIONS).where(UI_SESSIONS.c.user_name == name))
            return _user(_user_row(conn, name))

    # -- API tokens ----------------------------------------------------------------------
    def insert_token(self, info: TokenInfo, token_hash: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                API_TOKENS.insert().values(
                    id=info.id,
                    user_name=info.user,
                    name=info.name,
                    token_hash=token_hash,
                    created_time=info.created_time,
                    expires_time=info.expires_time,
                    last_used_time=info.last_used_time,
                    revoked_time=info.revoked_time,
                )
            )

    def get_token(self, token_id: str) -> StoredToken | None:
        with self.db.read() as conn:
            row = conn.execute(select(API_TOKENS).where(API_TOKENS.c.id == token_id)).first()
        return None if row is None else StoredToken(info=_token(row), token_hash=row.token_hash)

    def list_tokens(self, user: str | None = None) -> list[TokenInfo]:
        query = select(API_TOKENS).order_by(API_TOKENS.c.created_time, API_TOKENS.c.id)
        if user is not None:
            query = query.where(API_TOKENS.c.user_name == user)
        with self.db.read() as conn:
            return [_token(row) for row in conn.execute(query).all()]

    def revoke_token(self, token_id: str, now: int) -> TokenInfo | None:
        """Set the revocation time (kept if revoked already); None if no such token."""
        with self.db.write() as conn:
            conn.execute(
                update(API_TOKENS)
                .where(API_TOKENS.c.id == token_id, API_TOKENS.c.revoked_time.is_(None))
                .values(revoked_time=now)
            )
            row = conn.execute(select(API_TOKENS).where(API_TOKENS.c.id == token_id)).first()
            return None if row is None else _token(row)

    def touch_token(self, token_id: str, now: int, older_than: int) -> None:
        """Set ``last_used_time`` to ``now`` unless it is at or after ``older_than`` already."""
        with self.db.write() as conn:
            conn.execute(
                update(API_TOKENS)
                .where(
                    API_TOKENS.c.id == token_id,
                    or_(
                        API_TOKENS.c.last_used_time.is_(None),
                        API_TOKENS.c.last_used_time < older_than,
                    ),
                )
                .values(last_used_time=now)
            )

    # -- browser sessions ----------------------------------------------------------------
    def insert_session(self, id_hash: str, session: StoredSession) -> None:
        """Add a session, dropping sessions that have expired (so the table stays small)."""
        with self.db.write() as conn:
            conn.execute(
                delete(UI_SESSIONS).where(UI_SESSIONS.c.expires_time <= session.created_time)
            )
            conn.execute(
                UI_SESSIONS.insert().values(
                    id_hash=id_hash,
                    user_name=session.user,
                    csrf_token=session.csrf_token,
                    created_time=session.created_time,
                    expires_time=session.expires_time,
                )
            )

    def get_session(self, id_hash: str) -> StoredSession | None:
        with self.db.read() as conn:
            row = conn.execute(select(UI_SESSIONS).where(UI_SESSIONS.c.id_hash == id_hash)).first()
        if row is None:
            return None
        return StoredSession(
            user=row.user_name,
            csrf_token=row.csrf_token,
            created_time=row.created_time,
            expires_time=row.expires_time,
        )

    def delete_session(self, id_hash: str) -> None:
        with self.db.write() as conn:
            conn.execute(delete(UI_SESSIONS).where(UI_SESSIONS.c.id_hash == id_hash))

    # -- workspaces ----------------------------------------------------------------------
    def ensure_workspace(self, name: str, description: str, now: int) -> None:
        """Create the workspace unless it exists (safe to race)."""
        with self.db.write() as conn:
            conn.execute(
                ignore_statement(conn.dialect.name, WORKSPACES),
                [{"name": name, "description": description, "created_time": now}],
            )

    def insert_workspace(self, name: str, description: str, now: int) -> Workspace:
        """Create a workspace; ``AlreadyExists`` if the name is taken."""
        with self.db.write() as conn:
            taken = conn.execute(select(WORKSPACES.c.name).where(WORKSPACES.c.name == name))
            if taken.first() is not None:
                raise AlreadyExists(f"A workspace named {name!r} exists already.")
            conn.execute(
                WORKSPACES.insert().values(name=name, description=description, created_time=now)
            )
        return Workspace(name=name, description=description, created_time=now)

    def get_workspace(self, name: str) -> Workspace | None:
        with self.db.read() as conn:
            row = conn.execute(select(WORKSPACES).where(WORKSPACES.c.name == name)).first()
        return None if row is None else _workspace(row)

    def list_workspaces(self) -> list[Workspace]:
        with self.db.read() as conn:
            rows = conn.execute(select(WORKSPACES).order_by(WORKSPACES.c.name)).all()
        return [_workspace(row) for row in rows]

    def put_member(self, workspace: str, user: str, role: str, now: int) -> None:
        """Give ``user`` ``role`` in ``workspace``, replacing any role it had; NotFound."""
        row = {"workspace": workspace, "user_name": user, "role": role, "created_time": now}
        with self.db.write() as conn:
            _check_workspace(conn, workspace)
            if _user_row(conn, user) is None:
                raise NotFound(f"No user named {user!r}.")
            upsert(conn, WORKSPACE_MEMBERS, [row], ("workspace", "user_name"), ("role",))

    def delete_member(self, workspace: str, user: str) -> bool:
        """Remove a membership; False if there was none."""
        table = WORKSPACE_MEMBERS
        with self.db.write() as conn:
            result = conn.execute(
                delete(table).where(table.c.workspace == workspace, table.c.user_name == user)
            )
            return bool(result.rowcount)

    def members(self, workspace: str) -> list[Membership]:
        table = WORKSPACE_MEMBERS
        query = select(table).where(table.c.workspace == workspace).order_by(table.c.user_name)
        with self.db.read() as conn:
            return [_membership(row) for row in conn.execute(query).all()]

    def role_of(self, user: str, workspace: str) -> str | None:
        table = WORKSPACE_MEMBERS
        query = select(table.c.role).where(
            table.c.workspace == workspace, table.c.user_name == user
        )
        with self.db.read() as conn:
            return conn.execute(query).scalar_one_or_none()

    # -- object ownership ----------------------------------------------------------------
    def assign(self, kind: str, key: str, workspace: str) -> None:
        row = {"kind": kind, "key": key, "workspace": workspace}
        with self.db.write() as conn:
            _check_workspace(conn, workspace)
            upsert(conn, WORKSPACE_OBJECTS, [row], ("kind", "key"), ("workspace",))

    def workspace_of(self, kind: str, key: str) -> str | None:
        table = WORKSPACE_OBJECTS
        query = select(table.c.workspace).where(table.c.kind == kind, table.c.key == key)
        with self.db.read() as conn:
            return conn.execute(query).scalar_one_or_none()
