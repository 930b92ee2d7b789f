"""Content-addressed object store: every byte loopml keeps, addressed by its BLAKE3 hash.

Open one by URI (a local directory by default, ``s3://bucket/prefix`` for
teams) and put contents, files, streams and trees into it::

    store = open_object_store("~/.loopml/objects")
    info = store.put_file("model.onnx")
    tree_id = store.put_tree({"model.onnx": TreeEntry(info.id, info.size)})
    store.get_file(info.id, "copy.onnx")

Large contents are split with content-defined chunking so a local edit costs
only the chunks around it. Writes are atomic, reads verify every byte, and
:meth:`ObjectStore.gc` deletes what no root reaches after a grace period;
:func:`transfer` copies what some roots reach to another store (a remote),
only what it lacks, verified and resumable.
"""

from __future__ import annotations

from typing import Any

from loopml.objects._fs import backend_for_uri
from loopml.objects._gc import GcReport
from loopml.objects._store import BlobInfo, ObjectStore
from loopml.objects._streams import ChunkReader, write_chunks_atomically
from loopml.objects._transfer import ObjectSet, TransferReport, reachable, transfer
from loopml.objects._tree import Tree, TreeEntry, validate_tree_path

__all__ = [
    "BlobInfo",
    "ChunkReader",
    "GcReport",
    "ObjectSet",
    "ObjectStore",
    "TransferReport",
    "Tree",
    "TreeEntry",
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
    backend = backend_for_uri(uri, storage_options)
    return ObjectStore(backend, uri=uri, chunking_threshold=chunking_threshold)
