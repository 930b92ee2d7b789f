"""Bad input to the MLflow API: a 4xx in MLflow's error shape, never a 500, nothing half-written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from live_server import LiveServer
from mlflow_support import api, assert_error, unique

import loopml as lm

BAD = "INVALID_PARAMETER_VALUE"
MISSING = "RESOURCE_DOES_NOT_EXIST"
API = "/api/2.0/mlflow"
NO_RUN = "0" * 32


@pytest.fixture
def target(lm_client: lm.Client) -> dict[str, str]:
    """An experiment and a run to aim bad requests at."""
    exp = lm_client.create_experiment(unique("bad"))
    run = lm_client.create_run(exp).info.run_id
    lm_client.log_param(run, "p", "1")
    return {"exp": exp, "run": run}


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


CASES: list[tuple[str, str, Any, int, str]] = [
    # (method, path, JSON body or query, status, error_code); {exp} and {run} are filled in.
    ("POST", "/experiments/create", b"{not json", 400, BAD),
    ("POST", "/experiments/create", [1, 2], 400, BAD),
    ("POST", "/experiments/create", b"[" * 100_000 + b"]" * 100_000, 400, BAD),
    ("POST", "/experiments/create", b"\xff\xfe", 400, BAD),
    ("POST", "/experiments/create", {"name": 5}, 400, BAD),
    ("POST", "/experiments/create", {}, 400, BAD),
    ("POST", "/experiments/create", {"name": "x", "artifact_location": "/tmp/x"}, 400, BAD),
    (
        "POST",
        "/experiments/create",
        {"name": "x", "tags": [{"key": "a b!", "value": "v"}]},
        400,
        BAD,
    ),
    ("GET", "/experiments/get", {"experiment_id": "abc"}, 400, BAD),
    ("GET", "/experiments/get", {"experiment_id": "987654"}, 404, MISSING),
    ("GET", "/experiments/get-by-name", {}, 400, BAD),
    ("POST", "/experiments/search", {"filter": "owner = 'me'"}, 400, BAD),
    ("POST", "/experiments/search", {"order_by": ["name SIDEWAYS"]}, 400, BAD),
    ("POST", "/experiments/search", {"page_token": "garbage"}, 400, BAD),
    ("POST", "/experiments/search", {"max_results": "many"}, 400, BAD),
    ("POST", "/experiments/update", {"experiment_id": "{exp}"}, 400, BAD),
    ("POST", "/runs/create", {"experiment_id": "987654"}, 404, MISSING),
    ("POST", "/runs/create", {"experiment_id": "{exp}", "start_time": "soon"}, 400, BAD),
    ("GET", "/runs/get", {"run_id": NO_RUN}, 404, MISSING),
    ("GET", "/runs/get", {}, 400, BAD),
    ("POST", "/runs/update", {"run_id": "{run}", "status": "SLEEPING"}, 400, BAD),
    ("POST", "/runs/delete", {"run_id": NO_RUN}, 404, MISSING),
    (
        "POST",
        "/runs/log-metric",
        {"run_id": NO_RUN, "key": "m", "value": 1, "timestamp": 1},
        404,
        MISSING,
    ),
    (
        "POST",
        "/runs/log-metric",
        {"run_id": "{run}", "key": "m", "value": "x", "timestamp": 1},
        400,
        BAD,
    ),
    (
        "POST",
        "/runs/log-metric",
        {"run_id": "{run}", "key": "m", "value": True, "timestamp": 1},
        400,
        BAD,
    ),
    ("POST", "/runs/log-metric", {"run_id": "{run}", "key": "m", "value": 1}, 400, BAD),
    (
        "POST",
        "/runs/log-metric",
        {"run_id": "{run}", "key": "m", "value": 1, "timestamp": 1, "step": 2**70},
        400,
        BAD,
    ),
    ("POST", "/runs/log-parameter", {"run_id": "{run}", "key": "p", "value": "2"}, 400, BAD),
    ("POST", "/runs/log-batch", {"run_id": "{run}", "metrics": "many"}, 400, BAD),
    ("POST", "/runs/set-tag", {"run_id": "{run}", "key": "", "value": "v"}, 400, BAD),
    (
        "POST",
        "/runs/set-tag",
        {"run_id": "{run}", "key": "loopml.logged_model", "value": "true"},
        400,
        BAD,
    ),
    ("POST", "/runs/delete-tag", {"run_id": "{run}", "key": "never-set"}, 404, MISSING),
    ("POST", "/runs/search", {"experiment_ids": "{exp}"}, 400, BAD),
    ("POST", "/runs/search", {"experiment_ids": ["{exp}"], "filter": "metrics.m >"}, 400, BAD),
    ("POST", "/runs/search", {"experiment_ids": ["{exp}"], "max_results": 0}, 400, BAD),
    ("POST", "/runs/search", {"experiment_ids": ["{exp}"], "run_view_type": "SOME"}, 400, BAD),
    ("GET", "/metrics/get-history", {"run_id": "{run}"}, 400, BAD),
    ("GET", "/metrics/get-history", {"run_id": NO_RUN, "metric_key": "m"}, 404, MISSING),
    (
        "GET",
        "/metrics/get-history",
        {"run_id": "{run}", "metric_key": "m", "max_results": "x"},
        400,
        BAD,
    ),
    (
        "POST",
        "/runs/log-inputs",
        {"run_id": "{run}", "datasets": [{"dataset": {"name": "d"}}]},
        400,
        BAD,
    ),
    ("POST", "/runs/outputs", {"run_id": "{run}", "models": [{"model_id": "m-x"}]}, 404, MISSING),
    ("GET", "/logged-models/m-nothing", {}, 404, MISSING),
    ("GET", "/logged-models/m-{run}", {}, 404, MISSING),  # a run, not a logged model
    ("POST", "/logged-models", {"experiment_id": "987654"}, 404, MISSING),
    ("POST", "/logged-models", {"experiment_id": "{exp}", "source_run_id": NO_RUN}, 404, MISSING),
    (
        "POST",
        "/logged-models",
        {"experiment_id": "{exp}", "tags": [{"key": "loopml.logged_model", "value": "x"}]},
        400,
        BAD,
    ),
    (
        "POST",
        "/logged-models/search",
        {"experiment_ids": ["{exp}"], "filter": "size > 1"},
        400,
        BAD,
    ),
    ("PATCH", "/logged-models/m-nothing", {"status": "LOGGED_MODEL_READY"}, 404, MISSING),
    ("GET", "/artifacts/list", {"run_id": "{run}", "path": "../up"}, 400, BAD),
    ("GET", "/no/such/endpoint", {}, 404, "ENDPOINT_NOT_FOUND"),
]


@pytest.mark.parametrize(("method", "path", "payload", "status", "code"), CASES)
def test_bad_requests_get_mlflow_errors(
    server: LiveServer,
    target: dict[str, str],
    method: str,
    path: str,
    payload: Any,
    status: int,
    code: str,
) -> None:
    url = API + _fill(path, target)
    if isinstance(payload, bytes):
        response = api(server, method, url, content=payload)
    elif method == "GET":
        response = api(server, method, url, params=_fill(payload, target))
    else:
        response = api(server, method, url, json=_fill(payload, target))
    assert_error(response, status, code)


def test_rejected_writes_leave_nothing(server: LiveServer, lm_client: lm.Client) -> None:
    exp = lm_client.create_experiment(unique("atomic"))
    run = lm_client.create_run(exp).info.run_id
    batch = {
        "run_id": run,
        "metrics": [{"key": "good", "value": 1, "timestamp": 1}],
        "params": [{"key": "ok", "value": "1"}, {"key": "bad key!", "value": "2"}],
        "tags": [{"key": "t", "value": "v"}],
    }
    assert_error(api(server, "POST", f"{API}/runs/log-batch", json=batch), 400, BAD)
    data = lm_client.get_run(run).data
    assert (data.metrics, data.params, "t" in data.tags) == ({}, {}, False)

    model = {"experiment_id": exp, "name": "m", "params": [{"key": "bad key!", "value": "1"}]}
    assert_error(api(server, "POST", f"{API}/logged-models", json=model), 400, BAD)
    assert [r.info.run_id for r in lm_client.search_runs([exp], run_view_type="ALL")] == [run]

    name = unique("never")
    bad_tags = {"name": name, "tags": [{"key": "", "value": "v"}]}
    assert_error(api(server, "POST", f"{API}/experiments/create", json=bad_tags), 400, BAD)
    assert lm_client.get_experiment_by_name(name) is None


def test_nan_and_infinity_round_trip_as_proto_json(
    server: LiveServer, lm_client: lm.Client
) -> None:
    exp = lm_client.create_experiment(unique("nan"))
    run = lm_client.create_run(exp).info.run_id
    for value in ("NaN", "Infinity", "-Infinity"):
        point = {"run_id": run, "key": value.lower(), "value": value, "timestamp": 1, "step": "2"}
        assert api(server, "POST", f"{API}/runs/log-metric", json=point).status_code == 200
    body = api(server, "GET", f"{API}/runs/get", params={"run_id": run}).text
    metrics = {m["key"]: m["value"] for m in json.loads(body)["run"]["data"]["metrics"]}
    assert metrics == {"nan": "NaN", "infinity": "Infinity", "-infinity": "-Infinity"}
