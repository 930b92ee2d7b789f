"""The model registry through the real mlflow client: registered models, versions, aliases."""

from __future__ import annotations

from pathlib import Path

import mlflow
import mlflow.pyfunc
import mlflow.sklearn
import numpy as np
import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow_support import unique
from sklearn.linear_model import LogisticRegression

import loopml as lm
from loopml.registry import Registry

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")


def _data() -> tuple[np.ndarray, np.ndarray]:
    features = np.random.default_rng(1).random((40, 3))
    return features, (features[:, 0] + features[:, 1] > 1.0).astype(int)


def _model_folder(tmp_path: Path, note: str) -> Path:
    """A small folder registered as a model: a manifest and a data file."""
    folder = tmp_path / note
    folder.mkdir()
    (folder / "MLmodel").write_text(f"flavors: {{}}\nnote: {note}\n")
    (folder / "data").mkdir()
    (folder / "data" / "weights.txt").write_text(note)
    return folder


@pytest.fixture
def lm_registry(lm_client: lm.Client) -> Registry:
    """loopml's registry service on the server's own database and object store."""
    return Registry(lm_client)


def test_log_model_alias_and_load_by_alias(
    tmp_path: Path, ml: MlflowClient, lm_client: lm.Client, lm_registry: Registry
) -> None:
    name = unique("clf")
    mlflow.set_experiment(unique("registry"))
    features, labels = _data()
    model = LogisticRegression().fit(features, labels)
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            registered_model_name=name,
            input_example=features[:3],
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE,
            pip_requirements=["scikit-learn"],
        )
    assert info.registered_model_version == "1"

    ml.set_registered_model_alias(name, "champion", "1")
    version = ml.get_model_version_by_alias(name, "champion")
    assert (version.name, version.version, version.status) == (name, "1", "READY")
    assert version.run_id == run.info.run_id  # the training run, not the logged model's holder
    assert version.source == f"models:/{info.model_id}"
    assert (version.current_stage, version.aliases) == ("None", ["champion"])
    (found,) = ml.search_model_versions(f"name='{name}'")
    assert (found.version, found.source) == ("1", f"models:/{info.model_id}")
    registered = ml.get_registered_model(name)
    assert registered.aliases == {"champion": "1"}
    assert [v.version for v in registered.latest_versions] == ["1"]

    loaded = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    assert list(loaded.predict(features)) == list(model.predict(features))
    # MLflow 3 links the logged model to its version.
    assert name in ml.get_logged_model(info.model_id).tags["mlflow.modelVersions"]

    # In loopml: the same version, its files snapshotted from the logged model.
    in_loopml = lm_registry.get_model_version_by_alias(name, "champion")
    assert (in_loopml.version, in_loopml.model_id) == (1, info.model_id)
    assert {"MLmodel", "model.pkl"} <= {f.path for f in lm_registry.model_version_files(name, 1)}

    # The version is a snapshot: overwriting the logged model's files does not change it.
    holder = info.model_id.removeprefix("m-")
    original = Path(mlflow.artifacts.download_artifacts(f"models:/{name}/1")).joinpath("model.pkl")
    original_bytes = original.read_bytes()
    lm_client.log_text(holder, "not a model any more", "model.pkl")
    again = mlflow.artifacts.download_artifacts(f"models:/{name}@champion", dst_path=str(tmp_path))
    assert Path(again, "model.pkl").read_bytes() == original_bytes
    assert list(mlflow.pyfunc.load_model(f"models:/{name}/1").predict(features[:5])) == list(
        model.predict(features[:5])
    )

    # Registering the run's model again (MLflow 3 finds its logged model), and a model
    # logged outside any run (no run to show).
    again = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)
    assert (again.version, again.source) == ("2", f"models:/{info.model_id}")
    assert again.run_id == run.info.run_id
    runless = mlflow.sklearn.log_model(
        model,
        name="runless",
        registered_model_name=name,
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE,
        pip_requirements=["scikit-learn"],
    )
    assert runless.registered_model_version == "3"
    assert ml.get_model_version(name, "3").run_id in (None, "")


