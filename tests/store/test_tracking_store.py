"""The shared tracking-store suite: every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import json
import math

import pytest

from loopml.core.errors import AlreadyExists, InvalidArgument, InvalidState, NotFound
from loopml.store import (
    ArtifactEntry,
    DatasetInput,
    LifecycleStage,
    Metric,
    Param,
    RunStatus,
    RunTag,
    SqlTrackingStore,
    ViewType,
)


def _run(store: SqlTrackingStore, experiment_id: str = "0", name: str = "r", start: int = 1000):
    return store.create_run(experiment_id, run_name=name, start_time=start)


def test_default_experiment_exists(store: SqlTrackingStore) -> None:
    default = store.get_experiment("0")
    assert default.name == "Default"
    assert store.get_experiment_by_name("Default") == default


def test_experiment_lifecycle(store: SqlTrackingStore) -> None:
    exp_id = store.create_experiment("exp", tags={"team": "a"})
    experiment = store.get_experiment(exp_id)
    assert experiment.tags == {"team": "a"}
    assert experiment.artifact_location.endswith(f"/{exp_id}")
    with pytest.raises(AlreadyExists):
        store.create_experiment("exp")
    store.rename_experiment(exp_id, "renamed")
    assert store.get_experiment_by_name("exp") is None
    store.delete_experiment(exp_id)
    assert [e.name for e in store.search_experiments()] == ["Default"]
    assert [e.name for e in store.search_experiments(ViewType.DELETED_ONLY)] == ["renamed"]
    with pytest.raises(AlreadyExists, match="deleted"):
        store.create_experiment("renamed")
    store.restore_experiment(exp_id)
    assert store.get_experiment(exp_id).lifecycle_stage == "active"


def test_unknown_and_malformed_experiment_ids(store: SqlTrackingStore) -> None:
    with pytest.raises(NotFound):
        store.get_experiment("999")
    with pytest.raises(InvalidArgument, match="integers"):
        store.get_experiment("abc")
    for out_of_range in ("-1", "99999999999999999999"):
        with pytest.raises(NotFound):
            store.get_experiment(out_of_range)
    with pytest.raises(InvalidArgument):
        store.delete_experiment("0")


def test_experiment_pagination(store: SqlTrackingStore) -> None:
    for i in range(5):
        store.create_experiment(f"e{i}")
    first = store.search_experiments(max_results=4)
    assert len(first) == 4 and first.token
    second = store.search_experiments(max_results=4, page_token=first.token)
    assert len(second) == 2 and second.token is None
    with pytest.raises(InvalidArgument, match="page token"):
        store.search_experiments(page_token="garbage!")
    huge = base64.urlsafe_b64encode(json.dumps({"offset": 10**20}).encode()).decode()
    with pytest.raises(InvalidArgument, match="page token"):
        store.search_experiments(page_token=huge)


def test_experiment_search_filters_and_orders_in_the_store(store: SqlTrackingStore) -> None:
    ids = [store.create_experiment(f"team-{i}", tags={"n": str(i)}) for i in range(4)]
    store.create_experiment("other", tags={"n": "9"})
    store.delete_experiment(ids[3])

    def names(filter_string: str, order_by: list[str] | None = None, **kw: object) -> list[str]:
        page = store.search_experiments(filter_string=filter_string, order_by=order_by, **kw)
        return [e.name for e in page]

    assert names("name LIKE 'team-%'") == ["team-0", "team-1", "team-2"]
    assert names("name LIKE 'team-%'", ["name DESC"]) == ["team-2", "team-1", "team-0"]
    assert names("tags.n != '0' AND name ILIKE 'TEAM%'") == ["team-1", "team-2"]
    assert names("tags.missing IS NULL AND name = 'other'") == ["other"]
    assert names(f"experiment_id IN ('{ids[0]}', '{ids[2]}', 'x')") == ["team-0", "team-2"]
    assert names(f"experiment_id = '{ids[1]}'") == ["team-1"]
    assert names("name LIKE 'team-%'", view_type=ViewType.ALL) == [f"team-{i}" for i in range(4)]
    created = store.get_experiment(ids[0]).creation_time
    assert "team-0" in names(f"creation_time >= {created}")
    assert names("name = 'team-0'", ["creation_time DESC", "last_update_time ASC"]) == ["team-0"]
    first = store.search_experiments(max_results=2, filter_string="name LIKE 'team-%'")
    rest = store.search_experiments(
        max_results=2, page_token=first.token, filter_string="name LIKE 'team-%'"
    )
    assert [e.name for e in [*first, *rest]] == ["team-0", "team-1", "team-2"]
    with pytest.raises(InvalidArgument, match="experiment filter key"):
        store.search_experiments(filter_string="metrics.x > 1")
    with pytest.raises(InvalidArgument, match="order_by"):
        store.search_experiments(order_by=["tags.n"])


def test_experiment_tags_are_deleted_one_at_a_time(store: SqlTrackingStore) -> None:
    exp_id = store.create_experiment("tagged", tags={"a": "1", "b": "2"})
    store.delete_experiment_tag(exp_id, "a")
    assert store.get_experiment(exp_id).tags == {"b": "2"}
    with pytest.raises(NotFound, match="no tag"):
        store.delete_experiment_tag(exp_id, "a")
    with pytest.raises(NotFound):
        store.delete_experiment_tag("4242", "b")
    assert store.get_experiment(exp_id).tags == {"b": "2"}


def test_run_create_get_and_terminate(store: SqlTrackingStore) -> None:
    run = store.create_run("0", run_name="first", start_time=5, tags=[RunTag("k", "v")])
    assert run.info.status == RunStatus.RUNNING
    assert len(run.info.run_id) == 32
    fetched = store.get_run(run.info.run_id)
    assert fetched.info.run_name == "first"
    assert fetched.data.tags == {"k": "v"}
    info = store.update_run(run.info.run_id, status="FINISHED", end_time=9)
    assert (info.status, info.end_time) == ("FINISHED", 9)
    with pytest.raises(NotFound):
        store.get_run("0" * 32)


def test_log_batch_and_latest_metric(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    store.log_batch(
        run_id,
        metrics=[
            Metric("loss", 3.0, 10, 0),
            Metric("loss", 1.0, 11, 2),
            Metric("loss", 2.0, 12, 1),
        ],
        params=[Param("lr", "0.1")],
        tags=[RunTag("t", "1"), RunTag("t", "2")],
    )
    store.log_batch(run_id, metrics=[Metric("loss", 9.0, 5, 1)])  # an older step: not latest
    run = store.get_run(run_id)
    assert run.data.metrics == {"loss": 1.0}
    assert run.data.params == {"lr": "0.1"}
    assert run.data.tags["t"] == "2"
    history = store.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 3.0), (1, 9.0), (1, 2.0), (2, 1.0)]


def test_nan_and_infinity_round_trip(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    store.log_batch(
        run_id,
        metrics=[
            Metric("a", math.inf, 1, 0),
            Metric("b", -math.inf, 1, 0),
            Metric("c", math.nan, 1, 0),
        ],
    )
    metrics = store.get_run(run_id).data.metrics
    assert metrics["a"] == math.inf and metrics["b"] == -math.inf and math.isnan(metrics["c"])
    assert math.isnan(store.get_metric_history(run_id, "c")[0].value)


def test_param_cannot_change_and_batch_is_all_or_nothing(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    store.log_batch(run_id, params=[Param("lr", "0.1")])
    store.log_batch(run_id, params=[Param("lr", "0.1")])  # same value: fine
    with pytest.raises(InvalidArgument, match="Changing param values is not allowed"):
        store.log_batch(
            run_id, metrics=[Metric("m", 1.0, 1, 0)], params=[Param("lr", "0.2"), Param("x", "1")]
        )
    run = store.get_run(run_id)
    assert run.data.params == {"lr": "0.1"}
    assert run.data.metrics == {}  # nothing of the rejected batch was written
    with pytest.raises(InvalidArgument, match="twice in one batch"):
        store.log_batch(run_id, params=[Param("y", "1"), Param("y", "2")])


def test_finished_and_deleted_runs_reject_writes(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    store.update_run(run_id, status="FINISHED", end_time=2)
    with pytest.raises(InvalidState, match="FINISHED"):
        store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)])
    with pytest.raises(InvalidState):
        store.log_batch(run_id, params=[Param("p", "1")])
    store.log_batch(run_id, tags=[RunTag("note", "reviewed")])  # annotation stays allowed
    store.set_run_lifecycle(run_id, LifecycleStage.DELETED, 3)
    with pytest.raises(InvalidState, match="deleted"):
        store.log_batch(run_id, tags=[RunTag("note", "x")])
    with pytest.raises(NotFound):
        store.log_batch("f" * 32, metrics=[Metric("m", 1.0, 1, 0)])


def test_resumed_run_accepts_writes(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    store.update_run(run_id, status="FINISHED", end_time=2)
    store.update_run(run_id, status="RUNNING")
    assert store.get_run(run_id).info.end_time is None
    store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)])


def test_delete_tag(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    store.set_tag(run_id, RunTag("a", "1"))
    store.delete_tag(run_id, "a")
    assert "a" not in store.get_run(run_id).data.tags
    with pytest.raises(NotFound):
        store.delete_tag(run_id, "a")


def test_rename_run_updates_tag(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    store.update_run(run_id, run_name="better")
    run = store.get_run(run_id)
    assert run.info.run_name == "better" and run.data.tags["mlflow.runName"] == "better"


def test_inputs_are_recorded_once(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    dataset = DatasetInput(name="iris", digest="abc", source="file:///iris.csv", context="training")
    store.log_inputs(run_id, [dataset])
    store.log_inputs(run_id, [dataset])
    assert store.get_run(run_id).inputs.dataset_inputs == (dataset,)


def test_parent_run_must_exist(store: SqlTrackingStore) -> None:
    with pytest.raises(NotFound):
        store.create_run("0", run_name="c", start_time=1, parent_run_id="a" * 32)
    parent = _run(store).info.run_id
    child = store.create_run("0", run_name="c", start_time=2, parent_run_id=parent)
    assert child.info.parent_run_id == parent


def test_deleted_experiment_rejects_new_runs(store: SqlTrackingStore) -> None:
    exp_id = store.create_experiment("gone")
    store.delete_experiment(exp_id)
    with pytest.raises(InvalidState, match="restore"):
        _run(store, exp_id)


def test_artifact_index_and_purge(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    blob = "a" * 64
    store.record_artifacts(
        run_id,
        [ArtifactEntry("model/weights.bin", blob, 10), ArtifactEntry("model_card.md", "b" * 64, 3)],
    )
    store.record_artifacts(run_id, [ArtifactEntry("model/weights.bin", "c" * 64, 11)])
    assert [e.path for e in store.list_artifact_entries(run_id, "model")] == ["model/weights.bin"]
    assert store.list_artifact_entries(run_id, "model")[0].blob_id == "c" * 64
    assert len(store.list_artifact_entries(run_id)) == 2
    assert set(store.referenced_blobs()) == {"b" * 64, "c" * 64}
    store.set_run_lifecycle(run_id, LifecycleStage.DELETED, 100)
    assert store.purge_deleted_runs(deleted_before=50) == []
    assert store.purge_deleted_runs(deleted_before=101) == [run_id]
    assert set(store.referenced_blobs()) == set()
    with pytest.raises(NotFound):
        store.get_run(run_id)


def test_batches_with_an_id_are_stored_once(store: SqlTrackingStore) -> None:
    run_id = _run(store).info.run_id
    batch = [Metric("loss", 1.0, 1, 0), Metric("loss", 0.5, 2, 1)]
    store.log_batch(run_id, metrics=batch, params=[Param("p", "1")], batch_id="b-1")
    store.log_batch(run_id, metrics=batch, params=[Param("p", "1")], batch_id="b-1")
    assert len(store.get_metric_history(run_id, "loss")) == 2
    store.update_run(run_id, status="FINISHED", end_time=3)
    store.log_batch(run_id, metrics=batch, batch_id="b-1")  # replay after the end: a no-op
    with pytest.raises(InvalidState):
        store.log_batch(run_id, metrics=batch, batch_id="b-2")
    assert len(store.get_metric_history(run_id, "loss")) == 2
