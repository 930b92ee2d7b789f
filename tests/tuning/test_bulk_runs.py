"""``Client.create_runs``: whole runs in one write (what tuning records trials with).

Runs on SQLite and PostgreSQL; the remote store gets the same behaviour from
the base class, run by run.
"""

from __future__ import annotations

import math

import pytest

from loopml.core.errors import InvalidArgument, InvalidState, NotFound
from loopml.store import Metric, NewRun, Param, RunTag, TrackingStore
from loopml.tracking import Client


def whole_run(name: str, parent: str | None = None, **overrides: object) -> NewRun:
    fields: dict[str, object] = {
        "run_name": name,
        "start_time": 1_000,
        "end_time": 2_000,
        "status": "FINISHED",
        "parent_run_id": parent,
        "metrics": (
            Metric("value", 0.5, 2_000, 0),
            Metric("loss", 3.0, 1_500, 0),
            Metric("loss", math.nan, 1_600, 1),
            Metric("loss", 1.0, 1_700, 2),
        ),
        "params": (Param("lr", "0.1"), Param("depth", "3")),
        "tags": (RunTag("phase", "tuning"), RunTag("mlflow.user", "alice")),
    }
    fields.update(overrides)
    return NewRun(**fields)  # type: ignore[arg-type]


def test_whole_runs_are_created_in_order_with_their_data(client: Client) -> None:
    parent = client.create_run("0", run_name="study").info.run_id
    ids = client.create_runs(
        "0", [whole_run("a", parent), whole_run("b", parent, status="failed", metrics=())]
    )

    assert len(ids) == 2 and len(set(ids)) == 2
    first, second = client.get_run(ids[0]), client.get_run(ids[1])
    assert (first.info.run_name, first.info.status) == ("a", "FINISHED")
    assert (first.info.start_time, first.info.end_time) == (1_000, 2_000)
    assert first.info.parent_run_id == parent
    assert first.info.artifact_uri.endswith(f"/{ids[0]}/artifacts")
    assert first.data.params == {"lr": "0.1", "depth": "3"}
    assert first.data.metrics == {"value": 0.5, "loss": 1.0}
    assert first.data.tags["mlflow.runName"] == "a"
    assert first.data.tags["mlflow.parentRunId"] == parent
    assert first.data.tags["mlflow.user"] == "alice"  # the caller's tag wins
    assert first.data.tags["phase"] == "tuning"
    history = client.get_metric_history(ids[0], "loss")
    assert [m.step for m in history] == [0, 1, 2] and math.isnan(history[1].value)
    assert second.info.status == "FAILED" and second.data.metrics == {}
    children = client.search_runs(["0"], f"tags.mlflow.parentRunId = '{parent}'")
    assert {r.info.run_name for r in children} == {"a", "b"}
    found = client.search_runs(["0"], "metrics.value = 0.5 and params.lr = '0.1'")
    assert [r.info.run_id for r in found] == [ids[0]]


def test_an_ended_run_is_closed_to_new_metrics(client: Client) -> None:
    (run_id,) = client.create_runs("0", [whole_run("a")])
    with pytest.raises(InvalidState, match="FINISHED"):
        client.log_metric(run_id, "late", 1.0)


def test_nothing_is_written_when_one_run_is_bad(client: Client) -> None:
    bad = whole_run("b", params=(Param("lr", "0.1"), Param("lr", "0.2")))
    with pytest.raises(InvalidArgument, match="appears twice"):
        client.create_runs("0", [whole_run("a"), bad])
    with pytest.raises(InvalidArgument, match="Invalid param name"):
        client.create_runs("0", [whole_run("a", params=(Param("bad[key]", "1"),))])
    with pytest.raises(InvalidArgument, match="Invalid run status"):
        client.create_runs("0", [whole_run("a", status="DONE")])
    assert list(client.search_runs(["0"])) == []


def test_missing_parent_and_deleted_experiment(client: Client) -> None:
    with pytest.raises(NotFound, match="No run with id"):
        client.create_runs("0", [whole_run("a", parent="f" * 32)])
    experiment = client.create_experiment("gone")
    client.delete_experiment(experiment)
    with pytest.raises(InvalidState, match="is deleted"):
        client.create_runs(experiment, [whole_run("a")])
    assert client.create_runs("0", []) == []


def test_the_base_class_writes_run_by_run(client: Client) -> None:
    """What a store without a bulk path (the remote one) does: the same runs."""
    ids = TrackingStore.create_runs(
        client.store, "0", [whole_run("a", tags=(RunTag("mlflow.runName", "a"),))]
    )
    run = client.get_run(ids[0])
    assert (run.info.status, run.info.end_time) == ("FINISHED", 2_000)
    assert run.data.metrics == {"value": 0.5, "loss": 1.0}
    assert run.data.params == {"lr": "0.1", "depth": "3"}
