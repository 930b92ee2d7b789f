"""``save_model``: one model folder, written whole or not at all.

Everything is written into a temporary folder beside the target (model
files, input example, ``requirements.txt``, then ``MLmodel`` with the
digest of every file), and that folder is renamed onto the target in one
step. A failure at any point leaves no folder behind, and a reader never
sees half a model.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import platform
import shutil
import uuid
import warnings
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loopml.core.errors import AlreadyExists, InvalidArgument
from loopml.models import _pyfunc
from loopml.models._enforce import make_plan
from loopml.models._example import as_table_or_array, read_example, write_example
from loopml.models._flavor import Saved, SaveOptions
from loopml.models._flavors import detect_flavor, flavor_module
from loopml.models._manifest import (
    FORMAT_VERSION,
    PYFUNC,
    Manifest,
    digest_files,
    write_manifest,
)
from loopml.models._onnx_conversion import verified_conversion, write_companion
from loopml.models._signature import Signature, as_signature, infer_schema

REQUIREMENTS_FILE = "requirements.txt"
SKLEARN = "sklearn"


def save_model(
    model: Any,
    path: str | os.PathLike[str],
    *,
    flavor: str | None = None,
    input_example: Any = None,
    signature: Signature | Mapping[str, Any] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    artifacts: Mapping[str, str | os.PathLike[str]] | None = None,
    extra_requirements: Sequence[str] | None = None,
    init_kwargs: Mapping[str, Any] | None = None,
    model_config: Mapping[str, Any] | None = None,
    onnx: bool = False,
) -> Manifest:
    """Save ``model`` as a model folder at ``path`` (which must not exist, or be empty).

    The flavor is found from the model's class unless given: scikit-learn
    estimators (skops), XGBoost and LightGBM models (native formats), ONNX
    models (a ``ModelProto``, bytes or a ``.onnx`` path), and any other
    object with a ``predict`` method as ``python_function``, whose class is
    rebuilt at load from its import path with ``init_kwargs`` (its module
    file goes in ``code_paths``; ``artifacts`` maps names to files it needs).

    Without a ``signature``, one is inferred from ``input_example`` (and the
    model's prediction on it); ONNX models get one from their inputs.

    ``onnx=True`` (scikit-learn models with an ``input_example``) also stores
    the model converted with skl2onnx, once it has been shown to predict the
    example as the model does: a server of this model then answers from ONNX
    Runtime before scikit-learn is imported. A conversion that disagrees is
    left out with a warning saying why. Returns the manifest written.
    """
    options = SaveOptions(
        code_paths=[Path(p) for p in code_paths or ()],
        artifacts={k: Path(v) for k, v in (artifacts or {}).items()},
        init_kwargs=init_kwargs or {},
        model_config=model_config or {},
    )
    return write_model(
        model,
        Path(path),
        flavor=flavor,
        input_example=input_example,
        signature=signature,
        options=options,
        extra_requirements=extra_requirements,
        onnx=onnx,
    )


def write_model(
    model: Any,
    target: Path,
    *,
    flavor: str | None,
    input_example: Any,
    signature: Signature | Mapping[str, Any] | None,
    options: SaveOptions,
    extra_requirements: Sequence[str] | None,
    artifact_path: str | None = None,
    run_id: str | None = None,
    onnx: bool = False,
) -> Manifest:
    """``save_model`` with the run it is logged to (``log_model`` fills those)."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise AlreadyExists(f"{str(target)!r} exists and is not empty: save the model elsewhere.")
    name = flavor or detect_flavor(model)
    if onnx:
        _check_onnx_request(name, input_example)
    module = flavor_module(name)
    declared = as_signature(signature)
    extras = _extra_requirements(extra_requirements)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Beside the target (same filesystem: the rename is atomic); made with mkdir, not
    # mkdtemp, so the model folder gets the usual permissions rather than 0700.
    staging = target.parent / f".{target.name}.{uuid.uuid4().hex[:12]}.partial"
    staging.mkdir()
    try:
        saved: Saved = module.save(model, staging, options)
        example_info = None
        inferred = declared
        if input_example is not None:
            example = as_table_or_array(input_example)
            example_info = write_example(staging, example)
            if inferred is None:
                inferred = _infer(example, saved)
        if inferred is None:
            inferred = saved.default_signature
        flavors = _flavors(name, saved)
        if onnx:
            companion = _onnx_companion(model, staging, inferred, example_info, saved)
            if companion is not None:
                flavors[name]["onnx"] = companion
        requirements = _requirements(saved.requirements, extras)
        (staging / REQUIREMENTS_FILE).write_text("\n".join(requirements) + "\n", encoding="utf-8")
        files = digest_files(staging)
        manifest = Manifest(
            flavor=name,
            flavors=flavors,
            signature=inferred,
            saved_input_example_info=example_info,
            model_size_bytes=sum(d.size for d in files.values()),
            utc_time_created=datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" "),
            model_uuid=uuid.uuid4().hex,
            loopml_version=loopml_version(),
            python_version=platform.python_version(),
            requirements=tuple(requirements),
            files=files,
            artifact_path=artifact_path,
            run_id=run_id,
            format_version=FORMAT_VERSION,
        )
        write_manifest(staging, manifest)
        try:
            staging.rename(target)
        except OSError as exc:
            raise AlreadyExists(
                f"{str(target)!r} appeared while the model was being saved: {exc.strerror}."
            ) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def _flavors(name: str, saved: Saved) -> dict[str, dict[str, Any]]:
    """The model's flavor entry, and the ``python_function`` entry MLflow's pyfunc reads.

    Where MLflow's own loader reads the files as loopml wrote them, the entry
    names it, so a client with only ``mlflow`` installed loads the model;
    elsewhere it names ``loopml.models`` (``_load_pyfunc``).
    """
    if name == PYFUNC:
        return {PYFUNC: _pyfunc.pyfunc_entry(saved.conf)}
    entry = {
        "loader_module": _pyfunc.LOADER_MODULE,
        "python_version": platform.python_version(),
        **saved.pyfunc,
    }
    return {name: saved.conf, PYFUNC: entry}


