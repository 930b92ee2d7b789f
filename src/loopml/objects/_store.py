"""The content-addressed object store: put, get, trees and garbage collection."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

from loopml.core.errors import InvalidArgument, NotFound, StorageError
from loopml.objects._buffer_pack import BufferPack
from loopml.objects._chunking import (
    DEFAULT_PARAMS,
    ChunkParams,
    Manifest,
    OnRead,
    ReadInto,
    counted,
    decode_manifest,
    encode_manifest,
    reader_of,
    split_buffer,
)
from loopml.objects._fs import IO_BLOCK, Backend, LocalBackend, open_local_file, write_local_file
from loopml.objects._gc import GcReport, collect_garbage
from loopml.objects._ingest import Ingested, PutBatch, chunk_by_chunk, ingest, ingest_buffer
from loopml.objects._layout import Kind, check_id, id_from_key, key_for
from loopml.objects._mapped import MappedFile, mapped
from loopml.objects._packer import Packer
from loopml.objects._packs import PACKABLE, PackIndex, read_small_file
from loopml.objects._parallel import ordered_map, worker_threads
from loopml.objects._pins import all_pinned, read_pin, write_pin
from loopml.objects._reader import (
    BlockReader,
    blob_blocks,
    chunked_blocks,
    digest,
    new_hasher,
    read_verified,
)
from loopml.objects._tree import Tree, TreeEntry, check_entries, decode_tree, encode_tree

MEMORY_LIMIT = 64 * 1024 * 1024
"""A file up to this size that is not chunked is read into memory in one go."""

_OPEN_BUFFER = 1024 * 1024


@dataclass(frozen=True)
class BlobInfo:
    """A stored content: its id (BLAKE3 of the bytes), size, and whether it is chunked."""

    id: str
    size: int
    chunked: bool


class ObjectStore:
    """Immutable contents addressed by the BLAKE3 hash of their bytes.

    Every write is atomic and idempotent (putting present content is a no-op);
    every read verifies the bytes against their id. Contents larger than
    ``chunking_threshold`` are split into content-defined chunks stored as
    blobs of their own, listed by a manifest stored under the content's id.
    Obtain one with :func:`loopml.objects.open_object_store`. Safe to share
    between threads.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        uri: str,
        chunking_threshold: int,
        chunk_params: ChunkParams = DEFAULT_PARAMS,
    ) -> None:
        if isinstance(chunking_threshold, bool) or not isinstance(chunking_threshold, int):
            raise InvalidArgument("chunking_threshold must be an int")
        if chunking_threshold < 1:
            raise InvalidArgument(f"chunking_threshold must be >= 1, got {chunking_threshold}")
        self._backend = backend
        self._uri = uri
        self._threshold = chunking_threshold
        self._params = chunk_params
        self._packs = PackIndex(backend)

    @property
    def uri(self) -> str:
        """Where the store lives, as given to ``open_object_store``."""
        return self._uri

    def __repr__(self) -> str:
        return f"ObjectStore({self._uri!r})"

    # -- writing ---------------------------------------------------------------

    def put_bytes(self, data: bytes | bytearray | memoryview) -> str:
        """Store ``data``; return its id (hex BLAKE3). A no-op if already present."""
        view = _byte_view(data)
        if len(view) <= self._threshold:
            return self._put_plain(view).id
        object_id = digest(view)
        if self._has_content(object_id, len(view)):
            return object_id
        return self._put_chunked(split_buffer(view, self._params), object_id).id

    def put_file(self, path: str | os.PathLike[str], *, on_read: OnRead | None = None) -> BlobInfo:
        """Store the content of the local file ``path``, streaming it in bounded memory.

        Files above ``chunking_threshold`` are chunked; the id is the hash of the
        whole content either way. In a local store a chunked file is mapped and
        its new chunks go into one pack of their own (see :mod:`._buffer_pack`),
        whatever the caller links: chunks are never linked into a workspace.
        NotFound if ``path`` does not exist. A chunked file's bytes are reported
        to ``on_read`` as they are cut (progress of a large file); smaller files
        are read at once and not reported.
        """
        src = os.fspath(path)
        source, size = open_local_file(src)
        with source:
            if size > self._threshold:
                if isinstance(self._backend, LocalBackend):
                    with mapped(source.fileno(), size, src) as file:
                        if file is not None:
                            return self._put_mapped_packed(file, on_read)
                return self._put_chunked_stream(counted(source.readinto, on_read))
            if size <= MEMORY_LIMIT:
                return self._put_plain(memoryview(source.readall()))
        return self._put_large_plain(src)

    def put_stream(self, stream: BinaryIO) -> BlobInfo:
        """Store everything ``stream`` yields until its end.

        Content above ``chunking_threshold`` is chunked as it streams, so memory
        is bounded by the threshold plus a few 16 MiB chunking buffers.
        """
        head = _read_up_to(stream, self._threshold + 1)
        if len(head) <= self._threshold:
            return self._put_plain(memoryview(head))
        return self._put_chunked_stream(reader_of(stream), head)

    def packing(self) -> PackWriter:
        """A writer that stores many small files as one pack; use it as a context manager.

        For adding thousands of small files at once: each content stays
        addressable by its id like any other, but they cost one file creation
        per pack instead of one each. The contents become readable (and
        durable) only when the writer's ``with`` block ends: record their ids
        nowhere before. Larger files are stored as :meth:`put_file` does.
        """
        packer = Packer(
            self._backend, self._packs, self._has_content, lambda i: key_for(Kind.BLOB, i)
        )
        return PackWriter(self, packer)

    def put_tree(self, entries: Mapping[str, TreeEntry]) -> str:
        """Store a tree mapping relative POSIX paths to entries; return its id.

        The tree is serialised canonically, so equal trees share an id. Paths
        must be relative, without ``.``/``..`` or empty segments, backslashes or
        NUL, and no path may also be a directory of another (InvalidArgument).
        Entry ids are not required to be stored yet.
        """
        data = encode_tree(check_entries(entries))
        tree_id = digest(data)
        key = key_for(Kind.TREE, tree_id)
        if self._backend.size(key) != len(data):
            self._backend.write_bytes(key, data)
        return tree_id

    # -- reading ---------------------------------------------------------------

    def exists(self, id: str) -> bool:
        """Whether an object (content or tree) with this id is stored."""
        check_id(id)
        return self._packs.find(id) is not None or any(
            self._backend.size(key_for(kind, id)) is not None for kind in Kind
        )

    def stat(self, id: str) -> BlobInfo:
        """Size and chunking of a stored object, without reading its content (NotFound)."""
        check_id(id)
        size = self._backend.size(key_for(Kind.BLOB, id))
        if size is not None:
            return BlobInfo(id=id, size=size, chunked=False)
        packed = self._packs.find(id)
        if packed is not None:
            return BlobInfo(id=id, size=packed.length, chunked=False)
        manifest = self._manifest(id)
        if manifest is not None:
            return BlobInfo(id=id, size=manifest.size, chunked=True)
        size = self._backend.size(key_for(Kind.TREE, id))
        if size is not None:
            return BlobInfo(id=id, size=size, chunked=False)
        raise self._not_found(id)

    def get_bytes(self, id: str) -> bytes:
        """The verified content of ``id`` (NotFound if absent, CorruptObject if damaged)."""
        check_id(id)
        try:
            return read_verified(self._backend, Kind.BLOB, id)
        except NotFound:
            pass
        packed = self._packed_bytes(id)
        if packed is not None:
            return packed
        manifest = self._manifest(id)
        if manifest is not None:
            return b"".join(chunked_blocks(self._backend, id, manifest, self._packed_bytes))
        try:
            return read_verified(self._backend, Kind.TREE, id)
        except NotFound:
            raise self._not_found(id) from None

    def open(self, id: str) -> BinaryIO:
        """A streaming binary reader of ``id``'s content (NotFound if absent).

        The hash is verified as the stream reaches its end: the read that
        reaches it raises CorruptObject if the stored bytes are damaged (for a
        chunked content, each chunk is verified before any of it is returned).
        """
        return io.BufferedReader(BlockReader(self._blocks(id)), buffer_size=_OPEN_BUFFER)

    def get_file(
        self, id: str, dest: str | os.PathLike[str], *, on_write: OnRead | None = None
    ) -> None:
        """Write ``id``'s content to the local file ``dest``, atomically.

        The bytes go to a temporary file beside ``dest`` and are renamed over
        it only once fully written and verified: ``dest`` is never partial, and
        is left untouched on any error (NotFound, CorruptObject, StorageError).
        ``on_write`` is told the size of every block as it is written (progress).
        """
        blocks = self._blocks(id)
        try:
            write_local_file(os.fspath(dest), _told(blocks, on_write))
        finally:
            close = getattr(blocks, "close", None)
            if close is not None:
                close()

    def get_tree(self, id: str) -> Tree:
        """The tree stored under ``id`` (NotFound if no tree has that id)."""
        check_id(id)
        try:
            data = read_verified(self._backend, Kind.TREE, id)
        except NotFound:
            raise NotFound(f"no tree {id} in the object store {self._uri}") from None
        return decode_tree(id, data, self._backend.location(key_for(Kind.TREE, id)))

    def iter_ids(self) -> Iterator[str]:
        """Every stored object id, each once: contents, chunks, manifests' and trees' ids."""
        seen: set[str] = set()
        for kind in Kind:
            for entry in self._backend.list(kind.value):
                object_id = id_from_key(kind, entry.key)
                if object_id is not None and object_id not in seen:
                    seen.add(object_id)
                    yield object_id
        for object_id in self._packs.ids():
            if object_id not in seen:
                seen.add(object_id)
                yield object_id

    def gc(
        self,
        roots: Iterable[str],
        *,
        grace_seconds: float,
        now: float | None = None,
        dry_run: bool = False,
        ignoring_pins: Iterable[str] = (),
    ) -> GcReport:
        """Delete objects unreachable from ``roots`` that are older than ``grace_seconds``.

        Reachability follows tree entries (trees may contain trees) and the
        chunks of chunked contents; every pinned id (``pin``) is a root too,
        except those of the pins named in ``ignoring_pins`` (their owner is
        the one collecting, and passes what it still needs as ``roots``).
        Nothing modified within ``grace_seconds``
        before ``now`` (default: the current time) is deleted, so objects a
        concurrent writer has just stored survive. Roots that are not stored
        are ignored; an unreadable reachable tree aborts before any deletion.
        With ``dry_run`` nothing is deleted and the report says what would be.
        """
        try:
            return collect_garbage(
                self._backend,
                set(roots) | all_pinned(self._backend, ignoring=set(ignoring_pins)),
                grace_seconds=grace_seconds,
                now=time.time() if now is None else now,
                dry_run=dry_run,
            )
        finally:
            self._packs.invalidate()

    def drop_packed(self, ids: Iterable[str]) -> int:
        """Forget the packed copies of ``ids`` (found damaged); how many were forgotten.

        Their packs' indexes are rewritten without them, so that a transfer
        or a put stores them again. Loose copies are not touched.
        """
        return self._packs.drop(check_id(i) for i in ids)

    # -- pins --------------------------------------------------------------------

    def pin(self, name: str, ids: Iterable[str]) -> None:
        """Add ``ids`` to the pin ``name``: no collection deletes what they reach.

        For writers whose roots no database records (a data repository's
        pointer files). Writers of one pin name must not run at once.
        """
        added = set(ids)
        current = read_pin(self._backend, name)
        if not added <= current:
            write_pin(self._backend, name, current | added)

    def pinned(self, name: str) -> set[str]:
        """The ids of the pin ``name`` (empty if there is none)."""
        return read_pin(self._backend, name)

    def set_pin(self, name: str, ids: Iterable[str]) -> None:
        """Make the pin ``name`` exactly ``ids`` (none: remove it)."""
        write_pin(self._backend, name, ids)

    # -- internals ---------------------------------------------------------------

    def _not_found(self, object_id: str) -> NotFound:
        return NotFound(f"no object {object_id} in the object store {self._uri}")

    def _manifest(self, object_id: str) -> Manifest | None:
        key = key_for(Kind.MANIFEST, object_id)
        try:
            data = self._backend.read_bytes(key)
        except NotFound:
            return None
        return decode_manifest(object_id, data, self._backend.location(key))

    def _blocks(self, object_id: str) -> Iterator[bytes]:
        """Verified blocks of any stored object; NotFound raised before the first block."""
        check_id(object_id)
        try:
            return blob_blocks(self._backend, object_id)
        except NotFound:
            pass
        packed = self._packed_bytes(object_id)
        if packed is not None:
            return iter((packed,))
        manifest = self._manifest(object_id)
        if manifest is not None:
            return chunked_blocks(self._backend, object_id, manifest, self._packed_bytes)
        try:
            return blob_blocks(self._backend, object_id, Kind.TREE)
        except NotFound:
            raise self._not_found(object_id) from None

    def _packed_bytes(self, object_id: str, *, known: bool = False) -> bytes | None:
        """The verified bytes of a packed content; None if it is not packed.

        ``known``: the caller has just seen it packed (a transfer reading
        thousands), so the packs are not looked for again first.
        """
        packed = self._packs.peek(object_id) if known else None
        if packed is None:
            packed = self._packs.find(object_id)
        return None if packed is None else self._packs.read(object_id, packed)

    def _has_content(self, object_id: str, size: int) -> bool:
        packed = self._packs.peek(object_id)
        if packed is not None and packed.length == size:
            return True
        if self._backend.size(key_for(Kind.BLOB, object_id)) == size:
            return True
        # A manifest always lists two or more chunks, so it exists only for
        # contents longer than the minimum chunk size.
        return (
            size > self._params.min_size
            and self._backend.size(key_for(Kind.MANIFEST, object_id)) is not None
        )

    def _put_plain(self, data: memoryview) -> BlobInfo:
        object_id = digest(data)
        if not self._has_content(object_id, len(data)):
            self._backend.write_bytes(key_for(Kind.BLOB, object_id), data)
        return BlobInfo(id=object_id, size=len(data), chunked=False)

    def _put_chunk(self, chunk: memoryview) -> str:
        chunk_id = digest(chunk)
        key = key_for(Kind.BLOB, chunk_id)
        if self._backend.size(key) != len(chunk):
            self._backend.write_bytes(key, chunk)
        return chunk_id

    def _put_chunked_stream(self, readinto: ReadInto, head: bytes = b"") -> BlobInfo:
        """Cut a stream and store its chunks, then its manifest.

        In a local store the new chunks go into one pack of their own (a
        thousand chunk files would be a thousand inode allocations), complete
        and indexed before the manifest names them; elsewhere each chunk is
        one object, many written at once.
        """
        if isinstance(self._backend, LocalBackend):
            return self._into_pack(lambda put: ingest(readinto, head, self._params, put))
        threads = worker_threads(self._backend.io_threads)
        with ThreadPoolExecutor(threads, thread_name_prefix="loopml-put") as pool:
            put_batch = chunk_by_chunk(self._put_chunk, pool)
            content = ingest(readinto, head, self._params, put_batch)
        return self._put_manifest(content.id, content.chunks)

    def _put_mapped_packed(self, file: MappedFile, on_read: OnRead | None) -> BlobInfo:
        """As :meth:`_put_chunked_stream` into a local store, for a mapped file: nothing is
        read or copied."""

        def store(put_batch: PutBatch) -> Ingested:
            content = ingest_buffer(file.buffer, self._params, put_batch, on_read)
            file.check_unchanged()  # before the manifest names chunks that may not match
            return content

        return self._into_pack(store)

    def _into_pack(self, store: Callable[[PutBatch], Ingested]) -> BlobInfo:
        """Run ``store`` with a new pack's ``put_batch``; keep the pack and write the manifest.

        On any error the pack is dropped and no manifest is written.
        """
        assert isinstance(self._backend, LocalBackend)
        pack = BufferPack(self._backend, self._packs, self._has_content)
        try:
            content = store(pack.put_batch)
            pack.finish()
        except BaseException:
            pack.abort()
            raise
        return self._put_manifest(content.id, content.chunks)

    def _put_chunked(self, chunks: Iterable[memoryview], object_id: str) -> BlobInfo:
        """Store the chunks of an in-memory content whose id is known, then its manifest."""
        chunk_list = list(chunks)
        threads = worker_threads(self._backend.io_threads)
        chunk_ids = ordered_map(self._put_chunk, chunk_list, threads=threads)
        return self._put_manifest(
            object_id, list(zip(chunk_ids, map(len, chunk_list), strict=True))
        )

    def _put_manifest(self, object_id: str, chunks: list[tuple[str, int]]) -> BlobInfo:
        """Record the (stored) ``chunks`` of ``object_id``; one chunk is already the content."""
        total = sum(size for _, size in chunks)
        if len(chunks) <= 1:
            # One chunk is the whole content: it is already stored as a plain blob.
            if not chunks:
                return self._put_plain(memoryview(b""))
            return BlobInfo(id=object_id, size=total, chunked=False)
        data = encode_manifest(Manifest(size=total, chunks=tuple(chunks)))
        key = key_for(Kind.MANIFEST, object_id)
        if self._backend.size(key) != len(data):
            self._backend.write_bytes(key, data)
        return BlobInfo(id=object_id, size=total, chunked=True)

    def _put_large_plain(self, src: str) -> BlobInfo:
        """A file too large for memory but not chunked: hash it, then stream it, verified."""
        hasher = new_hasher()
        size = 0
        source, _ = open_local_file(src)
        with source:
            while block := source.read(IO_BLOCK):
                hasher.update(block)
                size += len(block)
        object_id: str = hasher.hexdigest()
        if not self._has_content(object_id, size):
            self._backend.write_stream(
                key_for(Kind.BLOB, object_id), _verified_file_blocks(src, object_id)
            )
        return BlobInfo(id=object_id, size=size, chunked=False)


