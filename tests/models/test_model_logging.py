"""log_model stores a model folder as run artifacts; load_model reads it back via runs:/."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import loopml as lm
from loopml.core.errors import AlreadyExists, InvalidArgument, NotFound
from loopml.models import load_model, log_model
from loopml.tracking import Client, get_client

Table = tuple[pd.DataFrame, pd.Series]


def test_log_and_load_through_a_run(sdk_any_store: str, table: Table) -> None:
    x, y = table
    model = LogisticRegression().fit(x, y)
    with lm.start_run() as run:
        info = log_model(model, "model", input_example=x.head())
    assert info.run_id == run.info.run_id and info.artifact_path == "model"
    assert info.model_uri == f"runs:/{run.info.run_id}/model"
    assert info.manifest.run_id == run.info.run_id and info.manifest.artifact_path == "model"
    files = {f.path for f in lm.list_artifacts(run.info.run_id, "model")}
    assert {"model/MLmodel", "model/model.skops", "model/input_example.json"} <= files

    loaded = load_model(info.model_uri)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.manifest.model_uuid == info.manifest.model_uuid
    assert load_model(f"runs:/{run.info.run_id}/model/").manifest == loaded.manifest


def test_outside_a_run_one_is_started_and_ended(sdk: str, table: Table) -> None:
    x, y = table
    info = log_model(LogisticRegression().fit(x, y), "clf")
    assert lm.active_run() is None
    run = lm.get_run(info.run_id)
    assert run.info.status == "FINISHED"


def test_explicit_client_and_run(tmp_path: Path, table: Table) -> None:
    x, y = table
    client = Client(f"sqlite:///{tmp_path / 'other.db'}", object_store_uri=str(tmp_path / "obj"))
    try:
        run_id = client.create_run("0").info.run_id
        info = log_model(
            LogisticRegression().fit(x, y), "nested/model", client=client, run_id=run_id
        )
        assert info.model_uri == f"runs:/{run_id}/nested/model"
        assert client.get_run(run_id).info.status == "RUNNING"  # not ours to end
        loaded = load_model(info.model_uri, client=client)
        assert loaded.flavor == "sklearn"
        created = log_model(LogisticRegression().fit(x, y), "model", client=client)
        assert client.get_run(created.run_id).info.status == "FINISHED"
    finally:
        client.close()


def test_refusals_write_nothing(sdk: str, table: Table) -> None:
    x, y = table
    model = LogisticRegression().fit(x, y)
    with lm.start_run() as run:
        log_model(model, "model")
        before = get_client().list_artifact_entries(run.info.run_id, "")
        with pytest.raises(AlreadyExists, match="already has artifacts under 'model'"):
            log_model(model, "model")
        for name in ("", "../up", "a//b"):
            with pytest.raises(InvalidArgument, match=r"model's name|Invalid model name"):
                log_model(model, name)
        with pytest.raises(InvalidArgument, match="Cannot tell how to save"):
            log_model(object(), "other")
        assert get_client().list_artifact_entries(run.info.run_id, "") == before
    with pytest.raises(NotFound):
        log_model(model, "model", run_id="0" * 32)


def test_bad_runs_uris(sdk: str) -> None:
    with pytest.raises(InvalidArgument, match="32-character run id"):
        load_model("runs:/not-a-run/model")
    with pytest.raises(NotFound):
        load_model(f"runs:/{'a' * 32}/model")
    with lm.start_run() as run:
        lm.log_text("hello", "notes/readme.txt")
    with pytest.raises(InvalidArgument, match="no MLmodel file"):
        load_model(f"runs:/{run.info.run_id}/notes")
