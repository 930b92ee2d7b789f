"""Packs: many small contents in one stored file, found by id through an index.

Storing 10,000 files of 4 KiB as 10,000 cache files costs 10,000 file
creations, which dominate the time of an ``add`` on most filesystems. A
:class:`Packer` appends small contents to one pack instead and writes it as
two keys: ``packs/<name>.pack`` (the contents back to back), then
``packs/<name>.idx`` (id, offset and length of each, sorted by id, closed by
the BLAKE3 of the index itself). Both writes are atomic and the index is
written last, so a pack is visible only once complete; a pack without an
index (an interrupted write) is garbage that collection removes after the
grace period.

A packed content is read like any other: its bytes are hashed and checked
against its id. Packs are never modified, except that an index may be
rewritten without entries found damaged (:meth:`PackIndex.drop`), so that a
repair stores them again. Collection deletes a pack only when none of its
contents is reachable (packs are not rewritten to reclaim part of them).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import blake3

from loopml.core.errors import CorruptObject, LoopmlError, NotFound
from loopml.objects._fs import TEMP_PREFIX, Backend, LocalBackend, StoredEntry, storage_errors
from loopml.objects._layout import is_temp_key

PACK_PREFIX = "packs"
PACKABLE = 256 * 1024
"""Contents up to this size are packed; larger ones are stored as blobs of their own."""
PACK_TARGET = 64 * 1024 * 1024
"""A pack is written once it holds this many bytes (and at the end)."""

RELIST_SECONDS = 5.0
"""A remote store's packs are listed again on a miss at most this often."""

MIN_PACKED = 32
"""Fewer new contents than this are stored as blobs of their own: a pack would not pay."""

HasContent = Callable[[str, int], bool]
"""``(id, size) -> bool``: whether a content is stored already."""

_MAGIC = b"LMPK"
_VERSION = 1
_HEADER = struct.Struct(">4sII")
_ENTRY = struct.Struct(">32sQQ")
_TRAILER = 32


@dataclass(frozen=True, slots=True)
class Packed:
    """Where a packed content lives: its pack's name, offset and length."""

    pack: str
    offset: int
    length: int


def pack_key(name: str) -> str:
    """The key of the pack file ``name``."""
    return f"{PACK_PREFIX}/{name}.pack"


def index_key(name: str) -> str:
    """The key of the index of the pack ``name``."""
    return f"{PACK_PREFIX}/{name}.idx"


def name_of(key: str) -> tuple[str, str] | None:
    """(pack name, "pack" or "idx") for a pack key; None for anything else."""
    parts = key.split("/")
    if len(parts) != 2 or parts[0] != PACK_PREFIX:
        return None
    name, _, suffix = parts[1].rpartition(".")
    if suffix not in ("pack", "idx") or len(name) != 32:
        return None
    try:
        int(name, 16)
    except ValueError:
        return None
    return name, suffix


def encode_index(entries: Iterable[tuple[str, int, int]]) -> bytes:
    """The index of a pack: (id, offset, length) of each content, sorted, self-checked."""
    rows = sorted(entries)
    body = bytearray(_HEADER.pack(_MAGIC, _VERSION, len(rows)))
    for object_id, offset, length in rows:
        body += _ENTRY.pack(bytes.fromhex(object_id), offset, length)
    return bytes(body) + blake3.blake3(body).digest()


def decode_index(data: bytes, location: str) -> list[tuple[str, int, int]]:
    """Entries of a stored index; CorruptObject if it is damaged."""
    body, trailer = data[:-_TRAILER], data[-_TRAILER:]
    ok = len(data) >= _HEADER.size + _TRAILER and blake3.blake3(body).digest() == trailer
    if ok:
        magic, version, count = _HEADER.unpack_from(body)
        ok = (
            magic == _MAGIC
            and version == _VERSION
            and len(body) == _HEADER.size + count * _ENTRY.size
        )
    if not ok:
        raise CorruptObject(
            f"the pack index at {location} is damaged; delete it (the contents it lists "
            "become unreachable) and restore them from a remote copy or add them again"
        )
    return [
        (raw.hex(), offset, length)
        for raw, offset, length in _ENTRY.iter_unpack(body[_HEADER.size :])
    ]


