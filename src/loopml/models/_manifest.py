"""The ``MLmodel`` manifest: what a model folder holds and how to load it.

The file is YAML in MLflow's layout (``flavors``, ``signature`` with JSON
strings, ``saved_input_example_info``, ``model_uuid`` ...), so the MLflow
client can read a loopml model, plus loopml's own keys:

* ``loopml_format_version: 1`` marks a folder written by loopml (a folder
  without it was written by MLflow and is read by ``_mlflow_format``);
* ``files``: size and BLAKE3 digest of every other file, checked before any
  byte is deserialised, so a truncated or altered file is named instead of
  failing deep inside a library;
* ``requirements``, ``python_version``, ``loopml_version``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from loopml.core.errors import CorruptObject, InvalidArgument, NotFound
from loopml.core.hashing import hash_stream
from loopml.models._signature import Signature
from loopml.objects import validate_tree_path

MANIFEST_NAME = "MLmodel"
FORMAT_VERSION = 1
PYFUNC = "python_function"
KNOWN_FLAVORS = ("sklearn", "xgboost", "lightgbm", "onnx")
# Folders whose files run or are handed to user code: nothing unlisted may appear there.
_SEALED_FOLDERS = ("code/", "artifacts/")


@dataclass(frozen=True, slots=True)
class FileDigest:
    """Size and BLAKE3 digest of one file of a model folder."""

    size: int
    blake3: str


@dataclass(frozen=True, slots=True)
class Manifest:
    """A parsed ``MLmodel``: the model's flavor, signature, files and provenance.

    ``format_version`` is None for a folder saved by MLflow; ``flavor`` is the
    model's own flavor (``sklearn``, ``xgboost``, ``lightgbm``, ``onnx``, or
    ``python_function`` for custom code).
    """

    flavor: str
    flavors: dict[str, dict[str, Any]]
    signature: Signature | None = None
    saved_input_example_info: dict[str, Any] | None = None
    model_size_bytes: int | None = None
    utc_time_created: str | None = None
    model_uuid: str | None = None
    loopml_version: str | None = None
    python_version: str | None = None
    requirements: tuple[str, ...] = ()
    files: dict[str, FileDigest] = field(default_factory=dict)
    artifact_path: str | None = None
    run_id: str | None = None
    mlflow_version: str | None = None
    format_version: int | None = None

    @property
    def is_loopml(self) -> bool:
        return self.format_version is not None

    @property
    def flavor_conf(self) -> dict[str, Any]:
        """The configuration of the model's own flavor."""
        return self.flavors.get(self.flavor, {})

    def to_dict(self) -> dict[str, Any]:
        """The YAML mapping written to ``MLmodel``."""
        out: dict[str, Any] = {
            "artifact_path": self.artifact_path,
            "run_id": self.run_id,
            "flavors": self.flavors,
            "signature": self.signature.to_dict() if self.signature is not None else None,
            "saved_input_example_info": self.saved_input_example_info,
            "model_size_bytes": self.model_size_bytes,
            "utc_time_created": self.utc_time_created,
            "model_uuid": self.model_uuid,
            "loopml_version": self.loopml_version,
            "python_version": self.python_version,
            "requirements": list(self.requirements),
            "files": {p: {"size": d.size, "blake3": d.blake3} for p, d in self.files.items()},
            "loopml_format_version": self.format_version,
        }
        if self.mlflow_version is not None:
            out["mlflow_version"] = self.mlflow_version
        return out


def read_manifest(path: str | os.PathLike[str]) -> Manifest:
    """The manifest of a model folder (or of the ``MLmodel`` file itself).

    Reads folders written by loopml and by MLflow alike. NotFound when there
    is no such folder, InvalidArgument when it holds no readable ``MLmodel``.
    """
    location = Path(path)
    file = (
        location
        if location.name == MANIFEST_NAME and location.is_file()
        else location / (MANIFEST_NAME)
    )
    if not location.exists():
        raise NotFound(f"No model at {str(location)!r}: no such file or folder.")
    if not file.is_file():
        raise InvalidArgument(
            f"{str(location)!r} is not a model folder: it has no {MANIFEST_NAME} file."
        )
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"{str(file)!r} is not valid YAML: {exc}") from exc
    return manifest_from_dict(data, str(file))


