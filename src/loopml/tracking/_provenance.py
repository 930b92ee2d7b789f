"""What a run records about its code and environment when it starts, unasked.

``lm.start_run`` captures once per new top-level run: git state and entry
point as tags (MLflow's ``mlflow.source.git.*`` names, so MLflow's UI shows
them too), the uncommitted changes as the artifact ``code/diff.patch``, and
the environment lock as ``environment/requirements.lock``. Artifacts are
content-addressed blobs, so 10,000 runs in one environment store the lock
once (each run adds only an index row). Capture never stops a run: what
could not be recorded becomes the tag ``loopml.capture.warnings``. Child
runs share their parent's code and environment and record nothing again.
Off with ``LOOPML_CAPTURE_PROVENANCE=false``.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from loopml.core.errors import LoopmlError

if TYPE_CHECKING:
    from loopml.tracking._client import Client

log = logging.getLogger("loopml.tracking")

DIFF_ARTIFACT = "code/diff.patch"
LOCK_ARTIFACT = "environment/requirements.lock"
ENV_TAG = "loopml.env.digest"
WARNINGS_TAG = "loopml.capture.warnings"
CWD_TAG = "loopml.cwd"  # the working folder, relative to the work tree root
REPRODUCES_TAG = "loopml.reproduces"
REPRODUCES_VARIABLE = "LOOPML_REPRODUCES"


@dataclass(frozen=True)
class Provenance:
    """A run's code and environment, as tags and the two artifacts' contents."""

    tags: dict[str, str]
    diff: bytes | None
    lock: str | None


def _joined(*parts: str | None) -> str:
    return "; ".join(p for p in parts if p)


def capture_provenance() -> Provenance:
    """The code and environment of this process now; never raises."""
    from loopml.provenance import capture_code, capture_environment

    tags: dict[str, str] = {}
    diff: bytes | None = None
    lock: str | None = None
    try:
        code = capture_code()
        tags.update(code.tags())
        diff = code.diff
        if code.root is not None:
            cwd = Path.cwd().resolve()
            root = Path(code.root).resolve()
            if cwd == root or root in cwd.parents:
                tags[CWD_TAG] = cwd.relative_to(root).as_posix() or "."
        env = capture_environment()
        lock = env.text()
        tags[ENV_TAG] = env.digest()
        tags["loopml.env.python"] = f"{env.implementation} {env.python}"
        tags["loopml.env.platform"] = env.platform
        if env.warnings:
            tags[WARNINGS_TAG] = _joined(tags.get(WARNINGS_TAG), *env.warnings)
    except Exception as exc:  # capture is optional: it must never stop a run from starting
        log.warning("loopml: could not record the run's code and environment: %s", exc)
        tags[WARNINGS_TAG] = _joined(tags.get(WARNINGS_TAG), f"capture failed: {exc}")
    reproduces = os.environ.get(REPRODUCES_VARIABLE)
    if reproduces:
        tags[REPRODUCES_TAG] = reproduces
    return Provenance(tags, diff, lock)


def store_artifacts(client: Client, run_id: str, provenance: Provenance) -> None:
    """Log the diff (when the tree was dirty) and the environment lock of a started run."""
    try:
        if provenance.diff:
            client.log_artifact_stream(run_id, io.BytesIO(provenance.diff), DIFF_ARTIFACT)
        if provenance.lock is not None:
            client.log_text(run_id, provenance.lock, LOCK_ARTIFACT)
    except (LoopmlError, OSError) as exc:
        log.warning("loopml: could not store the run's diff and environment lock: %s", exc)
        warned = _joined(provenance.tags.get(WARNINGS_TAG), f"artifacts not stored: {exc}")
        client.set_tag(run_id, WARNINGS_TAG, warned)
