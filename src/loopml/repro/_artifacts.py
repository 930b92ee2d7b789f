"""One artifact file of a run, whole, or None when the run has no such file."""

from __future__ import annotations

from loopml.tracking import Client


def read_artifact(client: Client, run_id: str, path: str) -> bytes | None:
    """The bytes of artifact ``path`` of run ``run_id`` (verified as read), None if absent."""
    if path not in {e.path for e in client.list_artifact_entries(run_id, path)}:
        return None
    _, reader = client.open_artifact(run_id, path)
    with reader:
        return reader.read()
