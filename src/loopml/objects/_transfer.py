"""Copying objects between stores: what some roots reach, and only what the destination lacks.

Objects are copied as stored (a chunked content as its manifest and chunks,
never re-chunked), each verified on the way: a blob or tree must hash to its
id, a manifest must parse and list only chunks that were copied or already
there. A damaged or missing source object is reported, never copied, and
neither is anything that references it, so the destination never holds a
tree or manifest whose parts it lacks.

Children are written before their parents (chunks, then manifests, then
trees from the leaves up), every write is atomic, and an object the
destination already holds is skipped: a transfer that was interrupted, for
whatever reason, finishes by running it again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from loopml.core.errors import CorruptObject, InvalidArgument, NotFound
from loopml.objects._catalog import Catalog, store_errors
from loopml.objects._chunking import decode_manifest
from loopml.objects._fs import IO_BLOCK, Backend, LocalBackend
from loopml.objects._layout import Kind, check_id, key_for
from loopml.objects._parallel import ordered_map
from loopml.objects._reader import blob_blocks, corrupt, digest, read_verified
from loopml.objects._store import ObjectStore, PackWriter
from loopml.objects._tree import decode_tree

STREAM_ABOVE = 2 * IO_BLOCK
"""Objects larger than this are streamed through a verifying reader, not held in memory."""


@dataclass(frozen=True)
class ObjectSet:
    """The objects some roots reach in one store, by kind, with their stored sizes.

    ``children`` maps each tree to its entries' ids and each chunked content
    to its chunks' ids. ``missing`` lists reachable ids stored under no kind;
    ``corrupt`` the trees and manifests that could not be read back as such
    (their children are unknown, so they are not in ``children``).
    """

    blobs: Mapping[str, int]
    manifests: Mapping[str, int]
    trees: Mapping[str, int]
    children: Mapping[str, tuple[str, ...]]
    missing: frozenset[str]
    corrupt: frozenset[str]
    packed: frozenset[str] = frozenset()
    """The blobs stored inside packs (their sizes are in ``blobs`` too)."""

    def by_kind(self, kind: Kind) -> Mapping[str, int]:
        return {Kind.BLOB: self.blobs, Kind.MANIFEST: self.manifests, Kind.TREE: self.trees}[kind]

    @property
    def ids(self) -> frozenset[str]:
        """Every stored id in the set."""
        return frozenset(self.blobs) | frozenset(self.manifests) | frozenset(self.trees)

    @property
    def size(self) -> int:
        """Stored bytes of every object in the set."""
        return sum(self.blobs.values()) + sum(self.manifests.values()) + sum(self.trees.values())

    def __len__(self) -> int:
        return len(self.blobs) + len(self.manifests) + len(self.trees)


@dataclass
class TransferReport:
    """What a transfer did: objects copied and skipped (already there), bytes copied.

    ``missing`` lists ids the source does not hold and ``corrupt`` those whose
    stored bytes fail verification; neither they nor the trees and manifests
    that reference them were copied. Both empty means every root arrived whole.
    """

    copied: int = 0
    skipped: int = 0
    bytes: int = 0
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether everything the roots reach is now in the destination."""
        return not self.missing and not self.corrupt


