"""Bad input to the MLflow registry API: MLflow's error shape and status, nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from live_server import LiveServer
from mlflow_support import api, assert_error, raw_request, unique

import loopml as lm
from loopml.core.errors import NotFound
from loopml.registry import Registry

BAD = "INVALID_PARAMETER_VALUE"
MISSING = "RESOURCE_DOES_NOT_EXIST"
EXISTS = "RESOURCE_ALREADY_EXISTS"
API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
NO_RUN = "0" * 32
SECRET = "not-in-the-version-9f3c"


@pytest.fixture
def target(lm_client: lm.Client) -> dict[str, str]:
    """A registered model with one version (alias ``champion``) made from a run's folder."""
    exp = lm_client.create_experiment(unique("bad-registry"))
    run = lm_client.create_run(exp).info.run_id
    lm_client.log_text(run, "flavors: {}\n", "model/MLmodel")
    lm_client.log_text(run, SECRET, "other/secret.txt")
    name = unique("target")
    registry = Registry(lm_client)
    registry.create_model_version(name, f"runs:/{run}/model")
    registry.set_alias(name, "champion", 1)
    return {"exp": exp, "run": run, "name": name}


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


CASES: list[tuple[str, str, dict[str, Any], int, str]] = [
    # (method, path, JSON body or query, status, error_code); {exp}, {run}, {name} filled in.
    ("GET", "/registered-models/get", {"name": "no-such-model"}, 404, MISSING),
    ("GET", "/registered-models/get", {}, 400, BAD),
    ("POST", "/registered-models/create", {"name": "{name}"}, 400, EXISTS),
    ("POST", "/registered-models/create", {"name": "a/b"}, 400, BAD),
    ("POST", "/registered-models/create", {"name": "a:b"}, 400, BAD),
    ("POST", "/registered-models/create", {"name": ""}, 400, BAD),
    ("POST", "/registered-models/create", {"name": 5}, 400, BAD),
    ("POST", "/registered-models/rename", {"name": "{name}", "new_name": "x/y"}, 400, BAD),
    ("POST", "/registered-models/rename", {"name": "no-such-model", "new_name": "q"}, 404, MISSING),
    ("PATCH", "/registered-models/update", {"name": "no-such-model"}, 404, MISSING),
    ("DELETE", "/registered-models/delete", {"name": "no-such-model"}, 404, MISSING),
    ("GET", "/registered-models/search", {"filter": "owner = 'me'"}, 400, BAD),
    ("GET", "/registered-models/search", {"page_token": "garbage"}, 400, BAD),
    ("GET", "/registered-models/search", {"max_results": "many"}, 400, BAD),
    (
        "GET",
        "/registered-models/get-latest-versions",
        {"name": "{name}", "stages": "Gold"},
        400,
        BAD,
    ),
    ("POST", "/registered-models/get-latest-versions", {"name": "no-such-model"}, 404, MISSING),
    ("GET", "/model-versions/get", {"name": "{name}", "version": "7"}, 404, MISSING),
    ("GET", "/model-versions/get", {"name": "{name}", "version": "one"}, 400, BAD),
    ("GET", "/model-versions/get", {"name": "{name}", "version": "-1"}, 400, BAD),
    ("GET", "/model-versions/get", {"name": "no-such-model", "version": "1"}, 404, MISSING),
    ("GET", "/model-versions/get-download-uri", {"name": "{name}", "version": "7"}, 404, MISSING),
    ("GET", "/model-versions/search", {"filter": "flavor = 'x'"}, 400, BAD),
    ("PATCH", "/model-versions/update", {"name": "{name}", "version": "7"}, 404, MISSING),
    (
        "POST",
        "/model-versions/transition-stage",
        {"name": "{name}", "version": "1", "stage": "Gold"},
        400,
        BAD,
    ),
    ("DELETE", "/model-versions/delete", {"name": "{name}", "version": "1"}, 400, None),
    (
        "POST",
        "/model-versions/set-tag",
        {"name": "{name}", "version": "9", "key": "k"},
        404,
        MISSING,
    ),
    ("GET", "/registered-models/alias", {"name": "{name}", "alias": "nobody"}, 404, MISSING),
    (
        "GET",
        "/registered-models/alias",
        {"name": "no-such-model", "alias": "champion"},
        404,
        MISSING,
    ),
    (
        "POST",
        "/registered-models/alias",
        {"name": "{name}", "alias": "champion", "version": "7"},
        404,
        MISSING,
    ),
    (
        "POST",
        "/registered-models/alias",
        {"name": "{name}", "alias": "bad alias!", "version": "1"},
        400,
        BAD,
    ),
    (
        "POST",
        "/registered-models/alias",
        {"name": "{name}", "alias": "latest", "version": "1"},
        400,
        BAD,
    ),
    ("DELETE", "/registered-models/alias", {"name": "{name}", "alias": "nobody"}, 404, MISSING),
    # Version sources: only runs, logged models and versions of this server.
    ("POST", "/model-versions/create", {"name": "{name}"}, 400, BAD),
    (
        "POST",
        "/model-versions/create",
        {"name": "no-such-model", "source": "runs:/{run}/model"},
        404,
        MISSING,
    ),
    ("POST", "/model-versions/create", {"name": "{name}", "source": "s3://bucket/model"}, 400, BAD),
    ("POST", "/model-versions/create", {"name": "{name}", "source": "/etc"}, 400, BAD),
    ("POST", "/model-versions/create", {"name": "{name}", "source": "file:///etc"}, 400, BAD),
    (
        "POST",
        "/model-versions/create",
        {"name": "{name}", "source": "http://169.254.169.254/latest/meta-data"},
        400,
        BAD,
    ),
    (
        "POST",
        "/model-versions/create",
        {"name": "{name}", "source": "mlflow-artifacts://evil.example/{exp}/{run}/artifacts/model"},
        400,
        BAD,
    ),
    ("POST", "/model-versions/create", {"name": "{name}", "source": "runs:/{run}/../x"}, 400, BAD),
    (
        "POST",
        "/model-versions/create",
        {"name": "{name}", "source": "runs:/{run}/%2e%2e/x"},
        400,
        BAD,
    ),
    (
        "POST",
        "/model-versions/create",
        {"name": "{name}", "source": f"runs:/{NO_RUN}/model"},
        404,
        MISSING,
    ),
    (
        "POST",
        "/model-versions/create",
        {"name": "{name}", "source": "runs:/{run}/model", "run_id": NO_RUN},
        400,
        BAD,
    ),
    (
        "POST",
        "/model-versions/create",
        {"name": "{name}", "source": "runs:/{run}/nothing"},
        404,
        MISSING,
    ),
    (
        "POST",
        "/model-versions/create",
        {"name": "{name}", "source": f"models:/m-{NO_RUN}"},
        404,
        MISSING,
    ),
    (
        "POST",
        "/model-versions/create",
        {"name": "{name}", "source": "models:/m-{run}"},
        404,
        MISSING,
    ),
    (
        "POST",
        "/model-versions/create",
        {"name": "{name}", "source": "models:/no-such-model/1"},
        404,
        MISSING,
    ),
    (
        "POST",
        "/model-versions/create",
        {"name": "{name}", "source": "mlflow-artifacts:/registry/{name}/1"},
        400,
        BAD,
    ),
]