class PackWriter:
    """Stores small files into packs and larger ones as :meth:`ObjectStore.put_file` does.

    Obtained from :meth:`ObjectStore.packing`; thread-safe. Leaving its
    ``with`` block writes what is left (also on an error, so a re-run skips
    what was read).
    """

    def __init__(self, store: ObjectStore, packer: Packer) -> None:
        self._store = store
        self._packer = packer

    def __enter__(self) -> PackWriter:
        return self

    @property
    def limit(self) -> int:
        """Files up to this many bytes are packed; larger ones are stored on their own."""
        return PACKABLE

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._packer.__exit__(exc_type, exc, tb)

    def put_verified(self, object_id: str, data: bytes) -> None:
        """Pack ``data``, whose id the caller has checked (a copy from another store)."""
        self._packer.put(object_id, data)

    def put_file(self, path: str | os.PathLike[str], *, on_read: OnRead | None = None) -> BlobInfo:
        """Store the content of the local file ``path`` (NotFound if it does not exist).

        ``on_read`` as for :meth:`ObjectStore.put_file`.
        """
        src = os.fspath(path)
        data = read_small_file(src, PACKABLE)
        if data is None:
            return self._store.put_file(src, on_read=on_read)
        object_id = digest(data)
        self._packer.put(object_id, data)
        return BlobInfo(id=object_id, size=len(data), chunked=False)


