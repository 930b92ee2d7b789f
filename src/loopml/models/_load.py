"""``load_model``: a model folder (local, or a run's artifacts) back into a LoadedModel.

loopml's own folders are checked file by file against the digests of their
manifest before any library reads a byte; folders written by MLflow go to
``_mlflow_format``. ``models:/`` URIs belong to the registry, which
downloads a version and then calls this with the local folder.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from loopml.core.errors import InvalidArgument
from loopml.core.ids import is_run_id
from loopml.models import _mlflow_format
from loopml.models._flavor import LoadOptions
from loopml.models._flavors import flavor_module
from loopml.models._loaded import LoadedModel
from loopml.models._manifest import MANIFEST_NAME, PYFUNC, read_manifest, verify_files

if TYPE_CHECKING:
    from loopml.tracking import Client

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")


def load_model(
    uri_or_path: str | os.PathLike[str],
    *,
    trusted: list[str] | tuple[str, ...] | None = None,
    trust_pickle: bool = False,
    client: Client | None = None,
) -> LoadedModel:
    """Load a model from a local folder or ``runs:/<run_id>/<path>``.

    ``trusted`` names skops types to build beyond the default families
    (scikit-learn, NumPy, SciPy); ``trust_pickle=True`` allows the pickle
    formats of models saved by MLflow (still refusing pickles that call
    ``os``, ``subprocess``, ``eval`` and the like). ``client`` is the tracking
    client that downloads ``runs:/`` URIs (the fluent SDK's by default).
    """
    if trusted is not None and (
        isinstance(trusted, str) or not all(isinstance(t, str) for t in trusted)
    ):
        raise InvalidArgument("trusted is a list of type names, e.g. ['mypkg.MyTransformer'].")
    options = LoadOptions(tuple(trusted or ()), bool(trust_pickle))
    text = os.fspath(uri_or_path)
    scheme = _SCHEME.match(text)
    if scheme is None or len(scheme.group(1)) == 1:  # a path (or a Windows drive letter)
        return load_local(Path(text), options)
    kind = scheme.group(1).lower()
    if kind == "models":
        raise InvalidArgument(
            f"{text!r} names a registered model: load it with loopml.load_model, which resolves "
            "registry URIs (loopml.models.load_model takes folders and runs:/ URIs)."
        )
    if kind == "runs":
        return _load_run(text, options, client)
    if kind == "file":
        return load_local(Path(unquote(urlparse(text).path)), options)
    raise InvalidArgument(
        f"Cannot load a model from {text!r}: use a local path, file://, runs:/<run_id>/<path> "
        "or models:/<name>/<version>."
    )


def load_local(path: Path, options: LoadOptions) -> LoadedModel:
    """Load the model folder at ``path`` (or the folder of the ``MLmodel`` file ``path``)."""
    manifest = read_manifest(path)
    folder = path.parent if path.name == MANIFEST_NAME and path.is_file() else path
    if manifest.is_loopml:
        verify_files(folder, manifest)
        module = flavor_module(manifest.flavor)
        conf = manifest.flavors[PYFUNC] if manifest.flavor == PYFUNC else manifest.flavor_conf
        native = module.load(folder, conf, options)
    else:
        native = _mlflow_format.load(folder, manifest, options)
    return LoadedModel(manifest, native, folder)


def _load_run(uri: str, options: LoadOptions, client: Client | None) -> LoadedModel:
    rest = uri[len("runs:") :].lstrip("/")
    run_id, _, artifact_path = rest.partition("/")
    if not is_run_id(run_id):
        raise InvalidArgument(
            f"{uri!r} is not a runs:/ URI: write runs:/<run_id>/<artifact path>, with the "
            "32-character run id."
        )
    from loopml.tracking import get_client  # not at the top: folders load without the store

    tracking = client or get_client()
    download = tempfile.mkdtemp(prefix="loopml-model-")
    try:
        local = tracking.download_artifacts(run_id, artifact_path.strip("/"), download)
        loaded = load_local(Path(local), options)
    except BaseException:
        shutil.rmtree(download, ignore_errors=True)
        raise
    if loaded.flavor != PYFUNC:
        # Every other flavor holds its model in memory; the files go with the object.
        # A python_function model may open its artifacts at any time: its copy stays.
        weakref.finalize(loaded, shutil.rmtree, download, True)
    return loaded
