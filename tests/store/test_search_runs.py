"""Search with MLflow's filter language, ordering and pages, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from loopml.core.errors import InvalidArgument
from loopml.store import DatasetInput, LifecycleStage, Metric, Param, RunTag, SqlTrackingStore


@pytest.fixture
def populated(store: SqlTrackingStore) -> tuple[SqlTrackingStore, list[str]]:
    exp = store.create_experiment("search")
    ids = []
    for i in range(6):
        run = store.create_run(exp, run_name=f"run-{i}", start_time=1000 + i)
        rid = run.info.run_id
        store.log_batch(
            rid,
            metrics=[Metric("acc", i / 10, 1, 0)]
            + ([Metric("loss", 1 - i / 10, 1, 0)] if i % 2 else []),
            params=[Param("model", "rf" if i < 3 else "Logreg"), Param("depth", str(i))],
            tags=[RunTag("team", "a" if i % 2 else "b")],
        )
        if i == 5:
            store.update_run(rid, status="FINISHED", end_time=2000)
        ids.append(rid)
    store.log_inputs(ids[0], [DatasetInput(name="iris", digest="d1", context="train")])
    return store, ids


def _names(store: SqlTrackingStore, filter_string: str = "", order_by=None) -> list[str]:
    exp = store.get_experiment_by_name("search")
    assert exp is not None
    runs = store.search_runs([exp.experiment_id], filter_string, order_by)
    return [r.info.run_name for r in runs]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("", ["run-5", "run-4", "run-3", "run-2", "run-1", "run-0"]),
        ("metrics.acc > 0.25", ["run-5", "run-4", "run-3"]),
        ("metrics.acc >= 0.2 and metrics.acc < 0.4", ["run-3", "run-2"]),
        ("metrics.loss < 0.6", ["run-5"]),
        ("params.model = 'rf'", ["run-2", "run-1", "run-0"]),
        ("params.model != 'rf'", ["run-5", "run-4", "run-3"]),
        ("params.model LIKE 'Log%'", ["run-5", "run-4", "run-3"]),
        ("params.model LIKE 'log%'", []),
        ("params.model ILIKE 'log%'", ["run-5", "run-4", "run-3"]),
        ("tags.team = 'a' and metrics.acc > 0.2", ["run-5", "run-3"]),
        ("attributes.status = 'FINISHED'", ["run-5"]),
        ("attributes.run_name = 'run-2'", ["run-2"]),
        (
            "attributes.run_name LIKE 'run-%' and params.depth != '1' and tags.team = 'a'",
            ["run-5", "run-3"],
        ),
        ("params.depth IS NULL", []),
        ("tags.team IS NOT NULL", ["run-5", "run-4", "run-3", "run-2", "run-1", "run-0"]),
        ("attributes.start_time >= 1004", ["run-5", "run-4"]),
        ("datasets.name = 'iris'", ["run-0"]),
        ("metrics.missing > 0", []),
    ],
)
def test_filters(populated, filter_string: str, expected: list[str]) -> None:
    store, _ = populated
    assert _names(store, filter_string) == expected


def test_run_id_in_filter(populated) -> None:
    store, ids = populated
    found = _names(store, f"attributes.run_id IN ('{ids[1]}', '{ids[2]}')")
    assert sorted(found) == ["run-1", "run-2"]


def test_order_by(populated) -> None:
    store, _ = populated
    assert _names(store, "", ["metrics.acc ASC"])[:3] == ["run-0", "run-1", "run-2"]
    # Runs without the metric come last in both directions.
    assert _names(store, "", ["metrics.loss DESC"]) == [
        "run-1",
        "run-3",
        "run-5",
        "run-4",
        "run-2",
        "run-0",
    ]
    assert _names(store, "", ["params.depth DESC"])[0] == "run-5"
    assert _names(store, "", ["attributes.start_time ASC"])[0] == "run-0"


def test_pagination_covers_everything_once(populated) -> None:
    store, ids = populated
    exp = store.get_experiment_by_name("search")
    assert exp is not None
    seen, token = [], None
    while True:
        page = store.search_runs([exp.experiment_id], max_results=4, page_token=token)
        seen += [r.info.run_id for r in page]
        token = page.token
        if not token:
            break
    assert sorted(seen) == sorted(ids)


def test_deleted_runs_hidden_unless_asked(populated) -> None:
    store, ids = populated
    store.set_run_lifecycle(ids[0], LifecycleStage.DELETED, 5)
    assert "run-0" not in _names(store)
    exp = store.get_experiment_by_name("search")
    assert exp is not None
    deleted = store.search_runs([exp.experiment_id], view_type="DELETED_ONLY")
    assert [r.info.run_name for r in deleted] == ["run-0"]


@pytest.mark.parametrize(
    "bad",
    [
        "metrics.acc > 'high'",
        "params.x > 1",
        "nonsense.x = 1",
        "metrics.acc > 1 or metrics.acc < 0",
    ],
)
def test_bad_filters_are_clear_errors(populated, bad: str) -> None:
    store, _ = populated
    with pytest.raises(InvalidArgument):
        _names(store, bad)


def test_search_loads_full_run_data(populated) -> None:
    store, ids = populated
    exp = store.get_experiment_by_name("search")
    assert exp is not None
    run = next(r for r in store.search_runs([exp.experiment_id]) if r.info.run_id == ids[0])
    assert run.data.params == {"model": "rf", "depth": "0"}
    assert run.data.metrics == {"acc": 0.0}
    assert run.inputs.dataset_inputs[0].name == "iris"