class PackIndex:
    """Every packed content of one store, by id; loaded on first use, refreshed on a miss.

    Thread-safe. Other processes may add or delete packs at any time:
    :meth:`find` lists the packs again first (on a local store when the
    folder changed, one ``stat`` to tell; on a remote one at most every
    :data:`RELIST_SECONDS`: only local caches are packed by loopml itself),
    :meth:`peek` does not (for writers, to whom a stale "no" costs only a
    duplicate). An index rewritten by another process (:meth:`drop`) is not
    read again: its dropped entries stay known here until the process ends.
    """

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._lock = threading.Lock()
        self._loaded: set[str] | None = None
        self._stamp: int | None = None
        self._listed_at = 0.0
        self._where: dict[str, Packed] = {}

    def peek(self, object_id: str) -> Packed | None:
        """Where ``object_id`` is packed, as far as already loaded (loads once)."""
        if self._loaded is None:
            self.refresh()
        return self._where.get(object_id)

    def find(self, object_id: str) -> Packed | None:
        """Where ``object_id`` is packed, after looking for packs added or deleted since."""
        self.refresh()
        return self._where.get(object_id)

    def sizes(self, ids: Iterable[str]) -> dict[str, int]:
        """The stored size of each of ``ids`` that is packed."""
        if self._loaded is None:
            self.refresh()
        where = self._where
        return {i: where[i].length for i in ids if i in where}

    def ids(self) -> list[str]:
        """Every packed id (listing the packs again)."""
        self.refresh()
        return list(self._where)

    def refresh(self) -> None:
        """Load the indexes of packs not seen yet; forget those deleted or rewritten."""
        stamp = self._backend.folder_stamp(PACK_PREFIX)
        if self._loaded is not None:
            if stamp is not None and stamp == self._stamp:
                return  # the folder did not change: nothing to list
            remote = not self._backend.listing_is_cheap
            if remote and time.monotonic() - self._listed_at < RELIST_SECONDS:
                return  # a remote listing is a request: not at every miss
        try:
            entries = self._backend.list(PACK_PREFIX)
        except NotFound:  # no bucket (yet): no packs
            entries = []
        self._listed_at = time.monotonic()
        listed = {
            parsed[0]: entry
            for entry in entries
            if (parsed := name_of(entry.key)) is not None and parsed[1] == "idx"
        }
        with self._lock:
            loaded = self._loaded or set()
            if self._loaded is not None and set(listed) == loaded:
                self._stamp = stamp
                return
            where = {k: v for k, v in self._where.items() if v.pack in listed}
            for name in listed:
                if name in loaded:
                    continue
                for object_id, offset, length in self._read(name):
                    where.setdefault(object_id, Packed(name, offset, length))
            self._where = where
            self._loaded = set(listed)
            self._stamp = stamp

    def invalidate(self) -> None:
        """List the packs again at the next look-up (this process deleted some)."""
        with self._lock:
            self._stamp = None
            self._listed_at = 0.0

    def add(self, name: str, entries: Iterable[tuple[str, int, int]]) -> None:
        """Learn a pack this process has just written."""
        with self._lock:
            for object_id, offset, length in entries:
                self._where.setdefault(object_id, Packed(name, offset, length))
            if self._loaded is not None:
                self._loaded.add(name)

    def read(self, object_id: str, packed: Packed) -> bytes:
        """The bytes of a packed content, verified against ``object_id``."""
        key = pack_key(packed.pack)
        try:
            data = self._backend.read_range(key, packed.offset, packed.length)
        except NotFound:
            raise CorruptObject(
                f"object {object_id} is missing: its pack {self._backend.location(key)} "
                "is gone. Restore the object from a remote copy or put its content again."
            ) from None
        if len(data) != packed.length or blake3.blake3(data).hexdigest() != object_id:
            raise CorruptObject(
                f"object {object_id} is corrupt: its bytes in the pack "
                f"{self._backend.location(key)} (offset {packed.offset}) do not match their "
                "BLAKE3 hash. Restore it from a remote copy (`loopml data verify` does) or "
                "put the original content again."
            )
        return data

    def drop(self, ids: Iterable[str]) -> int:
        """Rewrite the indexes listing ``ids`` without them; how many entries were dropped.

        Used for damaged contents: once no index lists them, a transfer or a
        put stores them again. A pack left with no entry is deleted.
        """
        self.refresh()
        doomed = set(ids)
        by_pack: dict[str, set[str]] = {}
        for object_id in doomed:
            packed = self._where.get(object_id)
            if packed is not None:
                by_pack.setdefault(packed.pack, set()).add(object_id)
        dropped = 0
        for name, gone in by_pack.items():
            kept = [row for row in self._read(name) if row[0] not in gone]
            if kept:
                self._backend.write_bytes(index_key(name), encode_index(kept))
            else:
                self._backend.delete([index_key(name), pack_key(name)])
            dropped += len(gone)
        with self._lock:
            for object_id in doomed:
                self._where.pop(object_id, None)
        return dropped

    def _read(self, name: str) -> list[tuple[str, int, int]]:
        key = index_key(name)
        try:
            return decode_index(self._backend.read_bytes(key), self._backend.location(key))
        except NotFound:
            return []  # deleted since it was listed


