"""The same pipeline on Ray and on the local pool gives the same outputs (blob for blob)."""

from __future__ import annotations

from pathlib import Path

import pipelines_support as support
import pytest

import loopml as lm

pytestmark = pytest.mark.xdist_group("ray")


def test_ray_and_the_local_pool_give_the_same_outputs(
    ray_instance: None, sdk: str, marks: Path
) -> None:
    local = support.training.run(marks=str(marks), executor="local")
    on_ray = support.training.run(marks=str(marks), executor="ray", cache=False)
    assert on_ray.status == "FINISHED"
    assert not any(s.cache_hit for s in on_ray.steps.values())
    assert {n: s.outputs for n, s in on_ray.steps.items()} == {
        n: s.outputs for n, s in local.steps.items()
    }
    assert lm.get_run(on_ray.run_id).data.tags["loopml.pipeline.executor"] == "ray"
    fit = lm.get_run(on_ray.steps["fit"].run_id or "")
    assert fit.data.metrics == {"train_rows": 40.0}  # logged from the Ray worker
    log = Path(lm.download_artifacts(on_ray.steps["load"].run_id or "", "logs/step.log"))
    assert "loading 50 rows" in log.read_text()

    failed = support.hanging.run(marks=str(marks), executor="ray", raise_on_failure=False)
    assert failed.steps["hang"].status == "FAILED" and failed.steps["hang"].attempts == 2
    assert "StepTimeout" in (failed.steps["hang"].error or "")
    assert failed.steps["independent"].status == "FINISHED"
