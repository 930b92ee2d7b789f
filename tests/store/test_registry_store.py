"""The registry store suite: every test runs on SQLite and on PostgreSQL.

Versions snapshot a run's artifact index; blob ids here are made up (the
store never reads bytes), so the tests stay in the metadata database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from loopml.core.errors import AlreadyExists, InvalidArgument, InvalidState, NotFound
from loopml.store import (
    AliasAction,
    ArtifactEntry,
    LifecycleStage,
    ModelVersionFile,
    NewModelVersion,
    SqlRegistryStore,
    SqlTrackingStore,
    Stage,
)

REGISTRY_TABLES = (
    "alias_events, model_aliases, model_version_files, model_version_tags, model_versions, "
    "registered_model_tags, registered_models"
)


def blob(char: str) -> str:
    return char * 64


def _empty(store: SqlTrackingStore) -> None:
    if store.db.dialect == "postgresql":
        with store.db.write() as conn:
            conn.execute(text(f"TRUNCATE {REGISTRY_TABLES} RESTART IDENTITY"))


@pytest.fixture
def registry(store: SqlTrackingStore) -> Iterator[SqlRegistryStore]:
    """The registry on the tracking store's database, emptied before and after.

    The session's PostgreSQL database is shared by the tests of a worker, and the
    shared reset (tests/conftest.py) does not know the registry tables: the
    snapshot rows left behind would count as referenced blobs in other tests.
    """
    _empty(store)
    yield SqlRegistryStore(store.db)
    _empty(store)


def model_run(
    store: SqlTrackingStore, files: dict[str, str] | None = None, folder: str = "model"
) -> str:
    """A run whose artifact index holds ``folder/<path>`` -> blob for each file."""
    run_id = store.create_run("0", run_name="train", start_time=1).info.run_id
    files = files if files is not None else {"MLmodel": blob("a"), "weights.bin": blob("b")}
    prefix = f"{folder}/" if folder else ""
    store.record_artifacts(
        run_id, [ArtifactEntry(prefix + path, blob_id, 10) for path, blob_id in files.items()]
    )
    return run_id


def new_version(run_id: str, folder: str = "model", manifest: str | None = None, **fields):
    return NewModelVersion(
        source=f"runs:/{run_id}/{folder}",
        files_run_id=run_id,
        files_path=folder,
        run_id=run_id,
        manifest_blob=blob("a") if manifest is None else manifest,
        user="alice",
        **fields,
    )


def test_registered_model_lifecycle(registry: SqlRegistryStore) -> None:
    created = registry.create_registered_model("fraud", "catches fraud", {"team": "risk"})
    assert (created.name, created.description, created.tags, created.aliases) == (
        "fraud",
        "catches fraud",
        {"team": "risk"},
        {},
    )
    assert registry.get_registered_model("fraud") == created
    with pytest.raises(AlreadyExists):
        registry.create_registered_model("fraud")
    updated = registry.update_registered_model("fraud", "better")
    assert updated.description == "better" and updated.last_updated_time >= created.creation_time
    registry.set_registered_model_tag("fraud", "team", "ops")
    registry.set_registered_model_tag("fraud", "tier", "1")
    registry.delete_registered_model_tag("fraud", "tier")
    assert registry.get_registered_model("fraud").tags == {"team": "ops"}
    with pytest.raises(NotFound, match="no tag 'tier'"):
        registry.delete_registered_model_tag("fraud", "tier")
    registry.delete_registered_model("fraud")
    with pytest.raises(NotFound, match="No registered model named 'fraud'"):
        registry.get_registered_model("fraud")


def test_version_snapshot_numbering_and_auto_created_model(
    store: SqlTrackingStore, registry: SqlRegistryStore
) -> None:
    run_id = model_run(store)
    first = registry.create_model_version(
        "fraud", new_version(run_id, signature={"inputs": "[]"}, tags={"k": "v"})
    )
    assert (first.version, first.run_id, first.status, first.stage) == (1, run_id, "READY", "None")
    assert (first.user, first.tags, first.signature) == ("alice", {"k": "v"}, {"inputs": "[]"})
    assert registry.get_registered_model("fraud").name == "fraud"
    assert registry.model_version_files("fraud", 1) == [
        ModelVersionFile("MLmodel", blob("a"), 10),
        ModelVersionFile("weights.bin", blob("b"), 10),
    ]
    assert registry.create_model_version("fraud", new_version(run_id)).version == 2
    registry.delete_model_version("fraud", 2)
    # Numbers are never reused, even after the newest version is deleted.
    assert registry.create_model_version("fraud", new_version(run_id)).version == 3
    with pytest.raises(NotFound, match="has no version 2"):
        registry.get_model_version("fraud", 2)
    with pytest.raises(NotFound, match="No registered model named 'nope'"):
        registry.get_model_version("nope", 1)


def test_snapshot_survives_overwrite_and_purge(
    store: SqlTrackingStore, registry: SqlRegistryStore
) -> None:
    run_id = model_run(store)
    registry.create_model_version("fraud", new_version(run_id))
    store.record_artifacts(run_id, [ArtifactEntry("model/weights.bin", blob("c"), 99)])
    assert registry.model_version_files("fraud", 1)[1] == ModelVersionFile(
        "weights.bin", blob("b"), 10
    )
    store.set_run_lifecycle(run_id, LifecycleStage.DELETED, 1)
    assert store.purge_deleted_runs(10) == [run_id]
    assert [f.blob_id for f in registry.model_version_files("fraud", 1)] == [blob("a"), blob("b")]
    assert registry.get_model_version("fraud", 1).run_id == run_id
    assert {blob("a"), blob("b")} <= set(store.referenced_blobs())


def test_bad_sources_write_nothing(store: SqlTrackingStore, registry: SqlRegistryStore) -> None:
    run_id = model_run(store)
    empty_run = store.create_run("0", run_name="empty", start_time=1).info.run_id
    cases = [
        (NotFound, "No run with id", new_version("f" * 32)),
        (NotFound, "no artifact folder 'nope'", new_version(run_id, "nope")),
        (InvalidArgument, "has no artifacts", new_version(empty_run, "", manifest="")),
        (InvalidArgument, "single file", new_version(run_id, "model/MLmodel")),
        (InvalidState, "changed while", new_version(run_id, manifest=blob("z"))),
    ]
    for error, message, new in cases:
        with pytest.raises(error, match=message):
            registry.create_model_version("fraud", new)
    store.set_run_lifecycle(run_id, LifecycleStage.DELETED, 1)
    with pytest.raises(InvalidState, match="deleted"):
        registry.create_model_version("fraud", new_version(run_id))
    with pytest.raises(NotFound):
        registry.get_registered_model("fraud")  # not even the model was created


def test_rename_carries_versions_aliases_and_history(
    store: SqlTrackingStore, registry: SqlRegistryStore
) -> None:
    run_id = model_run(store)
    registry.create_model_version("fraud", new_version(run_id, tags={"k": "v"}))
    registry.set_alias("fraud", "champion", 1, user="bob", reason="first")
    registry.create_registered_model("taken")
    with pytest.raises(AlreadyExists):
        registry.rename_registered_model("fraud", "taken")
    renamed = registry.rename_registered_model("fraud", "fraud-v2")
    assert renamed.aliases == {"champion": 1}
    version = registry.get_model_version("fraud-v2", 1)
    assert (version.tags, version.aliases) == ({"k": "v"}, ("champion",))
    assert len(registry.model_version_files("fraud-v2", 1)) == 2
    assert [e.name for e in registry.alias_history("fraud-v2")] == ["fraud-v2"]
    with pytest.raises(NotFound):
        registry.get_registered_model("fraud")


def test_aliases_compare_and_set_and_history(
    store: SqlTrackingStore, registry: SqlRegistryStore
) -> None:
    run_id = model_run(store)
    for _ in range(3):
        registry.create_model_version("fraud", new_version(run_id))
    registry.set_alias("fraud", "champion", 1, user="a", reason="r1")
    registry.set_alias("fraud", "champion", 2, user="b", action=AliasAction.PROMOTE, expected=1)
    with pytest.raises(InvalidState, match="moved meanwhile"):
        registry.set_alias("fraud", "champion", 3, user="c", expected=1)
    with pytest.raises(InvalidState):
        registry.set_alias("fraud", "challenger", 3, user="c", expected=2)
    registry.set_alias("fraud", "challenger", 3, user="c", expected=None)
    with pytest.raises(NotFound, match="no version 9"):
        registry.set_alias("fraud", "champion", 9, user="c")
    assert registry.get_model_version_by_alias("fraud", "champion").version == 2
    assert registry.get_registered_model("fraud").aliases == {"champion": 2, "challenger": 3}
    assert registry.get_model_version("fraud", 3).aliases == ("challenger",)
    registry.set_alias("fraud", "challenger", None, user="d", action=AliasAction.DELETE)
    with pytest.raises(NotFound, match="no alias 'challenger'"):
        registry.set_alias("fraud", "challenger", None, user="d", action=AliasAction.DELETE)
    with pytest.raises(NotFound, match="no alias"):
        registry.get_model_version_by_alias("fraud", "challenger")
    history = registry.alias_history("fraud", "champion")
    assert [(e.version, e.previous_version, e.user, e.action) for e in history] == [
        (1, None, "a", "set"),
        (2, 1, "b", "promote"),
    ]
    assert history[0].reason == "r1" and history[0].time <= history[1].time
    assert len(registry.alias_history("fraud")) == 4


def test_deletions_refused_while_an_alias_points_there(
    store: SqlTrackingStore, registry: SqlRegistryStore
) -> None:
    run_id = model_run(store)
    registry.create_model_version("fraud", new_version(run_id))
    registry.create_model_version("fraud", new_version(run_id))
    registry.set_alias("fraud", "champion", 1, user="a")
    with pytest.raises(InvalidState, match="holds the alias 'champion'"):
        registry.delete_model_version("fraud", 1)
    with pytest.raises(InvalidState, match=r"'champion' \(version 1\)"):
        registry.delete_registered_model("fraud")
    assert registry.get_model_version("fraud", 1).version == 1
    registry.delete_model_version("fraud", 2)
    registry.set_alias("fraud", "champion", None, user="a", action=AliasAction.DELETE)
    registry.delete_registered_model("fraud")
    assert list(registry.search_model_versions("name = 'fraud'")) == []


def test_search_versions_filters_order_and_pages(
    store: SqlTrackingStore, registry: SqlRegistryStore
) -> None:
    runs = [model_run(store) for _ in range(3)]
    for index, run_id in enumerate(runs):
        registry.create_model_version("alpha", new_version(run_id, tags={"i": str(index)}))
    registry.create_model_version("beta", new_version(runs[0]))

    def versions(filter_string: str, order=None) -> list[tuple[str, int]]:
        return [(v.name, v.version) for v in registry.search_model_versions(filter_string, order)]

    assert versions("name = 'alpha' AND version_number >= 2", ["version_number ASC"]) == [
        ("alpha", 2),
        ("alpha", 3),
    ]
    assert versions(f"run_id IN ('{runs[0]}', '{runs[2]}')", ["name DESC"]) == [
        ("beta", 1),
        ("alpha", 3),
        ("alpha", 1),
    ]
    assert versions("tags.i = '1'") == [("alpha", 2)]
    assert versions("source_path LIKE 'runs:/%/model' AND name ILIKE 'BE%'") == [("beta", 1)]
    default = list(registry.search_model_versions(""))  # last updated first, then name, version
    assert default == sorted(default, key=lambda v: (-v.last_updated_time, v.name, -v.version))
    assert len(default) == 4
    seen, token = [], None
    while True:
        page = registry.search_model_versions("name = 'alpha'", None, 2, token)
        seen += [v.version for v in page]
        token = page.token
        if not token:
            break
    assert sorted(seen) == [1, 2, 3]
    for bad in ("version_number = 'x'", "metrics.acc > 1", "name > 'a'"):
        with pytest.raises(InvalidArgument):
            registry.search_model_versions(bad)
    with pytest.raises(InvalidArgument, match="order_by"):
        registry.search_model_versions(None, ["run_id"])


def test_search_registered_models(registry: SqlRegistryStore) -> None:
    for name, team in (("fraud-a", "risk"), ("fraud-b", "ops"), ("churn", "risk")):
        registry.create_registered_model(name, tags={"team": team})

    def names(filter_string: str | None, order=None, max_results: int = 100) -> list[str]:
        found = registry.search_registered_models(filter_string, order, max_results)
        return [m.name for m in found]

    assert names(None) == ["churn", "fraud-a", "fraud-b"]
    assert names("name LIKE 'fraud%'", ["name DESC"]) == ["fraud-b", "fraud-a"]
    assert names("tags.team = 'risk'") == ["churn", "fraud-a"]
    assert names("tags.team != 'risk'") == ["fraud-b"]
    assert names("name IN ('churn', 'nope') AND tags.`team` LIKE 'r%'") == ["churn"]
    assert names(None, ["creation_timestamp DESC"], 1) == ["churn"]
    with pytest.raises(InvalidArgument, match="max_results"):
        registry.search_registered_models(None, None, 1001)
    with pytest.raises(InvalidArgument, match="OR is not supported"):
        registry.search_registered_models("name = 'a' OR name = 'b'")


def test_stages_and_latest_versions(store: SqlTrackingStore, registry: SqlRegistryStore) -> None:
    run_id = model_run(store)
    for _ in range(3):
        registry.create_model_version("fraud", new_version(run_id))
    registry.transition_stage("fraud", 1, Stage.PRODUCTION)
    registry.transition_stage("fraud", 2, Stage.STAGING)
    moved = registry.transition_stage("fraud", 3, Stage.PRODUCTION, archive_existing_versions=True)
    assert moved.stage == "Production"
    assert registry.get_model_version("fraud", 1).stage == "Archived"
    latest = registry.get_latest_versions("fraud")
    assert [(v.stage, v.version) for v in latest] == [
        ("Staging", 2),
        ("Production", 3),
        ("Archived", 1),
    ]
    assert [v.version for v in registry.get_latest_versions("fraud", [Stage.STAGING])] == [2]
    with pytest.raises(NotFound):
        registry.get_latest_versions("nope")


def test_concurrent_versions_get_distinct_numbers(
    store: SqlTrackingStore, registry: SqlRegistryStore
) -> None:
    run_id = model_run(store)
    numbers: list[int] = []
    errors: list[BaseException] = []

    def register() -> None:
        try:
            for _ in range(3):
                numbers.append(registry.create_model_version("fraud", new_version(run_id)).version)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=register) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(numbers) == list(range(1, 13))