class Packer:
    """Collects small contents into packs; use as a context manager (the end writes the rest).

    Thread-safe. A content is visible in the store only once its pack is
    written: the caller must not record its id anywhere durable before the
    packer has closed. Contents already stored (loose or packed) are skipped.
    """

    def __init__(
        self,
        backend: Backend,
        index: PackIndex,
        has_content: HasContent,
        blob_key: Callable[[str], str],
    ) -> None:
        self._backend = backend
        self._blob_key = blob_key
        self._index = index
        self._has_content = has_content
        self._lock = threading.Lock()
        self._parts: list[bytes] = []
        self._entries: dict[str, tuple[int, int]] = {}
        self._size = 0

    def __enter__(self) -> Packer:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.flush(last=True)
            return
        with contextlib.suppress(LoopmlError):  # the original error says more
            self.flush(last=True)  # keep what was read: a re-run then skips it

    def put(self, object_id: str, data: bytes) -> None:
        """Add the content ``data`` (whose id the caller computed) unless it is stored."""
        if self._has_content(object_id, len(data)):
            return
        with self._lock:
            if object_id in self._entries:
                return
            self._entries[object_id] = (self._size, len(data))
            self._parts.append(data)
            self._size += len(data)
            full = self._size >= PACK_TARGET
        if full:
            self.flush()

    def flush(self, *, last: bool = False) -> None:
        """Write the pack collected so far (nothing if it is empty).

        The ``last`` one, if it holds fewer than :data:`MIN_PACKED` contents,
        is written as blobs of their own instead.
        """
        with self._lock:
            parts, entries = self._parts, self._entries
            self._parts, self._entries, self._size = [], {}, 0
        if not entries:
            return
        if last and len(entries) < MIN_PACKED:
            for object_id, data in zip(entries, parts, strict=True):
                self._backend.write_bytes(self._blob_key(object_id), data)
            return
        name = secrets.token_hex(16)
        rows = [(object_id, offset, length) for object_id, (offset, length) in entries.items()]
        # One write of the joined contents: thousands of small writes cost more than the copy.
        self._backend.write_bytes(pack_key(name), b"".join(parts))
        self._backend.write_bytes(index_key(name), encode_index(rows))
        self._index.add(name, rows)


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)


def read_small_file(path: str, limit: int) -> bytes | None:
    """The content of a caller's file if it holds at most ``limit`` bytes, else None.

    Four system calls per file (open, fstat, read, close): reading thousands
    of tiny files costs what the calls cost, so nothing else runs per file
    (errors are translated only when one happens). The read asks for one
    byte more than the size, not for ``limit`` bytes: a buffer that large
    would be allocated (and mapped) for every file.
    """
    try:
        fd = os.open(path, _READ_FLAGS)
        try:
            size = os.fstat(fd).st_size
            if size > limit:
                return None
            want = size + 1  # one byte more: a file grown since fstat is noticed
            parts: list[bytes] = []
            total = 0
            while total < want:
                asked = want - total
                part = os.read(fd, asked)
                if not part:
                    break
                parts.append(part)
                total += len(part)
                if len(part) < asked and total >= size:
                    break  # the end of the file (a regular file reads short only there)
                if total == want and want <= limit:
                    want = limit + 1  # it grew: read on, up to just past the limit
        finally:
            os.close(fd)
    except OSError as exc:
        with storage_errors(f"reading {path}"):
            raise exc
    if total > limit:
        return None  # grown too large: the caller stores it the ordinary way
    return parts[0] if len(parts) == 1 else b"".join(parts)  # b"" for an empty file


@dataclass(frozen=True)
class PackGc:
    """What collecting the packs did: contents deleted and kept, bytes freed."""

    deleted: int
    freed_bytes: int
    kept: int


