"""Many processes logging into one SQLite store at once."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from loopml.tracking import Client

PROCESSES = 16
POINTS = 200


def _worker(uri: str, home: str, index: int) -> None:
    import os

    os.environ["LOOPML_HOME"] = home
    import loopml as lm

    lm.set_tracking_uri(uri)
    with lm.start_run(experiment="concurrent", run_name=f"worker-{index}"):
        lm.log_param("index", index)
        for step in range(POINTS):
            lm.log_metric("value", float(step), step=step)
            if step % 50 == 0:
                lm.flush()  # force many separate write transactions


def test_sixteen_processes_share_one_sqlite_store(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'shared.db'}"
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_worker, args=(uri, str(tmp_path / "home"), i))
        for i in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=240)
    assert [w.exitcode for w in workers] == [0] * PROCESSES
    client = Client(uri)
    experiment = client.get_experiment_by_name("concurrent")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], max_results=100)
    assert len(runs) == PROCESSES
    for run in runs:
        assert run.info.status == "FINISHED"
        history = client.get_metric_history(run.info.run_id, "value")
        assert [m.value for m in history] == [float(s) for s in range(POINTS)]