def manifest_from_dict(data: object, where: str = MANIFEST_NAME) -> Manifest:
    """Parse the YAML mapping of an ``MLmodel`` file; InvalidArgument naming ``where``."""
    if not isinstance(data, Mapping):
        raise InvalidArgument(f"{where!r} does not hold a mapping.")
    flavors = data.get("flavors")
    if not isinstance(flavors, Mapping) or not flavors:
        raise InvalidArgument(f"{where!r} names no flavors: it is not a model manifest.")
    if not all(isinstance(k, str) and isinstance(v, Mapping) for k, v in flavors.items()):
        raise InvalidArgument(f"{where!r} has a malformed 'flavors' section.")
    try:
        signature = Signature.from_dict(data["signature"]) if data.get("signature") else None
    except InvalidArgument as exc:
        raise InvalidArgument(f"{where!r} has an unreadable signature: {exc.message}") from exc
    version = data.get("loopml_format_version")
    if version is not None and version != FORMAT_VERSION:
        raise InvalidArgument(
            f"{where!r} has loopml format version {version!r}; this loopml reads version "
            f"{FORMAT_VERSION}. Upgrade loopml to load it."
        )
    example = data.get("saved_input_example_info")
    return Manifest(
        flavor=_own_flavor(flavors),
        flavors={str(k): dict(v) for k, v in flavors.items()},
        signature=signature,
        saved_input_example_info=dict(example) if isinstance(example, Mapping) else None,
        model_size_bytes=_int_or_none(data.get("model_size_bytes")),
        utc_time_created=_str_or_none(data.get("utc_time_created")),
        model_uuid=_str_or_none(data.get("model_uuid")),
        loopml_version=_str_or_none(data.get("loopml_version")),
        python_version=_str_or_none(data.get("python_version")),
        requirements=tuple(str(r) for r in data.get("requirements") or ()),
        files=_files(data.get("files"), where) if version is not None else {},
        artifact_path=_str_or_none(data.get("artifact_path")),
        run_id=_str_or_none(data.get("run_id")),
        mlflow_version=_str_or_none(data.get("mlflow_version")),
        format_version=version,
    )


def _own_flavor(flavors: Mapping[str, Any]) -> str:
    for name in KNOWN_FLAVORS:
        if name in flavors:
            return name
    others = [name for name in flavors if name != PYFUNC]
    return others[0] if others else PYFUNC


def _files(raw: object, where: str) -> dict[str, FileDigest]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidArgument(f"{where!r} has a malformed 'files' section.")
    files = {}
    for path, entry in raw.items():
        if (
            not isinstance(entry, Mapping)
            or not isinstance(entry.get("size"), int)
            or not isinstance(entry.get("blake3"), str)
        ):
            raise InvalidArgument(f"{where!r}: the entry of file {path!r} needs a size and blake3.")
        files[validate_tree_path(path)] = FileDigest(entry["size"], entry["blake3"])
    return files


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Write ``MLmodel`` into ``folder`` (a temporary name first, then a rename)."""
    text = yaml.safe_dump(manifest.to_dict(), sort_keys=False, default_flow_style=False)
    partial = folder / f".{MANIFEST_NAME}.partial"
    partial.write_text(text, encoding="utf-8")
    partial.replace(folder / MANIFEST_NAME)


# -- files -------------------------------------------------------------------------


def inside(root: Path, relative: object, what: str) -> Path:
    """``root/relative`` when it stays inside ``root`` (no '..', no symlink out)."""
    try:
        rel = validate_tree_path(relative)
    except InvalidArgument as exc:
        raise InvalidArgument(f"The model's {what} path is unsafe: {exc.message}") from exc
    path = root.joinpath(*rel.split("/"))
    if not path.resolve().is_relative_to(root.resolve()):
        raise InvalidArgument(
            f"The model's {what} {rel!r} leads outside the model folder {str(root)!r}."
        )
    return path


def digest_files(folder: Path) -> dict[str, FileDigest]:
    """Size and digest of every file below ``folder`` except ``MLmodel``, by relative path."""
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel == MANIFEST_NAME:
            continue
        with path.open("rb") as stream:
            files[rel] = FileDigest(path.stat().st_size, hash_stream(stream))
    return files


def verify_files(folder: Path, manifest: Manifest) -> None:
    """Check every listed file's size and digest before anything is deserialised.

    CorruptObject names the first file that is missing, truncated or
    altered. Files under ``code/`` and ``artifacts/`` that the manifest does
    not list are refused too: they would run, or be handed to the model.
    """
    for rel, digest in manifest.files.items():
        path = inside(folder, rel, "file")
        if not path.is_file():
            raise CorruptObject(
                f"Model file {rel!r} is missing from {str(folder)!r} (the manifest lists it)."
            )
        size = path.stat().st_size
        if size != digest.size:
            raise CorruptObject(
                f"Model file {rel!r} in {str(folder)!r} is {size} bytes; the manifest recorded "
                f"{digest.size}. It is truncated or was changed after the model was saved."
            )
        with path.open("rb") as stream:
            actual = hash_stream(stream)
        if actual != digest.blake3:
            raise CorruptObject(
                f"Model file {rel!r} in {str(folder)!r} does not match its recorded BLAKE3 "
                "digest: it is corrupted or was changed after the model was saved."
            )
    for sealed in _SEALED_FOLDERS:
        base = folder / sealed.rstrip("/")
        if not base.is_dir():
            continue
        for path in base.rglob("*"):
            rel = path.relative_to(folder).as_posix()
            if "__pycache__" in path.parts:
                continue  # Python's own bytecode cache, written when the code is imported
            if path.is_file() and rel not in manifest.files:
                raise CorruptObject(
                    f"Model folder {str(folder)!r} holds {rel!r}, which its manifest does not "
                    "list: refusing to load code or artifacts added after the model was saved."
                )
