"""A model version's immutable snapshot, served read-only under the ``mlflow-artifacts`` proxy.

``get_model_version_download_uri`` answers ``mlflow-artifacts:/registry/<name>/<version>``,
so the MLflow client (``models:/<name>@<alias>``, ``models:/<name>/<version>``) lists and
downloads a version through ``/api/2.0/mlflow-artifacts/artifacts/registry/...``. Those
paths are served from the files the registry snapshotted when the version was made (path,
blob id, size), not from the run they came from: a run's artifacts may be overwritten later,
a version's files never are.

The name is percent-encoded in the URI (names may hold spaces, ``%``, ``?``, ``#``). The
client sends the URI's path as it is in a download's URL (decoded once by HTTP, giving the
name) and form-encodes it in a listing's ``path`` query (decoded once by HTTP, giving the
encoded name): so listings decode the name once more, downloads do not. The name only ever
keys a registry lookup; the rest of the path is checked like any artifact path.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

from loopml.core.errors import InvalidArgument, NotFound
from loopml.registry import Registry
from loopml.store import FileInfo

REGISTRY_ROOT = "registry"
_URI_PREFIX = f"mlflow-artifacts:/{REGISTRY_ROOT}/"


def download_uri(name: str, version: int) -> str:
    """Where the MLflow client downloads a version from: its snapshot, through this server."""
    return f"{_URI_PREFIX}{quote(name, safe='')}/{version}"


def is_snapshot_path(raw: str) -> bool:
    """Whether an ``mlflow-artifacts`` path is in the registry family (``registry/...``)."""
    return raw == REGISTRY_ROOT or raw.startswith(REGISTRY_ROOT + "/")


@dataclass(frozen=True)
class SnapshotTarget:
    """A path inside a version's snapshot: the version and a relative path ('' for its root)."""

    name: str
    version: int
    path: str


def snapshot_target(raw: str, *, name_encoded: bool) -> SnapshotTarget:
    """``registry/<name>/<version>[/<path>]`` split into a target.

    ``name_encoded`` says whether the name segment is still percent-encoded (listings).
    The path is returned as given: the caller checks it like any artifact path.
    """
    parts = raw.split("/", 3)
    if len(parts) < 3 or not parts[1] or not parts[2]:
        raise NotFound(
            f"No artifacts at {raw[:200]!r}: registry paths look like registry/<name>/<version>."
        )
    name = unquote(parts[1]) if name_encoded else parts[1]
    if not parts[2].isdigit() or len(parts[2]) > 18:
        raise NotFound(f"No artifacts at {raw[:200]!r}: {parts[2][:40]!r} is not a version number.")
    return SnapshotTarget(name, int(parts[2]), parts[3] if len(parts) == 4 else "")


def snapshot_children(registry: Registry, target: SnapshotTarget) -> list[FileInfo]:
    """What MLflow lists at a snapshot path: a folder's children, nothing for a file.

    NotFound if the version does not exist; an empty list for a path that holds nothing
    (as MLflow's artifact repositories answer).
    """
    files = registry.model_version_files(target.name, target.version)
    prefix = target.path + "/" if target.path else ""
    seen: dict[str, FileInfo] = {}
    for file in files:
        if not file.path.startswith(prefix) or file.path == target.path:
            continue
        child, slash, _ = file.path[len(prefix) :].partition("/")
        path = prefix + child
        if slash:
            seen.setdefault(path, FileInfo(path, True))
        else:
            seen[path] = FileInfo(path, False, file.size)
    return sorted(seen.values(), key=lambda info: info.path)


def refuse_write() -> None:
    """Versions are immutable: nothing is ever uploaded into a snapshot."""
    raise InvalidArgument(
        "Registered model versions are immutable: upload to a run or a logged model, "
        "then create a new version from it."
    )
