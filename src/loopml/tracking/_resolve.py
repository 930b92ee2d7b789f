"""From URIs to store instances, once per process.

``sqlite:///...`` and ``postgresql://...`` open the metadata database
directly (embedded mode). Unless an object store URI is given, a SQLite
database keeps its blobs in an ``objects`` folder beside it, so one folder
holds a whole tracking store.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy.engine import make_url

from loopml.core.errors import InvalidArgument
from loopml.core.settings import Settings
from loopml.objects import ObjectStore, open_object_store
from loopml.store import SqlTrackingStore, TrackingStore

_lock = threading.Lock()
_stores: dict[str, TrackingStore] = {}
_object_stores: dict[str, ObjectStore] = {}


def open_tracking_store(uri: str, settings: Settings) -> TrackingStore:
    """The (shared, thread-safe) tracking store for ``uri``."""
    with _lock:
        store = _stores.get(uri)
        if store is None:
            store = _stores[uri] = _create(uri, settings)
        return store


def _create(uri: str, settings: Settings) -> TrackingStore:
    scheme = uri.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme in ("sqlite", "postgresql", "postgres"):
        if scheme == "postgres":
            uri = "postgresql" + uri[len("postgres") :]
        return SqlTrackingStore(uri, busy_timeout_seconds=settings.sqlite_busy_timeout_seconds)
    raise InvalidArgument(
        f"Unsupported tracking URI {uri!r}: use sqlite:///path/to/loopml.db or "
        "postgresql+psycopg://user@host/db."
    )


def default_object_store_uri(tracking_uri: str, settings: Settings) -> str:
    """Where blobs go when no object store URI is configured."""
    if settings.object_store_uri:
        return settings.object_store_uri
    if tracking_uri.startswith("sqlite"):
        database = make_url(tracking_uri).database
        if database and database != ":memory:":
            return str(Path(database).expanduser().resolve().parent / "objects")
    return settings.resolved_object_store_uri()


def open_objects(uri: str, settings: Settings) -> ObjectStore:
    """The shared object store for ``uri``."""
    with _lock:
        objects = _object_stores.get(uri)
        if objects is None:
            objects = _object_stores[uri] = open_object_store(
                uri,
                chunking_threshold=settings.chunking_threshold_bytes,
                storage_options=settings.object_store_options or None,
            )
        return objects
