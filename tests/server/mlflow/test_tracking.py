"""Experiments, runs, metrics, params, tags and datasets through the unmodified mlflow client."""

from __future__ import annotations

import json
import math

import mlflow
import numpy as np
import pandas as pd
import pytest
from live_server import LiveServer
from mlflow.entities import Metric, Param, RunStatus, RunTag, ViewType
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow_support import api, loopml_cli, unique

import loopml as lm
from loopml.store import DatasetInput

API = "/api/2.0/mlflow"


def test_experiment_lifecycle(server: LiveServer, ml: MlflowClient, lm_client: lm.Client) -> None:
    name = unique("exp")
    experiment = mlflow.set_experiment(name)
    assert experiment.name == name
    assert experiment.artifact_location == f"mlflow-artifacts:/{experiment.experiment_id}"
    assert mlflow.set_experiment(name).experiment_id == experiment.experiment_id
    exp_id = experiment.experiment_id
    assert ml.get_experiment(exp_id).name == name
    assert ml.get_experiment_by_name(name).experiment_id == exp_id
    assert ml.get_experiment_by_name(unique("missing")) is None

    ml.set_experiment_tag(exp_id, "team", "vision")
    renamed = unique("renamed")
    ml.rename_experiment(exp_id, renamed)
    assert ml.get_experiment(exp_id).tags["team"] == "vision"

    # The same database through loopml's SDK and CLI.
    seen = lm_client.get_experiment(exp_id)
    assert (seen.name, seen.tags["team"]) == (renamed, "vision")
    listed = json.loads(loopml_cli(server, "experiments", "list", "--json").stdout)
    assert renamed in [e["name"] for e in listed]

    ml.delete_experiment(exp_id)
    assert ml.get_experiment(exp_id).lifecycle_stage == "deleted"
    active = ml.search_experiments(filter_string=f"name = '{renamed}'")
    deleted = ml.search_experiments(
        view_type=ViewType.DELETED_ONLY, filter_string=f"name = '{renamed}'"
    )
    assert (len(active), [e.experiment_id for e in deleted]) == (0, [exp_id])
    assert lm_client.get_experiment(exp_id).lifecycle_stage == "deleted"
    ml.restore_experiment(exp_id)
    assert ml.get_experiment(exp_id).lifecycle_stage == "active"

    with pytest.raises(MlflowException, match="RESOURCE_ALREADY_EXISTS"):
        ml.create_experiment(renamed)
    with pytest.raises(MlflowException, match="RESOURCE_DOES_NOT_EXIST"):
        ml.get_experiment("987654")


def test_experiment_tags_are_deleted(ml: MlflowClient, lm_client: lm.Client) -> None:
    exp_id = ml.create_experiment(unique("tags"), tags={"keep": "1", "drop": "2"})
    ml.delete_experiment_tag(exp_id, "drop")
    assert ml.get_experiment(exp_id).tags == {"keep": "1"}
    assert lm_client.get_experiment(exp_id).tags == {"keep": "1"}
    with pytest.raises(MlflowException, match="RESOURCE_DOES_NOT_EXIST"):
        ml.delete_experiment_tag(exp_id, "drop")


def test_search_experiments_filters_orders_and_pages(ml: MlflowClient) -> None:
    prefix = unique("page")
    ids = [ml.create_experiment(f"{prefix}-{i}", tags={"n": str(i)}) for i in range(5)]
    found = ml.search_experiments(filter_string=f"name LIKE '{prefix}-%'")
    assert [e.experiment_id for e in found] == ids[::-1]  # newest first, as MLflow orders
    by_name = ml.search_experiments(
        filter_string=f"name LIKE '{prefix}%' AND tags.n != '0'", order_by=["name DESC"]
    )
    assert [e.name for e in by_name] == [f"{prefix}-{i}" for i in (4, 3, 2, 1)]

    pages, token = [], None
    while True:
        page = ml.search_experiments(
            filter_string=f"name ILIKE '{prefix.upper()}%'",
            order_by=["experiment_id ASC"],
            max_results=2,
            page_token=token,
        )
        pages.append([e.experiment_id for e in page])
        token = page.token
        if not token:
            break
    assert pages == [ids[0:2], ids[2:4], ids[4:]]
    all_views = mlflow.search_experiments(
        view_type=ViewType.ALL, filter_string=f"name LIKE '{prefix}%'"
    )
    assert len(all_views) == 5