def _check_onnx_request(flavor: str, input_example: Any) -> None:
    """Refuse ``onnx=True`` up front where it cannot work, before anything is written."""
    if flavor != SKLEARN:
        raise InvalidArgument(
            f"onnx=True converts scikit-learn models, not {flavor} models; save an ONNX "
            "model itself with flavor='onnx'."
        )
    if input_example is None:
        raise InvalidArgument(
            "onnx=True needs an input_example: the conversion is kept only once it predicts "
            "the example as the model does."
        )
    if importlib.util.find_spec("skl2onnx") is None:
        raise InvalidArgument(
            "onnx=True needs skl2onnx and onnxruntime: pip install 'loopml[serve]'."
        )


def _onnx_companion(
    model: Any, staging: Path, signature: Signature | None, example_info: Any, saved: Saved
) -> dict[str, Any] | None:
    """Convert, verify and store the ONNX twin; None (with a warning) when it disagrees.

    It is verified on the example as written (what a server reads back), not
    on the caller's object, so both see exactly the same values.
    """
    if saved.predict is None:
        return None
    plan = make_plan(signature.inputs if signature else None)
    native = saved.predict
    example = read_example(staging, example_info)
    conversion = verified_conversion(model, signature, example, lambda data: native(plan(data)))
    if isinstance(conversion, str):
        warnings.warn(
            f"The model is saved without its ONNX conversion: {conversion}.", stacklevel=4
        )
        return None
    return write_companion(staging, conversion)


def _infer(example: pd.DataFrame | np.ndarray, saved: Saved) -> Signature:
    inputs = infer_schema(example, "input")
    outputs = None
    if saved.predict is not None:
        # The output schema is a convenience: a model that cannot predict on its own
        # example (or returns something without a schema) still saves.
        with warnings.catch_warnings(), contextlib.suppress(Exception):
            warnings.simplefilter("ignore")
            outputs = infer_schema(saved.predict(make_plan(inputs)(example)), "output")
    return Signature(inputs, outputs)


def _extra_requirements(extra: Sequence[str] | None) -> list[str]:
    if extra is None:
        return []
    if isinstance(extra, str):
        raise InvalidArgument(
            "extra_requirements is a list of requirement strings, not one string."
        )
    checked = []
    for item in extra:
        if not isinstance(item, str) or not item.strip() or "\n" in item:
            raise InvalidArgument(f"Invalid requirement {item!r}: one 'name==version' per item.")
        checked.append(item.strip())
    return checked


def _requirements(packages: Mapping[str, str], extras: list[str]) -> list[str]:
    pinned = {"numpy": np.__version__, "pandas": pd.__version__, **packages}
    pinned["loopml"] = loopml_version()
    listed = [f"{name}=={version}" for name, version in sorted(pinned.items())]
    return listed + [e for e in extras if e not in listed]


def loopml_version() -> str:
    try:
        return metadata.version("loopml")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0+unknown"
