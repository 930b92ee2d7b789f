"""Verified ONNX conversions kept across starts: a restart answers before scikit-learn loads.

Converting a scikit-learn model and checking the conversion costs seconds,
and so does importing scikit-learn, SciPy and skops to load the native model:
most of a cold start. Once a conversion has been verified against a model
(``choose_fast_path``), its bytes and predictor plan are kept under
``LOOPML_HOME/cache/onnx/<BLAKE3 of the model's MLmodel>``. The manifest
lists the digest of every model file, so the key names exactly those files.
The next server of the same model (a restart, another replica, a worker)
serves from the cached conversion at once while the native model loads in
the background for the inputs the fast path leaves to it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from loopml.core.hashing import hash_bytes
from loopml.serving._fastpath import OnnxPredictor

log = logging.getLogger("loopml.serving")

MANIFEST = "MLmodel"
MODEL_FILE = "model.onnx"
PLAN_FILE = "plan.json"


def cache_key(folder: Path) -> str | None:
    """The key of the model in ``folder`` (None when it has no manifest)."""
    try:
        return hash_bytes((folder / MANIFEST).read_bytes())
    except OSError:
        return None


def cached_predictor(root: Path, key: str) -> OnnxPredictor | None:
    """The verified conversion of model ``key``, or None (absent or unreadable)."""
    entry = root / key
    try:
        plan = json.loads((entry / PLAN_FILE).read_text())
        return OnnxPredictor.from_plan((entry / MODEL_FILE).read_bytes(), plan)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a damaged entry only costs the conversion again
        log.warning("Ignoring the cached ONNX conversion %s: %s", entry, exc)
        return None


def keep_predictor(root: Path, key: str, predictor: OnnxPredictor) -> None:
    """Store a verified conversion (atomically: an entry is whole or absent)."""
    entry = root / key
    if entry.is_dir():
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
        try:
            (staging / MODEL_FILE).write_bytes(predictor.model_bytes)
            (staging / PLAN_FILE).write_text(json.dumps(predictor.plan()))
            os.replace(staging, entry)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:  # a cache that cannot be written never fails serving
        if not entry.is_dir():
            log.warning("Could not keep the ONNX conversion in %s: %s", root, exc)