def test_runs_round_trip_with_the_loopml_sdk_and_cli(
    server: LiveServer, ml: MlflowClient, lm_client: lm.Client
) -> None:
    exp_id = mlflow.set_experiment(unique("runs")).experiment_id
    with mlflow.start_run(run_name="parent", tags={"team": "a"}) as parent:
        mlflow.log_param("lr", 0.1)
        mlflow.log_params({"depth": 3, "kind": "tree"})
        for step in range(3):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.9, "odd": math.nan})
        mlflow.set_tags({"stage": "dev", "gone": "soon"})
        mlflow.delete_tag("gone")
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("child_metric", 7)
    run_id = parent.info.run_id

    got = ml.get_run(run_id)
    assert got.info.status == "FINISHED" and got.info.end_time is not None
    assert got.info.run_name == "parent"
    assert got.info.artifact_uri == f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts"
    assert got.data.params == {"lr": "0.1", "depth": "3", "kind": "tree"}
    assert got.data.metrics["loss"] == pytest.approx(1 / 3) and math.isnan(got.data.metrics["odd"])
    assert got.data.tags["stage"] == "dev" and "gone" not in got.data.tags
    history = ml.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    assert ml.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == run_id

    # What the mlflow client wrote, read through loopml's SDK and CLI.
    seen = lm_client.get_run(run_id)
    assert (seen.info.status, seen.info.run_name, seen.data.params["depth"]) == (
        "FINISHED",
        "parent",
        "3",
    )
    assert seen.data.tags["team"] == "a" and seen.data.metrics["acc"] == 0.9
    assert lm_client.get_run(child.info.run_id).info.parent_run_id == run_id
    assert [m.value for m in lm_client.get_metric_history(run_id, "loss")][:2] == [1.0, 0.5]
    shown = json.loads(loopml_cli(server, "runs", "show", run_id, "--json").stdout)
    assert shown["run"]["data"]["params"]["lr"] == "0.1"

    ml.update_run(run_id, name="renamed")
    assert lm_client.get_run(run_id).info.run_name == "renamed"
    ml.delete_run(run_id)
    assert ml.get_run(run_id).info.lifecycle_stage == "deleted"
    assert lm_client.get_run(run_id).info.lifecycle_stage == "deleted"
    ml.restore_run(run_id)
    assert ml.get_run(run_id).info.lifecycle_stage == "active"


def test_client_api_batches_status_and_resume(ml: MlflowClient, lm_client: lm.Client) -> None:
    exp_id = ml.create_experiment(unique("client"))
    run = ml.create_run(exp_id, run_name="explicit", start_time=1_000)
    run_id = run.info.run_id
    assert (run.info.status, run.info.start_time) == ("RUNNING", 1_000)
    ml.log_batch(
        run_id,
        metrics=[Metric("m", float(i), 1_000 + i, i) for i in range(100)],
        params=[Param("p", "1")],
        tags=[RunTag("t", "x")],
    )
    ml.log_metric(run_id, "inf", math.inf, timestamp=5, step=2)
    assert ml.get_run(run_id).data.metrics["inf"] == math.inf
    assert len(lm_client.get_metric_history(run_id, "m")) == 100
    ml.set_terminated(run_id, status="KILLED", end_time=2_000)
    info = lm_client.get_run(run_id).info
    assert (info.status, info.end_time) == ("KILLED", 2_000)
    with pytest.raises(MlflowException, match="INVALID_STATE"):
        ml.log_metric(run_id, "late", 1.0)
    mlflow.set_experiment(experiment_id=exp_id)
    with mlflow.start_run(run_id=run_id):  # resume
        mlflow.log_metric("late", 1.0)
    assert ml.get_run(run_id).info.status == RunStatus.to_string(RunStatus.FINISHED)


def test_search_runs_filter_order_view_and_pages(ml: MlflowClient) -> None:
    exp_id = ml.create_experiment(unique("search"))
    ids = []
    for i in range(5):
        run = ml.create_run(exp_id, run_name=f"r{i}", tags={"parity": "even" if i % 2 else "odd"})
        ml.log_metric(run.info.run_id, "score", float(i))
        ml.log_param(run.info.run_id, "i", str(i))
        ids.append(run.info.run_id)
    ml.delete_run(ids[0])

    best = ml.search_runs([exp_id], "metrics.score >= 2", order_by=["metrics.score DESC"])
    assert [r.info.run_id for r in best] == [ids[4], ids[3], ids[2]]
    odd = ml.search_runs([exp_id], "tags.parity = 'odd' AND params.i != '4'")
    assert [r.info.run_id for r in odd] == [ids[2]]
    assert len(ml.search_runs([exp_id], run_view_type=ViewType.DELETED_ONLY)) == 1
    assert len(ml.search_runs([exp_id], run_view_type=ViewType.ALL)) == 5

    first = ml.search_runs([exp_id], order_by=["params.i ASC"], max_results=2)
    second = ml.search_runs(
        [exp_id], order_by=["params.i ASC"], max_results=2, page_token=first.token
    )
    assert [r.data.params["i"] for r in [*first, *second]] == ["1", "2", "3", "4"]
    frame = mlflow.search_runs([exp_id], filter_string="attributes.run_name = 'r3'")
    assert list(frame["run_id"]) == [ids[3]]
    with pytest.raises(MlflowException, match="INVALID_PARAMETER_VALUE"):
        ml.search_runs([exp_id], "metrics.score >")


