"""Helpers of the registry tests (imported by bare name): runs holding a model folder."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import yaml

from loopml.tracking import Client

COLUMNS = (("x", "double"), ("y", "long"))


def signature(columns: tuple[tuple[str, str], ...] = COLUMNS) -> dict[str, str]:
    """A manifest signature as MLflow writes it: inputs and outputs as JSON strings."""
    inputs = [{"type": kind, "name": name, "required": True} for name, kind in columns]
    return {"inputs": json.dumps(inputs), "outputs": json.dumps([{"type": "double"}])}


def write_model(
    folder: Path,
    weights: bytes = b"weights-1",
    columns: tuple[tuple[str, str], ...] | None = COLUMNS,
) -> Path:
    """A model folder: an MLmodel manifest (with a signature unless ``columns`` is None)."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, object] = {
        "artifact_path": "model",
        "flavors": {"python_function": {"loader_module": "loopml.models"}},
    }
    if columns is not None:
        manifest["signature"] = signature(columns)
    (folder / "MLmodel").write_text(yaml.safe_dump(manifest))
    (folder / "weights.bin").write_bytes(weights)
    (folder / "sub").mkdir(exist_ok=True)
    (folder / "sub" / "vocab.txt").write_text("a\nb\n")
    return folder


def model_run(
    client: Client,
    tmp_path: Path,
    metrics: dict[str, float] | None = None,
    weights: bytes = b"weights-1",
    columns: tuple[tuple[str, str], ...] | None = COLUMNS,
) -> str:
    """A finished run that logged a model folder under ``model`` and the given metrics."""
    run_id = client.create_run("0").info.run_id
    folder = write_model(tmp_path / uuid.uuid4().hex / "model", weights, columns)
    client.log_artifacts(run_id, str(folder), "model")
    for key, value in (metrics or {}).items():
        client.log_metric(run_id, key, value)
    client.set_terminated(run_id)
    return run_id


def unique(prefix: str = "model") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