def test_registered_model_crud_search_and_paging(ml: MlflowClient) -> None:
    prefix = unique("crud")
    first = ml.create_registered_model(
        f"{prefix}-a", tags={"team": "red", "drop": "me"}, description="first"
    )
    assert (first.name, first.description, first.tags) == (
        f"{prefix}-a",
        "first",
        {"team": "red", "drop": "me"},
    )
    ml.create_registered_model(f"{prefix}-b", tags={"team": "blue"})
    ml.create_registered_model(f"{prefix}-c")

    ml.update_registered_model(f"{prefix}-a", description="updated")
    ml.set_registered_model_tag(f"{prefix}-a", "stage", "prod")
    ml.delete_registered_model_tag(f"{prefix}-a", "drop")
    got = ml.get_registered_model(f"{prefix}-a")
    assert got.description == "updated" and got.tags == {"team": "red", "stage": "prod"}

    ml.rename_registered_model(f"{prefix}-c", f"{prefix}-z")
    assert ml.get_registered_model(f"{prefix}-z").name == f"{prefix}-z"
    with pytest.raises(MlflowException, match="RESOURCE_DOES_NOT_EXIST"):
        ml.get_registered_model(f"{prefix}-c")

    def names(**kwargs: object) -> list[str]:
        found = ml.search_registered_models(**kwargs)  # type: ignore[arg-type]
        return [m.name for m in found]

    like = f"name LIKE '{prefix}-%'"
    assert names(filter_string=like, order_by=["name DESC"]) == [
        f"{prefix}-z",
        f"{prefix}-b",
        f"{prefix}-a",
    ]
    assert names(filter_string=f"{like} AND tags.team = 'blue'") == [f"{prefix}-b"]
    assert names(filter_string=f"name = '{prefix}-a'") == [f"{prefix}-a"]
    first_page = ml.search_registered_models(like, max_results=2, order_by=["name ASC"])
    assert [m.name for m in first_page] == [f"{prefix}-a", f"{prefix}-b"] and first_page.token
    rest = ml.search_registered_models(
        like, max_results=2, order_by=["name ASC"], page_token=first_page.token
    )
    assert [m.name for m in rest] == [f"{prefix}-z"] and not rest.token

    with pytest.raises(MlflowException, match="RESOURCE_ALREADY_EXISTS"):
        ml.create_registered_model(f"{prefix}-a")
    ml.delete_registered_model(f"{prefix}-b")
    assert names(filter_string=like, order_by=["name ASC"]) == [f"{prefix}-a", f"{prefix}-z"]


