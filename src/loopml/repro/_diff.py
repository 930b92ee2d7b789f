"""What differs between two runs: params, metrics, code, environment, input data.

The question after "it worked last week": the answer lists only what
differs (identical params are counted, not listed), metric deltas for
metrics both runs have, the two commits and whether their uncommitted
changes are the same bytes, packages added, removed or changed between the
two environment locks, and the dataset versions each run read.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from loopml.core.errors import InvalidArgument, LoopmlError
from loopml.provenance import EnvironmentLock, diff_environments
from loopml.repro._artifacts import read_artifact
from loopml.store import Run
from loopml.tracking import Client
from loopml.tracking._provenance import DIFF_ARTIFACT, ENV_TAG, LOCK_ARTIFACT

COMMIT_TAG = "mlflow.source.git.commit"


@dataclass(frozen=True)
class Change:
    """One key whose value differs; None where a run lacks the key."""

    key: str
    a: str | None
    b: str | None


@dataclass(frozen=True)
class MetricChange:
    key: str
    a: float | None
    b: float | None

    @property
    def delta(self) -> float | None:
        if self.a is None or self.b is None:
            return None
        return self.b - self.a


@dataclass(frozen=True)
class RunDiff:
    """The differences between run ``a`` and run ``b`` (b compared with a)."""

    a: str
    b: str
    params: tuple[Change, ...]
    same_params: int
    metrics: tuple[MetricChange, ...]
    code: tuple[Change, ...]
    same_diff: bool | None  # None: neither run recorded uncommitted changes
    packages_added: tuple[tuple[str, str], ...] = ()
    packages_removed: tuple[tuple[str, str], ...] = ()
    packages_changed: tuple[tuple[str, str, str], ...] = ()
    python: tuple[str, str] | None = None
    environment_known: bool = True
    inputs: tuple[Change, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def identical_setup(self) -> bool:
        """Same params, code, environment and inputs: the runs should agree."""
        return not (
            self.params
            or self.code
            or self.same_diff is False
            or self.packages_added
            or self.packages_removed
            or self.packages_changed
            or self.python
            or self.inputs
        )


def _changes(a: dict[str, str], b: dict[str, str]) -> tuple[list[Change], int]:
    keys = sorted(set(a) | set(b))
    changed = [Change(k, a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k)]
    return changed, len(keys) - len(changed)


def _metric_changes(a: dict[str, float], b: dict[str, float]) -> list[MetricChange]:
    def same(x: float | None, y: float | None) -> bool:
        if x is None or y is None:
            return x is y
        return x == y or (math.isnan(x) and math.isnan(y))

    keys = sorted(set(a) | set(b))
    return [MetricChange(k, a.get(k), b.get(k)) for k in keys if not same(a.get(k), b.get(k))]


def _inputs(run: Run) -> dict[str, str]:
    return {f"{d.name} ({d.context or 'input'})": d.digest for d in run.inputs.dataset_inputs}


# What decides the code that ran. The branch and remote are where it came from (a
# reproduction runs on a detached checkout of a clone), and dirtiness is in the diff.
COMMAND_TAG = "loopml.command"
_CODE_TAGS = (COMMIT_TAG, "loopml.entry_point", COMMAND_TAG)


def _arguments(command: str) -> str:
    """The recorded command without its interpreter (``python`` or ``python3.11``: same code)."""
    try:
        argv = json.loads(command)
    except json.JSONDecodeError:
        return command
    if isinstance(argv, list) and argv:
        return json.dumps(argv[1:])
    return command


def _code(run: Run) -> dict[str, str]:
    tags = run.data.tags
    code = {k: tags[k] for k in _CODE_TAGS if k in tags}
    if COMMAND_TAG in code:
        code[COMMAND_TAG] = _arguments(code[COMMAND_TAG])
    return code


def diff_runs(client: Client, run_a: str, run_b: str) -> RunDiff:
    """Compare two runs (NotFound for an unknown run id)."""
    a, b = client.get_run(run_a), client.get_run(run_b)
    params, same_params = _changes(a.data.params, b.data.params)
    code, _ = _changes(_code(a), _code(b))
    notes: list[str] = []
    try:
        patch_a, patch_b = (
            read_artifact(client, run_a, DIFF_ARTIFACT),
            read_artifact(client, run_b, DIFF_ARTIFACT),
        )
    except LoopmlError as exc:
        patch_a = patch_b = None
        notes.append(f"uncommitted changes not compared: {exc}")
    same_diff = None if patch_a is None and patch_b is None else patch_a == patch_b
    env_fields: dict[str, Any] = {"environment_known": False}
    if a.data.tags.get(ENV_TAG) and a.data.tags.get(ENV_TAG) == b.data.tags.get(ENV_TAG):
        env_fields = {"environment_known": True}  # one lock for both: nothing differs
    else:
        try:
            lock_a = read_artifact(client, run_a, LOCK_ARTIFACT)
            lock_b = read_artifact(client, run_b, LOCK_ARTIFACT)
        except LoopmlError as exc:
            lock_a = lock_b = None
            notes.append(f"environments not compared: {exc}")
        try:
            env = (
                diff_environments(
                    EnvironmentLock.parse(lock_a.decode()), EnvironmentLock.parse(lock_b.decode())
                )
                if lock_a is not None and lock_b is not None
                else None
            )
        except (InvalidArgument, UnicodeDecodeError) as exc:
            env = None
            notes.append(f"environments not compared: a lock does not parse ({exc})")
        if env is not None:
            env_fields = {
                "packages_added": env.added,
                "packages_removed": env.removed,
                "packages_changed": env.changed,
                "python": env.python,
                "environment_known": True,
            }
        elif lock_a is None or lock_b is None:
            notes.append("one of the runs recorded no environment lock")
    inputs, _ = _changes(_inputs(a), _inputs(b))
    return RunDiff(
        a=run_a,
        b=run_b,
        params=tuple(params),
        same_params=same_params,
        metrics=tuple(_metric_changes(a.data.metrics, b.data.metrics)),
        code=tuple(code),
        same_diff=same_diff,
        inputs=tuple(inputs),
        notes=tuple(notes),
        **env_fields,
    )
