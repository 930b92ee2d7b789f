"""Open the online store a URI names: SQLite by default, Redis for teams."""

from __future__ import annotations

from pathlib import Path

from loopml.core.errors import InvalidArgument
from loopml.core.settings import Settings
from loopml.features._online import OnlineStore
from loopml.features._online_redis import RedisOnlineStore
from loopml.features._online_sqlite import SqliteOnlineStore

DEFAULT_FILENAME = "features_online.db"


def open_online_store(uri: str | None = None, *, settings: Settings | None = None) -> OnlineStore:
    """The online store at ``uri`` (else ``settings.features_online``, else SQLite under home).

    ``sqlite:///path/to/file.db`` or ``redis://host:port/db`` (also ``rediss://``
    and ``unix://``). Anything else is an InvalidArgument naming the accepted forms.
    """
    target = uri or (settings.features_online if settings is not None else None)
    if not target:
        home = (settings or Settings()).home.expanduser()
        return SqliteOnlineStore(home / DEFAULT_FILENAME)
    if target.startswith("sqlite:///"):
        path = target.removeprefix("sqlite:///")
        if not path:
            raise InvalidArgument("Online store URI 'sqlite:///' names no file.")
        return SqliteOnlineStore(Path(path))
    if target.startswith(("redis://", "rediss://", "unix://")):
        return RedisOnlineStore(target)
    raise InvalidArgument(
        f"Unknown online store URI {target!r}: use sqlite:///path/to/file.db or "
        "redis://host:port/db."
    )
