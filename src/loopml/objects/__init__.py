"""Content-addressed object store: every byte loopml keeps, addressed by its BLAKE3 hash.

Open one by URI (a local directory by default, ``s3://bucket/prefix`` for
teams) and put contents, files, streams and trees into it::

    store = open_object_store("~/.loopml/objects")
    info = store.put_file("model.onnx")
    tree_id = store.put_tree({"model.onnx": TreeEntry(info.id, info.size)})
    store.get_file(info.id, "copy.onnx")

Large contents are split with content-defined chunking so a local edit costs
only the chunks around it; many small files can be stored as one pack
(:meth:`ObjectStore.packing`). Writes are atomic, reads verify every byte,
and :meth:`ObjectStore.gc` deletes what no root reaches after a grace period;
:func:`transfer` copies what some roots reach to another store (a remote),
only what it lacks, verified and resumable.

Names are imported on first use (PEP 562): ``loopml data status`` needs only
:func:`local_packed_ids`, not the store and its chunker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loopml.core.lazy import lazy_exports

if TYPE_CHECKING:
    from loopml.objects._gc import GcReport
    from loopml.objects._packs import local_packed_ids
    from loopml.objects._store import BlobInfo, ObjectStore, PackWriter
    from loopml.objects._streams import ChunkReader, write_chunks_atomically
    from loopml.objects._transfer import ObjectSet, TransferReport, reachable, transfer
    from loopml.objects._tree import Tree, TreeEntry, validate_tree_path

_EXPORTS = {
    "BlobInfo": "loopml.objects._store",
    "ChunkReader": "loopml.objects._streams",
    "GcReport": "loopml.objects._gc",
    "ObjectSet": "loopml.objects._transfer",
    "ObjectStore": "loopml.objects._store",
    "PackWriter": "loopml.objects._store",
    "TransferReport": "loopml.objects._transfer",
    "Tree": "loopml.objects._tree",
    "TreeEntry": "loopml.objects._tree",
    "local_packed_ids": "loopml.objects._packs",
    "reachable": "loopml.objects._transfer",
    "transfer": "loopml.objects._transfer",
    "validate_tree_path": "loopml.objects._tree",
    "write_chunks_atomically": "loopml.objects._streams",
}

__all__ = [
    "BlobInfo",
    "ChunkReader",
    "GcReport",
    "ObjectSet",
    "ObjectStore",
    "PackWriter",
    "TransferReport",
    "Tree",
    "TreeEntry",
    "local_packed_ids",
    "open_object_store",
    "reachable",
    "transfer",
    "validate_tree_path",
    "write_chunks_atomically",
]

DEFAULT_CHUNKING_THRESHOLD = 8 * 1024 * 1024


def open_object_store(
    uri: str,
    *,
    chunking_threshold: int = DEFAULT_CHUNKING_THRESHOLD,
    storage_options: dict[str, Any] | None = None,
) -> ObjectStore:
    """Open the object store at ``uri``.

    ``uri`` is a local path or ``file://`` URI (the directory is created if
    missing) or an fsspec URL such as ``s3://bucket/prefix``, whose filesystem
    receives ``storage_options`` (for S3: ``endpoint_url``, ``key``,
    ``secret``, ``client_kwargs``...). Contents larger than
    ``chunking_threshold`` bytes are stored chunked. InvalidArgument for an
    unusable URI or threshold; StorageError if the location cannot be opened.
    """
    from loopml.objects._fs import backend_for_uri
    from loopml.objects._store import ObjectStore

    backend = backend_for_uri(uri, storage_options)
    return ObjectStore(backend, uri=uri, chunking_threshold=chunking_threshold)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
