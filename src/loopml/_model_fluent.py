"""The fluent SDK's model calls that join packaging and registry: log, register, load.

They join two services that stay independent of each other: ``loopml.models``
packages a model into a run's artifacts, and ``loopml.registry`` versions it.
``load_model("models:/name@alias")`` resolves the alias in the registry,
downloads the version's files once into a cache keyed by their content (a
version is immutable, so its cache never goes stale), and loads that folder.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from loopml.core.hashing import hash_bytes
from loopml.models import LoadedModel, ModelInfo
from loopml.models import load_model as load_model_folder
from loopml.models import log_model as log_model_files
from loopml.registry import ModelVersion, Registry
from loopml.tracking import Client, get_client

MODELS_SCHEME = "models:/"


def _registry(client: Client | None) -> Registry:
    return Registry(client if client is not None else get_client())


def log_model(
    model: Any,
    name: str,
    *,
    input_example: Any = None,
    signature: Any = None,
    registered_model_name: str | None = None,
    client: Client | None = None,
    **options: Any,
) -> ModelInfo:
    """Save ``model`` into the active run under ``name``; register it if a name is given.

    ``options`` are those of ``loopml.models.log_model`` (``run_id``,
    ``code_paths``, ``artifacts``...). The registered version snapshots the
    logged files, so later changes to the run never change it.
    """
    info = log_model_files(
        model, name, input_example=input_example, signature=signature, client=client, **options
    )
    if registered_model_name is None:
        return info
    version = _registry(client).create_model_version(
        registered_model_name, info.model_uri, run_id=info.run_id
    )
    return dataclasses.replace(info, registered_model_version=version.version)


def register_model(model_uri: str, name: str, *, client: Client | None = None) -> ModelVersion:
    """A new version of registered model ``name`` from ``runs:/<run_id>/<path>``."""
    return _registry(client).create_model_version(name, model_uri)


def load_model(
    model_uri: str | os.PathLike[str],
    *,
    trusted: list[str] | tuple[str, ...] | None = None,
    trust_pickle: bool = False,
    client: Client | None = None,
) -> LoadedModel:
    """Load a model from ``models:/<name>/<version>``, ``models:/<name>@<alias>``,
    ``runs:/<run_id>/<path>`` or a local folder.

    ``trusted`` and ``trust_pickle`` are as in ``loopml.models.load_model``.
    """
    text = os.fspath(model_uri)
    if text.startswith(MODELS_SCHEME):
        text = str(registered_model_folder(text, client=client))
    return load_model_folder(text, trusted=trusted, trust_pickle=trust_pickle, client=client)


def registered_model_folder(model_uri: str, *, client: Client | None = None) -> Path:
    """The local folder of ``models:/<name>/<version>`` or ``models:/<name>@<alias>``.

    Downloaded once into the model cache (keyed by the version's content).
    """
    registry = _registry(client)
    return _cached_version(registry, registry.resolve(model_uri))


def _cached_version(registry: Registry, version: ModelVersion) -> Path:
    """The version's files in the local model cache, downloaded on first use."""
    files = registry.model_version_files(version.name, version.version)
    listing = "\n".join(f"{f.path}\t{f.blob_id}" for f in sorted(files, key=lambda f: f.path))
    root = registry.client.settings.home.expanduser() / "cache" / "models"
    folder = root / hash_bytes(listing.encode())
    if folder.is_dir():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=root))
    try:
        registry.download_model_version(version.name, version.version, staging)
        os.replace(staging, folder)  # atomic: a folder in the cache is always whole
    except OSError:
        if not folder.is_dir():  # not another process winning the same download
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder
