"""Fixtures of the automation tests (their helpers live in ``policy_world``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from policy_world import World, training_frame

import loopml as lm
from churn_models import FEATURES, classifier
from loopml.automation import Policies
from loopml.deployments import Deployments
from loopml.registry import Registry
from loopml.tracking import get_client


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """A fresh store; the SDK (so pipelines) and the policies use the same one."""
    monkeypatch.setenv("LOOPML_OBJECT_STORE_URI", str(tmp_path / "objects"))
    lm.set_tracking_uri(f"sqlite:///{tmp_path / 'loopml.db'}")
    client = get_client()
    built = World(tmp_path, client, Policies(client), Registry(client), Deployments(client))
    built.register_data("churn-train", training_frame(0))
    built.register_data("churn-holdout", training_frame(1, 400, extra=True))
    weak = training_frame(0)
    with lm.start_run():
        lm.log_model(
            classifier(weak, weak=True),  # type: ignore[arg-type]
            "model",
            input_example=weak[FEATURES].head(5),  # type: ignore[index]
            registered_model_name="churn",
        )
    built.registry.set_alias("churn", "champion", 1)
    built.deployments.create("churn", "models:/churn@champion")
    yield built
    while lm.active_run() is not None:
        lm.end_run()
    client.close()
    lm.set_tracking_uri(f"sqlite:///{tmp_path / 'unused.db'}")