def reachable(store: ObjectStore, roots: Iterable[str], *, jobs: int = 8) -> ObjectSet:
    """The closure of ``roots`` in ``store``: trees to their entries, contents to their chunks.

    Lookups go by level, many ids at once (listing shards of a remote store
    rather than asking for each object). Nothing is verified but the trees
    and manifests that must be read to walk on. InvalidArgument for a root
    that is not an id; StorageError if the store cannot be read.
    """
    backend = store._backend
    root_ids = _check_roots(roots)
    catalog = Catalog(backend, jobs=jobs)
    found: dict[Kind, dict[str, int]] = {kind: {} for kind in Kind}
    children: dict[str, tuple[str, ...]] = {}
    missing: set[str] = set()
    damaged: set[str] = set()
    seen: set[str] = set()
    packed: set[str] = set()
    contents: list[str] = list(dict.fromkeys(root_ids))
    chunks: list[str] = []
    first = True
    with store_errors(store.uri, backend, "reading the object store"):
        catalog.probe()
        while contents or chunks:
            seen.update(contents)
            seen.update(chunks)
            blobs = catalog.sizes(Kind.BLOB, contents + chunks)
            in_packs = store._packs.sizes(i for i in contents + chunks if i not in blobs)
            packed.update(in_packs)
            blobs.update(in_packs)
            # A tree entry stored as a blob is a file: only the others can be trees or
            # chunked contents. Roots are looked up as everything (a root may be both).
            rest = contents if first else [i for i in contents if i not in blobs]
            first = False
            level = {
                Kind.TREE: catalog.sizes(Kind.TREE, rest),
                Kind.MANIFEST: catalog.sizes(Kind.MANIFEST, rest),
                Kind.BLOB: blobs,
            }
            for kind, sizes in level.items():
                found[kind].update(sizes)
            missing.update(i for i in contents + chunks if not any(i in s for s in level.values()))
            next_contents: list[str] = []
            next_chunks: list[str] = []
            for object_id, kids in _read_parents(backend, level, jobs):
                if kids is None:
                    damaged.add(object_id)
                    continue
                children[object_id] = children.get(object_id, ()) + kids[1]
                target = next_contents if kids[0] is Kind.TREE else next_chunks
                target.extend(kid for kid in kids[1] if kid not in seen)
            contents = list(dict.fromkeys(next_contents))
            chunks = list(dict.fromkeys(next_chunks).keys() - set(contents))
    return ObjectSet(
        blobs=found[Kind.BLOB],
        manifests=found[Kind.MANIFEST],
        trees=found[Kind.TREE],
        children=children,
        missing=frozenset(missing),
        corrupt=frozenset(damaged),
        packed=frozenset(packed),
    )


def _check_roots(roots: Iterable[str]) -> list[str]:
    if isinstance(roots, str | bytes):
        raise InvalidArgument("roots must be an iterable of object ids, not a single string")
    return [check_id(root) for root in roots]


ParentChildren = tuple[Kind, tuple[str, ...]] | None


def _read_parents(
    backend: Backend, level: Mapping[Kind, Mapping[str, int]], jobs: int
) -> Iterator[tuple[str, ParentChildren]]:
    """Each tree's entries and each manifest's chunks of this level (None if unreadable)."""
    parents = [(Kind.TREE, i) for i in level[Kind.TREE]] + [
        (Kind.MANIFEST, i) for i in level[Kind.MANIFEST]
    ]

    def read(parent: tuple[Kind, str]) -> ParentChildren:
        kind, object_id = parent
        location = backend.location(key_for(kind, object_id))
        try:
            if kind is Kind.TREE:
                tree = decode_tree(object_id, read_verified(backend, kind, object_id), location)
                return kind, tuple(entry.id for entry in tree.entries.values())
            data = backend.read_bytes(key_for(kind, object_id))
            manifest = decode_manifest(object_id, data, location)
            return kind, tuple(chunk_id for chunk_id, _ in manifest.chunks)
        except (CorruptObject, NotFound):
            return None

    results = ordered_map(read, parents, threads=jobs)
    for (_, object_id), result in zip(parents, results, strict=True):
        yield object_id, result


