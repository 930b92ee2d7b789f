"""The durable local spool of remote logging: nothing logged is lost to a crash or an outage.

In remote mode every batch the batcher seals is appended to a spool file
before it is sent, and acknowledged in the file once the server has stored
it. A file is JSON Lines, appended with one ``write`` per record::

    {"loopml_spool":1,"uri":"http://host:5000","pid":4242,"created":1732540000000}
    {"id":"<batch>","run":"<run>","m":[[key,value,timestamp,step],...],"p":[[k,v]],"t":[[k,v]]}
    {"ack":"<batch id>"}

Files live in ``<LOOPML_HOME>/spool/<hash of the server URI>/``, one per
process, which holds an exclusive ``fcntl`` lock on its file for as long as
it lives. When every batch is acknowledged the file is cut back to its
header; a clean exit deletes it. A file nobody holds the lock of was left by
a dead process: its unacknowledged batches are replayed, in order, the next
time the SDK starts in remote mode or by ``loopml sync``. Each batch carries
a unique id that the server records with the write, so a replayed batch is
stored once however often it is sent. A torn last line (the process died
while appending) was never sent, and is skipped.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from loopml.core.clock import now_ms
from loopml.core.errors import LoopmlError, StorageError
from loopml.core.ids import new_id
from loopml.store import Metric, Param, RunTag, TrackingStore
from loopml.tracking._json import dumps

log = logging.getLogger("loopml.tracking")

SPOOL_SUFFIX = ".spool"
_FORMAT = 1


@dataclass(frozen=True, slots=True)
class SpooledBatch:
    """One sealed batch: what is sent, and retried, under one id."""

    batch_id: str
    run_id: str
    metrics: Sequence[Metric] = ()
    params: Sequence[Param] = ()
    tags: Sequence[RunTag] = ()

    @property
    def size(self) -> int:
        return len(self.metrics) + len(self.params) + len(self.tags)


def seal(
    run_id: str, metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> SpooledBatch:
    return SpooledBatch(new_id(), run_id, metrics, params, tags)


def deliver(store: TrackingStore, batch: SpooledBatch) -> LoopmlError | None:
    """Send one batch; return the server's rejection, if any.

    A rejected batch is retried in parts (metrics and tags, then each param,
    under ids derived from the batch's) so one conflicting param does not take
    the good metrics down with it; the first error that remains is returned.
    StorageError (server or network unreachable) propagates: retry later.
    """
    try:
        store.log_batch(batch.run_id, batch.metrics, batch.params, batch.tags, batch.batch_id)
        return None
    except StorageError:
        raise
    except LoopmlError as exc:
        if not batch.params or not (batch.metrics or batch.tags or len(batch.params) > 1):
            return exc
    first: LoopmlError | None = None
    parts = [(batch.metrics, (), batch.tags)] + [((), (p,), ()) for p in batch.params]
    for index, (metrics, params, tags) in enumerate(parts):
        if not (metrics or params or tags):
            continue
        try:
            store.log_batch(batch.run_id, metrics, params, tags, f"{batch.batch_id}.{index}")
        except StorageError:
            raise
        except LoopmlError as exc:
            first = first or exc
    return first


def spool_directory(home: Path, uri: str) -> Path:
    """Where the spool files for the server at ``uri`` live."""
    digest = hashlib.sha256(uri.encode()).hexdigest()[:16]
    return home.expanduser() / "spool" / digest


class NullSpool:
    """Embedded mode: the database is local, nothing to spool."""

    path: Path | None = None

    def append(self, batch: SpooledBatch) -> None:
        pass

    def ack(self, batch_id: str) -> None:
        pass

    def close(self) -> None:
        pass


class Spool:
    """This process's spool file for one server (created on the first append)."""

    def __init__(self, directory: Path, uri: str, *, fsync: bool = True) -> None:
        self.directory = directory
        self.uri = uri
        self.fsync = fsync
        self.path: Path | None = None
        self._fd: int | None = None
        self._header = 0
        self._outstanding: set[str] = set()
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self._forget_after_fork)

    def _forget_after_fork(self) -> None:
        # The parent keeps its file and its lock (closing the child's copy of the
        # descriptor does not release it); a child starts a file of its own on demand.
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd, self.path, self._outstanding = None, None, set()
        self._lock = threading.Lock()

    def _open(self) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{os.getpid()}-{new_id()[:12]}{SPOOL_SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        header = _line(
            {"loopml_spool": _FORMAT, "uri": self.uri, "pid": os.getpid(), "created": now_ms()}
        )
        os.write(fd, header)
        self._fd, self.path, self._header = fd, path, len(header)
        return fd

    def append(self, batch: SpooledBatch) -> None:
        """Record a sealed batch durably before it is sent (StorageError if the disk fails)."""
        fields = {
            "id": batch.batch_id,
            "run": batch.run_id,
            "m": [[m.key, m.value, m.timestamp, m.step] for m in batch.metrics],
            "p": [[p.key, p.value] for p in batch.params],
            "t": [[t.key, t.value] for t in batch.tags],
        }
        record = dumps(fields, (m.value for m in batch.metrics)) + b"\n"
        with self._lock, _disk_errors(self.directory):
            fd = self._fd if self._fd is not None else self._open()
            os.write(fd, record)
            if self.fsync:
                os.fdatasync(fd)
            self._outstanding.add(batch.batch_id)

    def ack(self, batch_id: str) -> None:
        """The server stored ``batch_id``; when nothing is outstanding, cut the file back."""
        with self._lock, _disk_errors(self.directory):
            if self._fd is None or batch_id not in self._outstanding:
                return
            self._outstanding.discard(batch_id)
            if self._outstanding:
                os.write(self._fd, _line({"ack": batch_id}))
            else:
                os.ftruncate(self._fd, self._header)

    def close(self) -> None:
        """Release the file: deleted when all is acknowledged, else kept for a replay."""
        with self._lock:
            if self._fd is None:
                return
            fd, path, self._fd = self._fd, self.path, None
            if not self._outstanding and path is not None:
                with contextlib.suppress(OSError):
                    path.unlink()
            os.close(fd)


def _line(record: dict[str, object]) -> bytes:
    return (json.dumps(record, separators=(",", ":")) + "\n").encode()


@contextlib.contextmanager
def _disk_errors(directory: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise StorageError(f"Cannot write the logging spool in {directory}: {exc}") from exc


# -- replay ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpoolFile:
    """A dead process's spool file: where it is, which server, what is left to send."""

    path: Path
    uri: str
    batches: tuple[SpooledBatch, ...]

    @property
    def items(self) -> int:
        return sum(b.size for b in self.batches)


@dataclass
class ReplayReport:
    files: int = 0
    batches: int = 0
    items: int = 0
    rejected: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def read_spool(path: Path) -> SpoolFile:
    """Parse a spool file: its server URI and its unacknowledged batches, in order."""
    uri = ""
    batches: dict[str, SpooledBatch] = {}
    lines = path.read_bytes().split(b"\n")
    for number, raw in enumerate(lines):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except ValueError:
            if number < len(lines) - 2:
                log.warning("Skipping a damaged line %d of spool file %s", number + 1, path)
            continue  # else a torn last write: that batch was never sent
        if "loopml_spool" in record:
            uri = str(record.get("uri", ""))
        elif "ack" in record:
            batches.pop(record["ack"], None)
        elif "id" in record:
            batch = SpooledBatch(
                record["id"],
                record["run"],
                tuple(Metric(k, float(v), int(ts), int(s)) for k, v, ts, s in record["m"]),
                tuple(Param(k, v) for k, v in record["p"]),
                tuple(RunTag(k, v) for k, v in record["t"]),
            )
            batches[batch.batch_id] = batch
    return SpoolFile(path, uri, tuple(batches.values()))


def spool_files(root: Path) -> list[Path]:
    """Every spool file below ``root`` (one server's directory, or all of ``spool/``)."""
    if not root.is_dir():
        return []
    return sorted(root.rglob(f"*{SPOOL_SUFFIX}"), key=lambda p: p.stat().st_mtime)


@contextlib.contextmanager
def claim(path: Path) -> Iterator[bool]:
    """Hold the lock of a dead process's spool file; False if a live process holds it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    except FileNotFoundError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:  # another replayer may have finished and removed it in the meantime
            same = os.fstat(fd).st_ino == path.stat().st_ino
        except FileNotFoundError:
            same = False
        yield same
    finally:
        os.close(fd)


def replay_file(
    path: Path,
    store_for: Callable[[str], TrackingStore],
    report: ReplayReport,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Send a dead process's unacknowledged batches, then delete its file.

    Batches are sent in order and acknowledged in the file as they go. On a
    StorageError the rest stays for a later replay (recorded in ``report``);
    a batch the server rejects is dropped and its error recorded.
    """
    with claim(path) as mine:
        if not mine:
            return
        spool = read_spool(path)
        report.files += 1
        if spool.batches:
            store = store_for(spool.uri)
            with open(path, "ab", buffering=0) as out:
                for batch in spool.batches:
                    try:
                        rejected = deliver(store, batch)
                    except StorageError as exc:
                        report.failed.append(f"{path.name}: {exc.message}")
                        return
                    if rejected is not None:
                        report.rejected.append(f"run {batch.run_id}: {rejected.message}")
                    out.write(_line({"ack": batch.batch_id}))
                    report.batches += 1
                    report.items += batch.size
                    if progress:
                        progress(batch.size)
        path.unlink(missing_ok=True)