def collect_packs(backend: Backend, reachable: set[str], *, cutoff: float, dry_run: bool) -> PackGc:
    """Delete packs none of whose contents is reachable, and stale unindexed packs.

    A pack modified at or after ``cutoff`` is kept. The index goes before the
    pack, so a crash between leaves an unindexed pack, deleted next time.
    """
    packs: dict[str, StoredEntry] = {}
    indexes: dict[str, StoredEntry] = {}
    temps: list[str] = []
    for entry in backend.list(PACK_PREFIX):
        parsed = name_of(entry.key)
        if parsed is not None:
            (packs if parsed[1] == "pack" else indexes)[parsed[0]] = entry
        elif is_temp_key(entry.key) and entry.mtime < cutoff:
            temps.append(entry.key)
    deleted = kept = freed = 0
    doomed: list[str] = []
    for name, pack in packs.items():
        idx = indexes.get(name)
        if idx is None:
            if pack.mtime < cutoff:
                doomed.append(pack.key)
                freed += pack.size
            continue
        try:
            rows = decode_index(backend.read_bytes(idx.key), backend.location(idx.key))
        except NotFound:
            continue
        young = max(pack.mtime, idx.mtime) >= cutoff
        if young or any(object_id in reachable for object_id, _, _ in rows):
            kept += len(rows)
            continue
        deleted += len(rows)
        freed += pack.size + idx.size
        doomed += [idx.key, pack.key]
    for name, idx in indexes.items():
        if name not in packs and idx.mtime < cutoff:
            doomed.append(idx.key)  # a pack deleted by hand: its index lists nothing readable
    if not dry_run:
        backend.delete(doomed)
        backend.delete(temps)
    return PackGc(deleted=deleted, freed_bytes=freed, kept=kept)


def local_packed_ids(root: str) -> set[str]:
    """The ids packed in the local store at ``root``, read without opening the store.

    For ``loopml data status``, which answers "is it cached?" from the local
    layout alone. Empty if there is no store there.
    """
    if not os.path.isdir(os.path.join(root, PACK_PREFIX)):
        return set()
    return set(PackIndex(LocalBackend(root)).ids())


class StreamingPack:
    """One large file's chunks written straight into one pack, as they are cut.

    A 1 GiB file is a thousand chunks: stored loose, that is a thousand file
    creations, which on ext4 after many deletions cost more than writing the
    bytes. Here each chunk gets its place in a temporary pack file under a lock
    and is written there with ``pwrite`` outside it, so worker threads write in
    parallel and nothing is copied. :meth:`finish` renames the pack into place
    and writes its index, so the chunks are stored before the caller writes the
    manifest naming them; after an error :meth:`abort` leaves nothing behind.
    Local stores only (``LocalBackend``).
    """

    def __init__(self, backend: LocalBackend, index: PackIndex, has_content: HasContent) -> None:
        self._backend = backend
        self._index = index
        self._has_content = has_content
        self._name = secrets.token_hex(16)
        self._path = backend.location(pack_key(self._name))
        directory = os.path.dirname(self._path)
        self._tmp = os.path.join(directory, f"{TEMP_PREFIX}{secrets.token_hex(8)}")
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[int, int]] = {}
        self._size = 0
        with storage_errors(f"creating {self._tmp}", writing=True):
            os.makedirs(directory, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            self._fd = os.open(self._tmp, flags, 0o666)

    def put(self, object_id: str, data: memoryview) -> None:
        """Write ``data`` into the pack unless it is stored already (thread-safe)."""
        if self._has_content(object_id, len(data)):
            return
        with self._lock:
            if object_id in self._entries:
                return
            offset = self._size
            self._entries[object_id] = (offset, len(data))
            self._size += len(data)
        with storage_errors(f"writing {self._tmp}", writing=True):
            while data:
                written = os.pwrite(self._fd, data, offset)
                data, offset = data[written:], offset + written

    def finish(self) -> None:
        """Move the pack into place and write its index (nothing if no chunk was new)."""
        self._close()
        if not self._entries:
            _remove_quietly(self._tmp)
            return
        with storage_errors(f"storing {self._path}", writing=True):
            os.replace(self._tmp, self._path)
        rows = [(object_id, start, length) for object_id, (start, length) in self._entries.items()]
        self._backend.write_bytes(index_key(self._name), encode_index(rows))
        self._index.add(self._name, rows)

    def abort(self) -> None:
        """Drop the temporary pack (after an error: no manifest names its chunks)."""
        self._close()
        _remove_quietly(self._tmp)

    def _close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
