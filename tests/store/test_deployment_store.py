"""The SQL deployment store on SQLite and PostgreSQL: records, segment index, labels."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from loopml.core.errors import AlreadyExists, InvalidArgument, NotFound
from loopml.store import SqlDeploymentStore, SqlTrackingStore


@pytest.fixture
def deployments(store: SqlTrackingStore) -> Iterator[SqlDeploymentStore]:
    yield SqlDeploymentStore(store.db)


def _create(store: SqlDeploymentStore, name: str = "fraud", **kwargs: object) -> object:
    values: dict[str, object] = {
        "canary_uri": None,
        "canary_weight": 0.0,
        "shadow_uri": None,
        "description": "",
    }
    values.update(kwargs)
    return store.create_deployment(name, "models:/fraud@champion", **values)  # type: ignore[arg-type]


def test_create_get_list_update_delete(deployments: SqlDeploymentStore) -> None:
    created = deployments.create_deployment(
        "fraud",
        "models:/fraud@champion",
        canary_uri="models:/fraud@challenger",
        canary_weight=0.25,
        shadow_uri="models:/fraud/7",
        description="card fraud",
    )
    assert created.revision == 1 and created.created_time == created.updated_time
    assert deployments.get_deployment("fraud") == created
    _create(deployments, "alpha")
    assert [d.name for d in deployments.list_deployments()] == ["alpha", "fraud"]

    updated = deployments.update_deployment("fraud", {"canary_weight": 0.5})
    assert updated.revision == 2 and updated.canary_weight == 0.5
    assert updated.canary_uri == "models:/fraud@challenger"  # untouched fields stay
    assert updated.shadow_uri == "models:/fraud/7" and updated.description == "card fraud"
    cleared = deployments.update_deployment(
        "fraud", {"canary_uri": None, "canary_weight": 0.0, "shadow_uri": None}
    )
    assert (cleared.canary_uri, cleared.shadow_uri, cleared.revision) == (None, None, 3)
    assert cleared.updated_time >= updated.updated_time

    deployments.delete_deployment("fraud")
    with pytest.raises(NotFound, match="fraud"):
        deployments.get_deployment("fraud")
    with pytest.raises(NotFound):
        deployments.delete_deployment("fraud")
    with pytest.raises(NotFound):
        deployments.update_deployment("fraud", {"description": "x"})


def test_refusals_write_nothing(deployments: SqlDeploymentStore) -> None:
    _create(deployments, canary_uri="models:/fraud@challenger", canary_weight=0.1)
    with pytest.raises(AlreadyExists, match="fraud"):
        _create(deployments)
    with pytest.raises(InvalidArgument, match="canary"):
        deployments.update_deployment("fraud", {"canary_uri": None})  # weight stays 0.1
    with pytest.raises(InvalidArgument, match="canary"):
        _create(deployments, "other", canary_weight=0.3)
    with pytest.raises(InvalidArgument, match="bogus"):
        deployments.update_deployment("fraud", {"bogus": 1})
    kept = deployments.get_deployment("fraud")
    assert (kept.canary_uri, kept.canary_weight, kept.revision) == (
        "models:/fraud@challenger",
        0.1,
        1,
    )
    assert [d.name for d in deployments.list_deployments()] == ["fraud"]


def test_segment_index_selects_by_time_span(
    deployments: SqlDeploymentStore, store: SqlTrackingStore
) -> None:
    with pytest.raises(NotFound, match="ghost"):
        deployments.list_segments("ghost")
    first = deployments.add_segment("fraud", "a" * 64, 100, 199, 10)
    second = deployments.add_segment("fraud", "b" * 64, 200, 299, 20)
    deployments.add_segment("other", "c" * 64, 100, 299, 5)
    assert first.id != second.id and second.rows == 20
    assert deployments.list_segments("fraud") == [first, second]
    assert deployments.list_segments("fraud", since_ms=200) == [second]
    assert deployments.list_segments("fraud", since_ms=199) == [first, second]
    assert deployments.list_segments("fraud", until_ms=200) == [first]
    assert deployments.list_segments("fraud", 150, 250) == [first, second]
    assert deployments.list_segments("fraud", 300, 400) == []
    assert deployments.get_segment("fraud", second.id) == second
    assert deployments.get_segment("other", second.id) is None
    # gc keeps the blobs the index points at
    assert {"a" * 64, "b" * 64, "c" * 64} <= set(store.referenced_blobs())


def test_labels_overwrite_and_need_a_known_name(deployments: SqlDeploymentStore) -> None:
    with pytest.raises(NotFound, match="fraud"):
        deployments.set_labels("fraud", [("r1", "1")])
    _create(deployments)
    assert deployments.set_labels("fraud", [("r1", "1"), ("r2", '"cat"'), ("r1", "0")]) == 2
    assert deployments.set_labels("fraud", [("r2", '{"x": 1}')]) == 1
    labels = deployments.get_labels("fraud")
    assert dict(zip(labels.request_ids, labels.labels_json, strict=True)) == {
        "r1": "0",
        "r2": '{"x": 1}',
    }
    # A log without a deployment record (a server on a bare model URI) takes labels too.
    deployments.add_segment("bare", "d" * 64, 1, 2, 1)
    assert deployments.set_labels("bare", [("r9", "true")]) == 1
    assert deployments.get_labels("bare").request_ids == ["r9"]
