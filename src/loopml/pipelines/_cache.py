"""Step cache keys and where the pipeline store lives.

A step's key is the BLAKE3 of: its qualified name and source code (with its
decorator, so options count), the values given to it, the ids of the
outputs it receives, its output names and pickle permission, and the output
format version. Two executions with equal keys would compute the same
thing from the same data; the second reuses the first's outputs. Library
versions and the environment are not part of the key (as in ZenML and
Kedro): run with ``--no-cache`` after upgrading something that changes
results.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loopml.core.errors import InvalidArgument
from loopml.core.hashing import hash_bytes
from loopml.pipelines._build import Arg, Node, Ref
from loopml.pipelines._formats import FORMAT_VERSION, canonical_json
from loopml.pipelines._outputs import StoredOutput
from loopml.pipelines._rest import RestPipelineStore
from loopml.store import PipelineStore, SqlPipelineStore, SqlTrackingStore
from loopml.tracking import Client
from loopml.tracking._rest import RestTrackingStore


def cache_key(node: Node, inputs: Mapping[Ref, StoredOutput]) -> str:
    """The cache key of ``node`` once the outputs it receives are known."""

    def arg(value: Arg) -> dict[str, Any]:
        if isinstance(value, Ref):
            return {"input": inputs[value].id}
        return {"value": value.value}

    options = node.step.options
    payload = {
        "version": FORMAT_VERSION,
        "step": node.step.qualified_name,
        "code": node.step.code_digest(),
        "args": [arg(a) for a in node.args],
        "kwargs": {k: arg(v) for k, v in node.kwargs.items()},
        "outputs": list(options.outputs),
        "pickle": options.allow_pickle,
    }
    return hash_bytes(canonical_json(payload).encode())


def open_pipeline_store(client: Client) -> PipelineStore:
    """The pipeline store beside a tracking client's store (database or server)."""
    if isinstance(client.store, SqlTrackingStore):
        return SqlPipelineStore(client.store.db)
    if isinstance(client.store, RestTrackingStore):
        return RestPipelineStore(client.store)
    raise InvalidArgument(
        f"Pipelines need a database or a loopml server; {client.tracking_uri!r} is neither."
    )
