"""The views the benchmark opens: loopml's page requests and the API calls MLflow's UI makes.

What MLflow 3.17's UI sends (read from its bundled JavaScript, ``mlflow/server/js/build``):

- Runs table (experiment page): ``POST ajax-api/2.0/mlflow/runs/search`` with
  ``max_results: 100``, ``run_view_type: ACTIVE_ONLY`` and ``order_by`` the sorted
  column (``attributes.start_time DESC`` by default); no filter when none is typed.
- Compare page (up to 1,000 runs): one ``runs/search`` with the filter
  ``run_id IN (...)``, ``run_view_type: ALL``, ``max_results`` = the run count, and
  ``GET experiments/get`` per experiment. It draws no metric history; MLflow's charts
  (the experiment page's chart view) load each metric with
  ``GET metrics/get-history-bulk-interval`` for up to 100 runs, ``max_results=320``:
  the anchor for loopml's compare charts.
- Run page: ``POST /graphql`` (query ``GetRun``: info, data, inputs, model versions)
  and ``GET model-versions/search`` with ``run_id='...'``; each metric chart then
  calls ``get-history-bulk-interval`` with ``max_results=320`` (sampled server-side).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from _ui_data import BIG_KEY, Size, run_name
from _ui_http import Request

PAGE_RUNS = 100  # MLflow's page; loopml's page size is chosen to match
SORT_KEY = "m07"
CHART_KEYS = ("m01", "m02", "m03")  # the compare charts in view when the page opens
MLFLOW_CHART_POINTS = 320  # max_results of MLflow's sampled metric charts
MLFLOW_API = "/ajax-api/2.0/mlflow"

_GET_RUN_QUERY = """
query GetRun($data: MlflowGetRunInput!) {
  mlflowGetRun(input: $data) {
    apiError { helpUrl code message }
    run {
      info { runName status runUuid experimentId artifactUri endTime lifecycleStage
             startTime userId }
      experiment { experimentId name tags { key value } artifactLocation lifecycleStage
                   lastUpdateTime }
      modelVersions { status version name source }
      data { metrics { key value step timestamp } params { key value } tags { key value } }
      inputs {
        datasetInputs { dataset { digest name profile schema source sourceType }
                        tags { key value } }
        modelInputs { modelId }
      }
      outputs { modelOutputs { modelId step } }
    }
  }
}
"""


@dataclass(frozen=True)
class View:
    """One row of the report: what loopml serves and what MLflow's UI calls for it."""

    key: str
    label: str
    loopml: list[Request]
    mlflow: list[Request]


@dataclass(frozen=True)
class Stores:
    """Where the same runs are in each store: experiment id and run ids by run name."""

    loopml_experiment: str
    loopml_ids: dict[str, str]
    mlflow_experiment: str
    mlflow_ids: dict[str, str]


def views(size: Size, stores: Stores) -> list[View]:
    """Every view, loopml's requests beside MLflow's."""
    compared = [run_name(i) for i in size.compared()]
    big = run_name(size.big_run)
    exp, ids = stores.loopml_experiment, stores.loopml_ids
    mexp, mids = stores.mlflow_experiment, stores.mlflow_ids
    page = f"/experiments/{exp}?size={PAGE_RUNS}"
    sorted_page = f"{page}&sort=metrics.{SORT_KEY}&desc=true"
    runs_query = urlencode([("runs", ids[n]) for n in compared])
    mlflow_runs = [mids[n] for n in compared]
    return [
        View(
            "runs",
            f"runs table, first {PAGE_RUNS} of {size.runs:,}",
            [Request("runs page", "GET", page)],
            [_search(mexp, "attributes.start_time DESC")],
        ),
        View(
            "runs_partial",
            "runs table, htmx partial",
            [Request("runs partial", "GET", page, headers={"HX-Request": "true"})],
            [_search(mexp, "attributes.start_time DESC")],
        ),
        View(
            "runs_sorted",
            f"runs table sorted by metrics.{SORT_KEY}",
            [Request("runs page sorted", "GET", sorted_page)],
            [_search(mexp, f"metrics.`{SORT_KEY}` DESC")],
        ),
        View(
            "compare",
            f"compare {len(compared)} runs: page",
            [Request("compare page", "GET", f"/compare?{runs_query}")],
            [
                _post(
                    "runs/search IN",
                    "runs/search",
                    {
                        "experiment_ids": [mexp],
                        "filter": "run_id IN ({})".format(",".join(f"'{i}'" for i in mlflow_runs)),
                        "run_view_type": "ALL",
                        "max_results": len(mlflow_runs),
                    },
                ),
                Request(
                    "experiments/get", "GET", f"{MLFLOW_API}/experiments/get?experiment_id={mexp}"
                ),
            ],
        ),
        View(
            "compare_charts",
            f"compare {len(compared)} runs: {len(CHART_KEYS)} metric charts",
            [
                Request(f"compare chart {k}", "GET", f"/ui/api/compare/metrics/{k}?{runs_query}")
                for k in CHART_KEYS
            ],
            [_sampled(f"chart {k}", mlflow_runs, k) for k in CHART_KEYS],
        ),
        View(
            "run",
            f"run page ({size.big_points:,}-point metric)",
            [Request("run page", "GET", f"/runs/{ids[big]}")],
            [
                _post(
                    "graphql GetRun",
                    None,
                    {
                        "operationName": "GetRun",
                        "query": _GET_RUN_QUERY,
                        "variables": {"data": {"runId": mids[big]}},
                    },
                ),
                Request(
                    "model-versions/search",
                    "GET",
                    f"{MLFLOW_API}/model-versions/search?"
                    + urlencode({"filter": f"run_id='{mids[big]}'"}),
                ),
            ],
        ),
        View(
            "run_chart",
            f"run page chart, {size.big_points:,} points",
            [
                Request(
                    "run chart", "GET", f"/ui/api/runs/{ids[big]}/metrics/{quote(BIG_KEY, safe='')}"
                )
            ],
            [_sampled("chart big", [mids[big]], BIG_KEY)],
        ),
    ]


def _search(experiment_id: str, order: str) -> Request:
    body = {
        "experiment_ids": [experiment_id],
        "run_view_type": "ACTIVE_ONLY",
        "max_results": PAGE_RUNS,
        "order_by": [order],
    }
    return _post(f"runs/search {order}", "runs/search", body)


def _post(label: str, endpoint: str | None, body: dict[str, object]) -> Request:
    path = "/graphql" if endpoint is None else f"{MLFLOW_API}/{endpoint}"
    return Request(label, "POST", path, body=json.dumps(body).encode())


def _sampled(label: str, run_ids: list[str], key: str) -> Request:
    query = urlencode(
        [("run_ids", r) for r in run_ids]
        + [("metric_key", key), ("max_results", str(MLFLOW_CHART_POINTS))]
    )
    return Request(label, "GET", f"{MLFLOW_API}/metrics/get-history-bulk-interval?{query}")
