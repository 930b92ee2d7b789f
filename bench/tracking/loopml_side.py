"""The loopml side of the tracking benchmark; runs in the project venv.

    .venv/bin/python bench/tracking/loopml_side.py OUT_JSON WORK_DIR

loopml on ``sqlite:///WORK_DIR/loopml.db``, its object store under
``LOOPML_HOME`` (``bench.py`` points that at the temp dir too).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

from _cases import SEARCH_MAX_RESULTS, MetricRow, main

import loopml as lm


class LoopmlTracker:
    name = "loopml"
    version = version("loopml")

    def setup(self, work_dir: Path) -> None:
        uri = f"sqlite:///{work_dir.resolve() / 'loopml.db'}"
        lm.set_tracking_uri(uri)
        self.client = lm.Client(tracking_uri=uri)
        self.client.search_experiments()  # creates the database and runs the migrations

    def set_experiment(self, name: str) -> None:
        lm.set_experiment(name)

    def fluent_run(self, experiment: str, run_name: str, key: str, values: Sequence[float]) -> str:
        with lm.start_run(experiment=experiment, run_name=run_name) as run:
            for step, value in enumerate(values):
                lm.log_metric(key, value, step=step)
        return run.info.run_id

    def create_experiment(self, name: str) -> str:
        return self.client.create_experiment(name)

    def create_run(self, experiment_id: str, run_name: str) -> str:
        return self.client.create_run(experiment_id, run_name=run_name).info.run_id

    def make_metrics(self, rows: Sequence[MetricRow]) -> list[lm.Metric]:
        return [lm.Metric(r.key, r.value, r.timestamp, r.step) for r in rows]

    def make_params(self, params: dict[str, str]) -> list[lm.Param]:
        return [lm.Param(k, v) for k, v in params.items()]

    def log_batch(self, run_id: str, metrics: object, params: object) -> None:
        self.client.log_batch(run_id, metrics=metrics, params=params)  # type: ignore[arg-type]

    def get_metric_history(self, run_id: str, key: str) -> object:
        return self.client.get_metric_history(run_id, key)

    def history_points(self, history: object) -> list[tuple[int, float]]:
        return [(m.step, m.value) for m in history]  # type: ignore[attr-defined]

    def search_runs(self, experiment_id: str, filter_string: str, order_by: list[str]) -> object:
        return self.client.search_runs(
            [experiment_id],
            filter_string=filter_string,
            order_by=order_by or None,
            max_results=SEARCH_MAX_RESULTS,
        )

    def run_names(self, runs: object) -> list[str]:
        return [r.info.run_name for r in runs]  # type: ignore[attr-defined]


if __name__ == "__main__":
    main(LoopmlTracker())
