"""The MLflow side of the tracking benchmark; runs in MLflow's own venv.

    bench/.venvs/mlflow/bin/python bench/tracking/mlflow_side.py OUT_JSON WORK_DIR

MLflow's SQLAlchemy store on ``sqlite:///WORK_DIR/mlflow.db`` directly, no
server. Logging is synchronous, as by default (MLFLOW_ENABLE_ASYNC_LOGGING is
forced off by ``bench.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import mlflow
from _cases import SEARCH_MAX_RESULTS, MetricRow, main
from mlflow import MlflowClient
from mlflow.entities import Metric, Param


class MlflowTracker:
    name = "mlflow"
    version = mlflow.__version__

    def setup(self, work_dir: Path) -> None:
        logging.getLogger("mlflow").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        uri = f"sqlite:///{work_dir.resolve() / 'mlflow.db'}"
        mlflow.set_tracking_uri(uri)
        self.client = MlflowClient(tracking_uri=uri)
        self.client.search_experiments()  # creates the database and runs the migrations

    def set_experiment(self, name: str) -> None:
        mlflow.set_experiment(name)

    def fluent_run(self, experiment: str, run_name: str, key: str, values: Sequence[float]) -> str:
        # The experiment is already active (set_experiment, untimed).
        with mlflow.start_run(run_name=run_name) as run:
            for step, value in enumerate(values):
                mlflow.log_metric(key, value, step=step)
        return run.info.run_id

    def create_experiment(self, name: str) -> str:
        return self.client.create_experiment(name)

    def create_run(self, experiment_id: str, run_name: str) -> str:
        return self.client.create_run(experiment_id, run_name=run_name).info.run_id

    def make_metrics(self, rows: Sequence[MetricRow]) -> list[Metric]:
        return [Metric(r.key, r.value, r.timestamp, r.step) for r in rows]

    def make_params(self, params: dict[str, str]) -> list[Param]:
        return [Param(k, v) for k, v in params.items()]

    def log_batch(self, run_id: str, metrics: object, params: object) -> None:
        self.client.log_batch(run_id, metrics=metrics, params=params)  # type: ignore[arg-type]

    def get_metric_history(self, run_id: str, key: str) -> object:
        return self.client.get_metric_history(run_id, key)

    def history_points(self, history: object) -> list[tuple[int, float]]:
        return [(m.step, m.value) for m in history]  # type: ignore[attr-defined]

    def search_runs(self, experiment_id: str, filter_string: str, order_by: list[str]) -> object:
        return self.client.search_runs(
            experiment_ids=[experiment_id],
            filter_string=filter_string,
            order_by=order_by or None,
            max_results=SEARCH_MAX_RESULTS,
        )

    def run_names(self, runs: object) -> list[str]:
        return [r.info.run_name for r in runs]  # type: ignore[attr-defined]


if __name__ == "__main__":
    main(MlflowTracker())