def _verified_file_blocks(src: str, object_id: str) -> Iterator[bytes]:
    hasher = new_hasher()
    source, _ = open_local_file(src)
    with source:
        while block := source.read(IO_BLOCK):
            hasher.update(block)
            yield block
    if hasher.hexdigest() != object_id:
        raise StorageError(f"{src} changed while it was being stored; put it again")


def _told(blocks: Iterator[bytes], on_write: OnRead | None) -> Iterator[bytes]:
    """``blocks``, telling ``on_write`` each one's size as it is taken."""
    if on_write is None:
        return blocks
    return (_tell(block, on_write) for block in blocks)


def _tell(block: bytes, on_write: OnRead) -> bytes:
    on_write(len(block))
    return block


def _byte_view(data: bytes | bytearray | memoryview) -> memoryview:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidArgument(f"expected bytes, got {type(data).__name__}")
    view = memoryview(data)
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


def _read_up_to(stream: BinaryIO, limit: int) -> bytes:
    """Up to ``limit`` bytes from ``stream``, fewer only at its end."""
    parts: list[bytes] = []
    total = 0
    while total < limit:
        part = stream.read(limit - total)
        if not part:
            break
        if not isinstance(part, bytes | bytearray | memoryview):
            raise InvalidArgument(
                f"put_stream needs a binary stream, it read {type(part).__name__}"
            )
        parts.append(part)
        total += len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)