def transfer(
    src: ObjectStore,
    dst: ObjectStore,
    roots: Iterable[str],
    *,
    jobs: int = 8,
    on_total: Callable[[int, int], None] | None = None,
    on_bytes: Callable[[int], None] | None = None,
    on_object: Callable[[str, bool], None] | None = None,
    pack_files: bool = True,
) -> TransferReport:
    """Copy what ``roots`` reach in ``src`` and ``dst`` lacks, ``jobs`` objects at a time.

    Into a local store, chunks and (if ``pack_files``) whole small contents are
    written in packs: thousands of objects cost a few file creations. A data
    cache whose workspace links files from it passes False, so that its files
    stay linkable blobs.

    ``on_total(objects, bytes)`` is called once the work is known, with what
    will be copied; ``on_bytes(n)`` after each object copied and
    ``on_object(id, copied)`` after each object settled (copied or skipped);
    all are called from the calling thread. Missing and damaged source
    objects are reported in the result, not raised. StorageError, naming the
    store and what to check, if either store cannot be read or written:
    objects copied before the failure stay, so running again resumes.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise InvalidArgument(f"jobs must be an int >= 1, got {jobs!r}")
    objects = reachable(src, roots, jobs=jobs)
    report = TransferReport()
    dst_backend = dst._backend
    catalog = Catalog(dst_backend, jobs=jobs)
    unusable = objects.missing | objects.corrupt
    with store_errors(dst.uri, dst_backend, "reading the object store"):
        catalog.probe()
        present = {kind: catalog.sizes(kind, list(objects.by_kind(kind))) for kind in Kind}
        present[Kind.BLOB].update(
            dst._packs.sizes(i for i in objects.blobs if i not in present[Kind.BLOB])
        )
        # What the source lacks or holds damaged is no loss if the destination has it.
        held = {i for kind in Kind for i in catalog.sizes(kind, sorted(unusable))}
    report.missing = sorted(objects.missing - held)
    report.corrupt = sorted(objects.corrupt - held)
    todo: dict[Kind, dict[str, int]] = {kind: {} for kind in Kind}
    for kind in Kind:
        for object_id, size in objects.by_kind(kind).items():
            if present[kind].get(object_id) == size:
                report.skipped += 1
                if on_object is not None:
                    on_object(object_id, False)
            elif object_id not in unusable:
                todo[kind][object_id] = size
    if on_total is not None:
        on_total(sum(map(len, todo.values())), sum(sum(t.values()) for t in todo.values()))
    failed = set(report.missing) | set(report.corrupt)
    copier = _Copier(src, dst, jobs, report, failed, on_bytes, on_object, objects.packed)
    if isinstance(dst_backend, LocalBackend):
        copier.pack_only = None if pack_files else _chunk_ids(objects)
        # Into a local store, small contents and chunks go into packs (a file per
        # thousands of objects); the packs are written when the block ends, before
        # any manifest or tree naming their contents.
        with (
            store_errors(dst.uri, dst_backend, "writing to the object store"),
            dst.packing() as packs,
        ):
            copier.run(Kind.BLOB, todo[Kind.BLOB], packs)
    else:
        copier.run(Kind.BLOB, todo[Kind.BLOB])
    copier.run(Kind.MANIFEST, _whole(todo[Kind.MANIFEST], objects, failed))
    for layer in _tree_layers(todo[Kind.TREE], objects):
        copier.run(Kind.TREE, _whole(layer, objects, failed))
    report.missing.sort()
    report.corrupt.sort()
    return report


def _chunk_ids(objects: ObjectSet) -> frozenset[str]:
    """The blobs that are chunks of a chunked content of ``objects``."""
    return frozenset(chunk for m in objects.manifests for chunk in objects.children.get(m, ()))


def _whole(todo: Mapping[str, int], objects: ObjectSet, failed: set[str]) -> dict[str, int]:
    """The parents in ``todo`` none of whose children failed; the others fail too."""
    ready: dict[str, int] = {}
    for object_id, size in todo.items():
        if any(kid in failed for kid in objects.children.get(object_id, ())):
            failed.add(object_id)
        else:
            ready[object_id] = size
    return ready


def _tree_layers(trees: Mapping[str, int], objects: ObjectSet) -> list[dict[str, int]]:
    """``trees`` grouped so every tree comes after the trees it contains."""
    height: dict[str, int] = {}

    def height_of(tree_id: str, trail: frozenset[str]) -> int:
        if tree_id not in height:
            subtrees = [k for k in objects.children.get(tree_id, ()) if k in objects.trees]
            height[tree_id] = 1 + max(
                (height_of(k, trail | {tree_id}) for k in subtrees if k not in trail), default=-1
            )
        return height[tree_id]

    layers: dict[int, dict[str, int]] = {}
    for tree_id, size in trees.items():
        layers.setdefault(height_of(tree_id, frozenset()), {})[tree_id] = size
    return [layers[h] for h in sorted(layers)]


class _Copier:
    """Copies objects of one kind at a time on a thread pool, settling each in this thread."""

    def __init__(
        self,
        src: ObjectStore,
        dst: ObjectStore,
        jobs: int,
        report: TransferReport,
        failed: set[str],
        on_bytes: Callable[[int], None] | None,
        on_object: Callable[[str, bool], None] | None,
        packed: frozenset[str] = frozenset(),
    ) -> None:
        self._src, self._dst = src, dst
        self._packed = packed
        self._jobs = jobs
        self._report = report
        self._failed = failed
        self._on_bytes = on_bytes
        self._on_object = on_object
        self.pack_only: frozenset[str] | None = None
        """With packs, only these blobs go into them (None: every blob that fits)."""

    def run(self, kind: Kind, todo: Mapping[str, int], packs: PackWriter | None = None) -> None:
        """Copy ``todo``; blobs that fit in memory go to ``packs`` if given."""
        if not todo:
            return
        threads = min(self._jobs, len(todo))
        with ThreadPoolExecutor(threads, thread_name_prefix="loopml-copy") as pool:
            pending: dict[Future[int], str] = {
                pool.submit(self._copy, kind, object_id, size, packs): object_id
                for object_id, size in todo.items()
            }
            try:
                for future in as_completed(pending):
                    self._settle(pending[future], future)
            except BaseException:
                for future in pending:
                    future.cancel()
                raise

    def _settle(self, object_id: str, future: Future[int]) -> None:
        try:
            size = future.result()
        except CorruptObject:
            self._failed.add(object_id)
            self._report.corrupt.append(object_id)
            return
        except NotFound:  # removed from the source since it was listed
            self._failed.add(object_id)
            self._report.missing.append(object_id)
            return
        self._report.copied += 1
        self._report.bytes += size
        if self._on_bytes is not None:
            self._on_bytes(size)
        if self._on_object is not None:
            self._on_object(object_id, True)

    def _copy(self, kind: Kind, object_id: str, size: int, packs: PackWriter | None) -> int:
        """Copy one object, verified; its size. CorruptObject if the source is damaged."""
        src, dst = self._src._backend, self._dst._backend
        key = key_for(kind, object_id)
        if kind is Kind.BLOB and object_id in self._packed:
            # A packed content travels alone: into the destination's packs, or as a blob.
            with store_errors(self._src.uri, src, "reading the object store"):
                data = self._src._packed_bytes(object_id, known=True)  # verified
            if data is None:
                raise NotFound(f"object {object_id} is no longer in {self._src.uri}")
            self._write(kind, object_id, data, packs)
            return len(data)
        if kind is not Kind.MANIFEST and size > STREAM_ABOVE:
            blocks = blob_blocks(src, object_id, kind)  # raises CorruptObject at its end
            with store_errors(self._dst.uri, dst, "writing to the object store"):
                dst.write_stream(key, blocks)
            return size
        with store_errors(self._src.uri, src, "reading the object store"):
            data = src.read_bytes(key)
        if kind is Kind.MANIFEST:
            decode_manifest(object_id, data, src.location(key))
        elif digest(data) != object_id:
            raise corrupt(object_id, src.location(key))
        self._write(kind, object_id, data, packs if kind is Kind.BLOB else None)
        return len(data)

    def _write(self, kind: Kind, object_id: str, data: bytes, packs: PackWriter | None) -> None:
        """Store verified bytes in the destination: in ``packs`` if given, else as they were."""
        with store_errors(self._dst.uri, self._dst._backend, "writing to the object store"):
            if packs is not None and (self.pack_only is None or object_id in self.pack_only):
                packs.put_verified(object_id, data)
            else:
                self._dst._backend.write_bytes(key_for(kind, object_id), data)