@pytest.mark.filterwarnings("ignore:Starting with pandas version 4.0")  # inside mlflow.data
def test_datasets_keep_mlflow_fields(ml: MlflowClient, lm_client: lm.Client) -> None:
    mlflow.set_experiment(unique("data"))
    frame = pd.DataFrame({"x": np.arange(5.0), "y": np.arange(5.0) % 2})
    dataset = mlflow.data.from_pandas(frame, source="s3://bucket/train.csv", name="train")
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
    got = ml.get_run(run.info.run_id).inputs.dataset_inputs
    assert [(d.dataset.name, d.dataset.digest) for d in got] == [("train", dataset.digest)]
    assert [(t.key, t.value) for t in got[0].tags] == [("mlflow.data.context", "training")]

    (stored,) = lm_client.get_run(run.info.run_id).inputs.dataset_inputs
    assert (stored.name, stored.digest, stored.context) == ("train", dataset.digest, "training")
    assert stored.source_type == dataset.source._get_source_type()
    assert json.loads(stored.source) == json.loads(dataset.source.to_json())
    assert json.loads(stored.schema) == json.loads(dataset.to_dict()["schema"])
    assert json.loads(stored.profile) == json.loads(dataset.to_dict()["profile"])


def test_what_the_loopml_sdk_logged_is_seen_by_mlflow(
    ml: MlflowClient, lm_client: lm.Client
) -> None:
    exp_id = lm_client.create_experiment(unique("sdk"), tags={"owner": "lm"})
    run = lm_client.create_run(exp_id, run_name="native", tags={"k": "v"})
    run_id = run.info.run_id
    lm_client.log_batch(
        run_id, metrics=[lm.Metric("acc", 0.5 + i / 10, 10 + i, i) for i in range(3)]
    )
    lm_client.log_param(run_id, "alpha", 0.01)
    lm_client.log_inputs(run_id, [DatasetInput("d", "abc", "local", "/data", context="eval")])
    lm_client.set_terminated(run_id)

    got = ml.get_run(run_id)
    assert (got.info.run_name, got.info.status) == ("native", "FINISHED")
    assert got.info.artifact_uri == f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts"
    assert got.data.params == {"alpha": "0.01"} and got.data.tags["k"] == "v"
    assert got.data.metrics["acc"] == pytest.approx(0.7)
    assert [m.value for m in ml.get_metric_history(run_id, "acc")] == pytest.approx([0.5, 0.6, 0.7])
    (dataset,) = got.inputs.dataset_inputs
    assert (dataset.dataset.name, dataset.tags[0].value) == ("d", "eval")
    assert ml.get_experiment(exp_id).tags == {"owner": "lm"}
    found = mlflow.search_runs(
        [exp_id], filter_string="params.alpha = '0.01'", output_format="list"
    )
    assert [r.info.run_id for r in found] == [run_id]


def test_proto_json_variants_and_history_pages(server: LiveServer, lm_client: lm.Client) -> None:
    """What other MLflow clients send: camelCase names, int64 as strings, GET searches, pages."""
    exp_id = lm_client.create_experiment(unique("wire"))
    created = api(
        server, "POST", f"{API}/runs/create", json={"experimentId": exp_id, "startTime": "7"}
    )
    run_id = created.json()["run"]["info"]["run_id"]
    points = [{"key": "m", "value": i, "timestamp": str(i), "step": str(i)} for i in range(5)]
    batch = api(server, "POST", f"{API}/runs/log-batch", json={"runId": run_id, "metrics": points})
    assert batch.status_code == 200, batch.text
    assert lm_client.get_run(run_id).info.start_time == 7

    steps, token = [], None
    while True:
        query = {"run_id": run_id, "metric_key": "m", "max_results": 2}
        page = api(
            server,
            "GET",
            f"{API}/metrics/get-history",
            params=query | ({"page_token": token} if token else {}),
        )
        steps += [int(m["step"]) for m in page.json()["metrics"]]
        token = page.json().get("next_page_token")
        if not token:
            break
    assert steps == [0, 1, 2, 3, 4]

    query = {
        "filter": f"experiment_id = '{exp_id}'",
        "order_by": ["name ASC", "creation_time DESC"],
    }
    found = api(server, "GET", f"{API}/experiments/search", params=query).json()["experiments"]
    assert [e["experiment_id"] for e in found] == [exp_id]
