"""From URIs to store instances, once per process.

``sqlite:///...`` and ``postgresql://...`` open the metadata database
directly (embedded mode). Unless an object store URI is given, a SQLite
database keeps its blobs in an ``objects`` folder beside it, so one folder
holds a whole tracking store. ``http(s)://...`` talks to a loopml server
(remote mode): artifacts go through the server, and logged batches through
a durable local spool; spool files left by dead processes are replayed the
first time a process opens that server.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from loopml.core.errors import InvalidArgument, LoopmlError
from loopml.core.settings import Settings
from loopml.objects import ObjectStore, open_object_store
from loopml.store import SqlTrackingStore, TrackingStore
from loopml.tracking._artifacts import ArtifactRepository, LocalArtifacts
from loopml.tracking._rest import RemoteArtifacts, RestTrackingStore, is_remote_uri
from loopml.tracking._spool import (
    NullSpool,
    ReplayReport,
    Spool,
    read_spool,
    replay_file,
    spool_directory,
)
from loopml.tracking._spool import spool_files as find_spool_files

log = logging.getLogger("loopml.tracking")

_lock = threading.Lock()
_stores: dict[str, TrackingStore] = {}
_object_stores: dict[str, ObjectStore] = {}
_replayed: set[str] = set()


def open_tracking_store(uri: str, settings: Settings) -> TrackingStore:
    """The (shared, thread-safe) tracking store for ``uri``."""
    with _lock:
        store = _stores.get(uri)
        if store is None:
            store = _stores[uri] = _create(uri, settings)
        return store


def _create(uri: str, settings: Settings) -> TrackingStore:
    if is_remote_uri(uri):
        return RestTrackingStore(uri, settings=settings)
    scheme = uri.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme in ("sqlite", "postgresql", "postgres"):
        if scheme == "postgres":
            uri = "postgresql" + uri[len("postgres") :]
        return SqlTrackingStore(uri, busy_timeout_seconds=settings.sqlite_busy_timeout_seconds)
    raise InvalidArgument(
        f"Unsupported tracking URI {uri!r}: use sqlite:///path/to/loopml.db, "
        "postgresql+psycopg://user@host/db or http(s)://host:port (a loopml server)."
    )


def open_artifacts(store: TrackingStore, objects: Callable[[], ObjectStore]) -> ArtifactRepository:
    """Artifacts of a server go through its API; embedded ones into the object store."""
    if isinstance(store, RestTrackingStore):
        return RemoteArtifacts(store)
    return LocalArtifacts(store, objects)


def open_spool(store: TrackingStore, settings: Settings) -> Spool | NullSpool:
    """A durable spool for logging to a server; nothing for a local database."""
    if isinstance(store, RestTrackingStore):
        return Spool(spool_directory(settings.home, store.uri), store.uri)
    return NullSpool()


def replay_spools(
    settings: Settings,
    uri: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReplayReport:
    """Send what dead processes left in their logging spools; files of live ones are skipped.

    Only the spools for the server at ``uri``, or every server's when None.
    ``progress(done, total)`` is called with item counts as batches are sent.
    Each batch is stored once however often it is replayed.
    """
    root = settings.home.expanduser() / "spool"
    files = find_spool_files(spool_directory(settings.home, uri) if uri else root)
    total = sum(read_spool(path).items for path in files) if progress else 0
    report = ReplayReport()

    def advance(items: int) -> None:
        if progress:
            progress(report.items, total)

    for path in files:
        replay_file(path, lambda u: open_tracking_store(u, settings), report, advance)
    return report


def replay_on_start(store: TrackingStore, settings: Settings) -> None:
    """Once per process and server: replay dead spools; a failure only logs a warning."""
    if not isinstance(store, RestTrackingStore):
        return
    key = f"{settings.home.expanduser()}|{store.uri}"
    with _lock:
        if key in _replayed:
            return
        _replayed.add(key)
    try:
        report = replay_spools(settings, store.uri)
    except LoopmlError as exc:
        log.warning("loopml: replaying the logging spool failed: %s", exc.message)
        return
    if report.batches:
        log.info("loopml: replayed %d spooled batches to %s", report.batches, store.uri)
    for problem in report.failed:
        log.warning("loopml: spool kept for a later replay (%s)", problem)
    for problem in report.rejected:
        log.warning("loopml: the server rejected a spooled batch: %s", problem)


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
