"""The Ray executor on a local Ray instance with 2 CPUs (started once for this module)."""

from __future__ import annotations

import executors_support as tasks
import pytest

from loopml.core.errors import InvalidArgument
from loopml.executors import (
    RemoteTraceback,
    StepTimeout,
    WorkerCrashed,
    get_executor,
)
from loopml.executors._ray import ray_options

pytestmark = pytest.mark.xdist_group("ray")


def test_tasks_run_on_ray_as_on_the_local_pool(ray_instance: None) -> None:
    with get_executor("ray") as executor:
        assert executor.max_workers == 2  # the cluster's CPUs
        assert [
            f.result(timeout=120) for f in [executor.submit(tasks.square, i) for i in range(4)]
        ] == [0, 1, 4, 9]
        with pytest.raises(ValueError, match="on ray") as caught:
            executor.submit(tasks.fail, "on ray").result(timeout=120)
        assert isinstance(caught.value.__cause__, RemoteTraceback)
        with pytest.raises(StepTimeout, match="cancelled on Ray"):
            executor.submit(tasks.sleep_then, 60, "never", timeout=1.0).result(timeout=120)
        with pytest.raises(WorkerCrashed, match="died"):
            executor.submit(tasks.die, 3).result(timeout=120)
        offset = 2
        assert (
            executor.submit(lambda x: x + offset, 1, resources={"cpu": 1}).result(timeout=120) == 3
        )
        # Ray only warns about a request no node can meet: the task's timeout still ends it.
        infeasible = executor.submit(tasks.square, 1, resources={"no_such_thing": 1}, timeout=2)
        with pytest.raises(StepTimeout):
            infeasible.result(timeout=120)
    with pytest.raises(InvalidArgument, match="shut down"):
        executor.submit(tasks.square, 1)


def test_resource_names_map_to_ray_options() -> None:
    assert ray_options({"cpu": 2, "gpu": 1, "memory": 1e9, "accelerator": 1}) == {
        "num_cpus": 2,
        "num_gpus": 1,
        "memory": 1_000_000_000,
        "resources": {"accelerator": 1},
        "max_retries": 0,
    }
    assert ray_options({}) == {"num_cpus": 1, "max_retries": 0}