@pytest.mark.parametrize(("method", "path", "payload", "status", "code"), CASES)
def test_bad_registry_requests_get_mlflow_errors(
    server: LiveServer,
    target: dict[str, str],
    method: str,
    path: str,
    payload: dict[str, Any],
    status: int,
    code: str | None,
) -> None:
    url = API + path
    body = _fill(payload, target)
    if method == "GET":
        response = api(server, method, url, params=body)
    else:
        response = api(server, method, url, json=body)
    if code is None:  # loopml's own refusal (an alias holds the version), naming the alias
        assert 400 <= response.status_code < 500 and "champion" in response.json()["message"]
    else:
        assert_error(response, status, code)


def test_rejected_registry_writes_leave_nothing(
    server: LiveServer, target: dict[str, str], lm_client: lm.Client
) -> None:
    registry = Registry(lm_client)
    name = target["name"]
    create = f"{API}/model-versions/create"
    for source in ("s3://bucket/model", f"runs:/{target['run']}/../other", f"runs:/{NO_RUN}/m"):
        assert api(server, "POST", create, json={"name": name, "source": source}).is_error
    assert [v.version for v in registry.search_model_versions(f"name = '{name}'")] == [1]

    fresh = unique("never")
    assert_error(
        api(server, "POST", create, json={"name": fresh, "source": f"runs:/{target['run']}/model"}),
        404,
        MISSING,
    )
    with pytest.raises(NotFound):
        registry.get_registered_model(fresh)
    # A model whose version holds an alias is not deleted (loopml's rule), and says why.
    refused = api(server, "DELETE", f"{API}/registered-models/delete", json={"name": name})
    assert 400 <= refused.status_code < 500 and "champion" in refused.json()["message"]
    assert registry.get_model_version_by_alias(name, "champion").version == 1


def test_snapshot_paths_are_read_only_and_confined(
    server: LiveServer, target: dict[str, str]
) -> None:
    name = target["name"]
    listing = api(server, "GET", ARTIFACTS, params={"path": f"registry/{name}/1"})
    assert listing.status_code == 200, listing.text
    assert listing.json()["files"] == [{"path": "MLmodel", "is_dir": False, "file_size": 12}]
    assert api(server, "GET", f"{ARTIFACTS}/registry/{name}/1/MLmodel").text == "flavors: {}\n"

    # Nothing outside the version's own files, however the path is spelled.
    for raw in (
        f"{ARTIFACTS}/registry/{name}/1/../../{target['exp']}/{target['run']}/artifacts/other",
        f"{ARTIFACTS}/registry/{name}/1/%2e%2e/other/secret.txt",
        f"{ARTIFACTS}/registry/{name}/1/..%252fother/secret.txt",
    ):
        answer = raw_request(server, "GET", raw)
        assert answer.status_code in (400, 404) and SECRET not in answer.text, raw
    assert_error(
        api(server, "GET", f"{ARTIFACTS}/registry/{name}/1/other/secret.txt"), 404, MISSING
    )
    assert_error(api(server, "GET", f"{ARTIFACTS}/registry/{name}/9/MLmodel"), 404, MISSING)
    assert_error(api(server, "GET", f"{ARTIFACTS}/registry/{name}/x/MLmodel"), 404, MISSING)
    assert_error(
        api(server, "GET", ARTIFACTS, params={"path": f"registry/{name}/1/../../x"}), 400, BAD
    )

    # Versions are immutable: no upload into a snapshot.
    put = api(server, "PUT", f"{ARTIFACTS}/registry/{name}/1/MLmodel", content=b"changed")
    assert_error(put, 400, BAD)
    assert api(server, "GET", f"{ARTIFACTS}/registry/{name}/1/MLmodel").text == "flavors: {}\n"
