"""A whole chain for the lineage and model-card tests, written as users write it.

A registered training dataset; a pipeline run whose step run read it (with its
git commit, dirty flag and environment), logged metrics, an evaluation and a
model; two versions (v1 set as champion by hand, v2 promoted over it through a
metric gate); a deployment serving ``@champion``; a monitor on it with an alert
rule that fired on a drifted window. Names are unique, so one store holds many.
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _folder in ("registry", "monitoring"):
    if str(HERE.parent / _folder) not in sys.path:
        sys.path.insert(0, str(HERE.parent / _folder))

from monitor_support import log_windows, register_reference  # noqa: E402
from registry_support import write_model  # noqa: E402

from loopml.core.clock import now_ms  # noqa: E402
from loopml.datasets import Datasets  # noqa: E402
from loopml.deployments import Deployments  # noqa: E402
from loopml.monitoring import Monitors  # noqa: E402
from loopml.registry import MetricGate, Registry  # noqa: E402
from loopml.tracking import Client  # noqa: E402

XSS = "<img src=x onerror=alert(1)>"
MINUTE = 60_000
COMMIT = "0123456789abcdef0123456789abcdef01234567"
ENV_DIGEST = "e" * 64


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Chain:
    model: str
    dataset: str  # name
    dataset_version: int
    pipeline_run: str
    run_v1: str
    run_v2: str
    deployment: str
    monitor: str
    rule: str

    @property
    def dataset_uri(self) -> str:
        return f"loopml-dataset:/{self.dataset}/{self.dataset_version}"


def _step_run(
    client: Client, folder: Path, parent: str, auc: float, weights: bytes, dirty: bool, prefix: str
) -> str:
    run = client.create_run(
        "0",
        run_name=f"{prefix}train-{auc}",
        parent_run_id=parent,
        tags={
            "loopml.pipeline.name": "churn-flow",
            "loopml.step.name": "train",
            "mlflow.source.git.commit": COMMIT,
            "mlflow.source.git.branch": "main",
            "loopml.git.dirty": "true" if dirty else "false",
            "loopml.env.digest": ENV_DIGEST,
            "loopml.env.python": "CPython 3.12.3",
            "loopml.env.platform": "linux-x86_64",
        },
    )
    run_id = run.info.run_id
    model = write_model(folder / uuid.uuid4().hex / "model", weights)
    client.log_artifacts(run_id, str(model), "model")
    client.log_metric(run_id, "auc", auc)
    client.log_metric(run_id, "f1", auc - 0.1)
    client.set_terminated(run_id)
    return run_id


def build_chain(client: Client, folder: Path, *, run_prefix: str = "") -> Chain:
    """The whole chain; ``run_prefix`` starts the step runs' names (markup, say)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = unique("churn")
    datasets = Datasets(client)
    dataset_ref = register_reference(client, folder, unique("train"))
    dataset = datasets.get(dataset_ref)
    pipeline = client.create_run(
        "0", run_name="churn-flow", tags={"loopml.pipeline.name": "churn-flow"}
    ).info.run_id
    run_v1 = _step_run(client, folder, pipeline, 0.80, b"w1", dirty=False, prefix=run_prefix)
    run_v2 = _step_run(client, folder, pipeline, 0.90, b"w2", dirty=True, prefix=run_prefix)
    for run_id in (run_v1, run_v2):
        datasets.log_input(dataset, run_id, context="training")
    client.set_terminated(pipeline)

    registry = Registry(client, user="alice")
    registry.create_registered_model(
        name,
        description=f"Predicts churn for the retention team. {XSS}",
        tags={"owner": "retention-team", "intended_use": "weekly churn scores"},
    )
    registry.create_model_version(name, f"runs:/{run_v1}/model", description="first model")
    registry.create_model_version(
        name, f"runs:/{run_v2}/model", description="more trees", tags={"owner": "bob"}
    )
    registry.set_alias(name, "champion", 1, reason="first release")
    result = registry.promote(
        name, 2, "champion", [MetricGate("auc")], reason="better auc", user="carol"
    )
    assert result.promoted, result

    deployment = unique("dep")
    Deployments(client).create(deployment, f"models:/{name}@champion")
    start = (now_ms() // MINUTE - 8) * MINUTE
    log_windows(client, deployment, [0.0, 3.0], base=start)
    monitors = Monitors(client)
    monitor = unique("mon")
    monitors.create(monitor, deployment, window="1m", reference=dataset_ref, start_ms=start)
    rule = unique("drift")
    monitors.add_rule(rule, monitor, "dataset_drift for 1 windows", cooldown=0)
    run = monitors.run(monitor, until_ms=start + 2 * MINUTE)
    assert run.events, "the drifted window fires the rule"
    return Chain(
        name,
        dataset.name,
        dataset.version,
        pipeline,
        run_v1,
        run_v2,
        deployment,
        monitor,
        rule,
    )
