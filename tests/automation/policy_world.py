"""The automation tests' world: a store with churn data, a champion and a deployment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import loopml as lm
from churn_models import FEATURES, churn
from loopml.automation import Policies, Policy
from loopml.deployments import Deployments
from loopml.registry import Registry
from loopml.tracking import Client

PIPELINE = "policy_flows:training"


@dataclass
class World:
    """A store (SQLite + objects in ``root``) with datasets, ``churn`` v1 champion, a deployment."""

    root: Path
    client: Client
    policies: Policies
    registry: Registry
    deployments: Deployments

    def policy(self, **changes: object) -> Policy:
        """The test policy (inline executor, the logged model with its signature)."""
        fields: dict[str, object] = {
            "name": "retrain",
            "model": "churn",
            "deployment": "churn",
            "pipeline": PIPELINE,
            "holdout": "churn-holdout",
            "target": "churned",
            "model_output": "model",
            "gates": ["regression:roc_auc:0.0", "signature"],
            "executor": "inline",
            "canary": {"weight": 0.5, "requests": 20, "max_seconds": 120},
            "limits": {"max_error_rate": 0.05, "min_requests": 10},
        }
        fields.update(changes)
        return Policy.from_dict(fields)

    def register_data(self, name: str, frame: object) -> str:
        path = self.root / f"{name}-{len(list(self.root.glob(name + '-*')))}.parquet"
        frame.to_parquet(path)  # type: ignore[attr-defined]
        version = lm.register_dataset(name, path)
        return f"{version.name}@{version.version}"


def training_frame(seed: int = 0, rows: int = 600, extra: bool = False) -> object:
    frame = churn(rows, seed)[[*FEATURES, "churned"]]
    if extra:
        frame = frame.assign(extra=frame["tickets"] * 0.5)
    return frame
