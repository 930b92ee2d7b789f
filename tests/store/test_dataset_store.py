"""The SQL dataset store on SQLite and PostgreSQL: numbering, content identity, reads, gc roots."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest

from loopml.core.errors import NotFound
from loopml.store import (
    ColumnProfile,
    NewDatasetVersion,
    SqlDatasetStore,
    SqlTrackingStore,
)


@pytest.fixture
def datasets(store: SqlTrackingStore) -> Iterator[SqlDatasetStore]:
    yield SqlDatasetStore(store.db)


def _new(fill: str, **kwargs: object) -> NewDatasetVersion:
    values: dict[str, object] = {
        "content_id": fill * 64,
        "kind": "file",
        "size": 10,
        "files": 1,
        "source": f"/data/{fill}.csv",
    }
    values.update(kwargs)
    return NewDatasetVersion(**values)  # type: ignore[arg-type]


def test_versions_count_per_name_and_same_content_is_the_same_version(
    datasets: SqlDatasetStore,
) -> None:
    first, created = datasets.create_dataset_version("iris", _new("a", description="raw"))
    assert created and first.version == 1 and first.description == "raw"
    again, created = datasets.create_dataset_version(
        "iris", _new("a", description="ignored", tags={"x": "y"})
    )
    assert not created and again == first  # the newest version, unchanged
    second, created = datasets.create_dataset_version("iris", _new("b"))
    assert created and second.version == 2
    other, created = datasets.create_dataset_version("wine", _new("a"))
    assert created and other.version == 1  # the same content under another name
    assert datasets.get_dataset_version("iris") == second
    assert datasets.get_dataset_version("iris", 1) == first
    assert [v.version for v in datasets.list_dataset_versions("iris")] == [2, 1]
    listed = datasets.list_datasets()
    assert [(d.name, d.latest.version) for d in listed] == [("iris", 2), ("wine", 1)]
    assert listed[0].creation_time <= listed[0].last_updated_time
    assert listed[0].latest == second
    # Going back to older content is a new version: the newest is what was registered last.
    back, created = datasets.create_dataset_version("iris", _new("a"))
    assert created and back.version == 3 and back.content_id == first.content_id


def test_records_round_trip_schema_profile_and_tags(datasets: SqlDatasetStore) -> None:
    profile = (
        ColumnProfile("x", "int64", 3, 1, 1, 9, 4.5, None),
        ColumnProfile("city", "string", 4, 0, None, None, None, 2),
        ColumnProfile("when", "timestamp[s]", 4, 0, "2024-01-01T00:00:00", "2024-02-01T00:00:00"),
    )
    version, _ = datasets.create_dataset_version(
        "trips",
        _new(
            "c",
            kind="dir",
            files=3,
            size=12_345_678_901,
            tags={"team": "geo", "ünïcode": "✓"},
            user="alice",
            schema={"x": "int64", "city": "string", "when": "timestamp[s]"},
            rows=4,
            profile=profile,
        ),
    )
    read = datasets.get_dataset_version("trips", 1)
    assert read == version
    assert read.profile == profile and read.rows == 4 and read.size == 12_345_678_901
    assert list(read.schema or {}) == ["x", "city", "when"]  # column order kept
    assert read.tags == {"team": "geo", "ünïcode": "✓"} and read.user == "alice"
    assert read.uri == "loopml-dataset:/trips/1" and read.digest == "c" * 64


def test_unknown_names_and_versions_are_not_found(datasets: SqlDatasetStore) -> None:
    with pytest.raises(NotFound, match=r"No dataset named 'ghost'.*datasets list"):
        datasets.get_dataset_version("ghost")
    with pytest.raises(NotFound, match="ghost"):
        datasets.list_dataset_versions("ghost")
    datasets.create_dataset_version("iris", _new("a"))
    with pytest.raises(NotFound, match=r"no version 7 \(its versions are 1 to 1\)"):
        datasets.get_dataset_version("iris", 7)
    assert datasets.list_datasets()[0].name == "iris"


def test_registered_content_is_a_gc_root(
    datasets: SqlDatasetStore, store: SqlTrackingStore
) -> None:
    datasets.create_dataset_version("iris", _new("d", kind="dir", files=2))
    datasets.create_dataset_version("iris", _new("e"))
    assert {"d" * 64, "e" * 64} <= set(store.referenced_blobs())


def test_concurrent_registrations_number_without_gaps_and_dedupe(
    datasets: SqlDatasetStore,
) -> None:
    fills = "0123456789abcdef"
    errors: list[BaseException] = []

    def register(fill: str) -> None:
        try:
            for _ in range(2):  # every content twice: the second adds only if another came between
                datasets.create_dataset_version("busy", _new(fill))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(fill,)) for fill in fills]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    versions = sorted(datasets.list_dataset_versions("busy"), key=lambda v: v.version)
    assert [v.version for v in versions] == list(range(1, len(versions) + 1))  # no gaps
    assert len(fills) <= len(versions) <= 2 * len(fills)
    assert {v.content_id[0] for v in versions} == set(fills)
    # Never the same content twice in a row: a repeat of the newest version is not a version.
    assert all(a.content_id != b.content_id for a, b in itertools.pairwise(versions))