def test_versions_tags_stages_and_aliases(tmp_path: Path, ml: MlflowClient) -> None:
    name = unique("versions")
    mlflow.set_experiment(unique("versions"))
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(_model_folder(tmp_path, "one")), "model")
    run_id = run.info.run_id

    ml.create_registered_model(name)
    # MLflow 2 style: register_model resolves the run's folder to its artifact location.
    v1 = mlflow.register_model(f"runs:/{run_id}/model", name, tags={"k": "v"})
    assert v1.source.startswith("mlflow-artifacts:/") and v1.source.endswith(
        f"/{run_id}/artifacts/model"
    )
    v2 = ml.create_model_version(name, f"runs:/{run_id}/model", run_id, description="second")
    assert (v1.version, v2.version, v2.run_id, v2.description) == ("1", "2", run_id, "second")
    assert ml.get_model_version(name, "1").tags == {"k": "v"}

    ml.update_model_version(name, "1", description="first")
    ml.set_model_version_tag(name, "2", "quality", "good")
    ml.delete_model_version_tag(name, "1", "k")
    assert (ml.get_model_version(name, "1").description, ml.get_model_version(name, "1").tags) == (
        "first",
        {},
    )
    by_tag = ml.search_model_versions(f"name = '{name}' AND tags.quality = 'good'")
    assert [v.version for v in by_tag] == ["2"]
    assert sorted(v.version for v in ml.search_model_versions(f"run_id = '{run_id}'")) == [
        "1",
        "2",
    ]

    # Legacy stages, for older clients.
    staged = ml.transition_model_version_stage(name, "1", "staging")
    assert staged.current_stage == "Staging"
    ml.transition_model_version_stage(name, "2", "Staging", archive_existing_versions=True)
    assert ml.get_model_version(name, "1").current_stage == "Archived"
    latest = {v.current_stage: v.version for v in ml.get_latest_versions(name)}
    assert latest == {"Staging": "2", "Archived": "1"}
    assert [v.version for v in ml.get_latest_versions(name, stages=["Archived"])] == ["1"]
    assert ml.get_latest_versions(name, stages=["Production"]) == []
    loaded = Path(mlflow.artifacts.download_artifacts(f"models:/{name}/Staging"))
    assert (loaded / "data" / "weights.txt").read_text() == "one"

    # Aliases: set, move, delete; a version holding one is not deleted.
    ml.set_registered_model_alias(name, "challenger", "2")
    ml.set_registered_model_alias(name, "champion", "1")
    ml.set_registered_model_alias(name, "champion", "2")
    assert ml.get_registered_model(name).aliases == {"challenger": "2", "champion": "2"}
    assert sorted(ml.get_model_version(name, "2").aliases) == ["challenger", "champion"]
    ml.delete_registered_model_alias(name, "challenger")
    with pytest.raises(MlflowException, match="RESOURCE_DOES_NOT_EXIST"):
        ml.get_model_version_by_alias(name, "challenger")
    with pytest.raises(MlflowException, match="champion"):
        ml.delete_model_version(name, "2")
    ml.delete_model_version(name, "1")
    with pytest.raises(MlflowException, match="RESOURCE_DOES_NOT_EXIST"):
        ml.get_model_version(name, "1")
    assert [v.version for v in ml.search_model_versions(f"name = '{name}'")] == ["2"]


def test_versions_are_shared_with_loopml(
    tmp_path: Path, ml: MlflowClient, lm_client: lm.Client, lm_registry: Registry
) -> None:
    # A version made by loopml's SDK is an ordinary version to the mlflow client.
    features, labels = _data()
    model = LogisticRegression().fit(features, labels)
    saved = tmp_path / "saved"
    mlflow.sklearn.save_model(
        model,
        str(saved),
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE,
        pip_requirements=["scikit-learn"],
    )
    exp = lm_client.create_experiment(unique("shared"))
    run_id = lm_client.create_run(exp).info.run_id
    lm_client.log_artifacts(run_id, str(saved), "model")
    name = unique("from loopml %2F")  # a name that must be encoded in URIs
    made = lm_registry.create_model_version(name, f"runs:/{run_id}/model", description="lm")
    lm_registry.set_alias(name, "prod", made.version)

    version = ml.get_model_version_by_alias(name, "prod")
    assert (version.version, version.run_id, version.description) == ("1", run_id, "lm")
    assert version.source == f"runs:/{run_id}/model"
    loaded = mlflow.pyfunc.load_model(f"models:/{name}@prod")
    assert list(loaded.predict(features[:5])) == list(model.predict(features[:5]))

    # A version made by the mlflow client is an ordinary version to loopml.
    other = unique("from-mlflow")
    ml.create_registered_model(other, description="made by mlflow")
    ml.create_model_version(other, f"runs:/{run_id}/model", run_id, tags={"by": "mlflow"})
    ml.set_registered_model_alias(other, "champion", "1")
    in_loopml = lm_registry.get_model_version_by_alias(other, "champion")
    assert (in_loopml.version, in_loopml.run_id, in_loopml.tags) == (1, run_id, {"by": "mlflow"})
    assert lm_registry.get_registered_model(other).description == "made by mlflow"
    assert {f.path for f in lm_registry.model_version_files(other, 1)} == {
        e.path.removeprefix("model/") for e in lm_client.list_artifact_entries(run_id, "model")
    }
    # Registering another version copies it, lineage included.
    copy = ml.copy_model_version(f"models:/{other}@champion", unique("copy"))
    assert (copy.source, copy.run_id) == (f"models:/{other}/1", run_id)
