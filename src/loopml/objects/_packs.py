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

import os
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import blake3

from loopml.core.errors import CorruptObject, NotFound
from loopml.objects._fs import Backend, LocalBackend, StoredEntry, storage_errors
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
