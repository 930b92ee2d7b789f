"""Shared fixtures: real SQLite and PostgreSQL stores, isolated loopml homes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

import loopml as lm
from loopml.core.settings import Settings
from loopml.store import SqlTrackingStore
from loopml.tracking import Client, get_client
from postgres_support import fresh_postgres_database
from s3_server import S3Server, moto_server

_TABLES = ", ".join(
    (
        "experiment_tags",
        "experiments",
        "runs",
        "params",
        "tags",
        "metric_chunks",
        "latest_metrics",
        "run_inputs",
        "artifacts",
        "ingested_batches",
        "registered_models",
        "registered_model_tags",
        "model_versions",
        "model_version_tags",
        "model_version_files",
        "model_aliases",
        "alias_events",
        "deployments",
        "prediction_segments",
        "prediction_labels",
        "datasets",
        "dataset_versions",
        "pipeline_schedules",
        "step_cache",
        "monitors",
        "monitor_results",
        "alert_rules",
        "alert_events",
        "feature_definitions",
        "feature_materializations",
        "policies",
        "policy_runs",
        "policy_events",
        "policy_locks",
        "users",
        "api_tokens",
        "ui_sessions",
        "workspaces",
        "workspace_members",
        "workspace_objects",
        "audit_log",
        "audit_head",
    )
)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test ever touches the real ~/.loopml or inherits a user's settings."""
    for name in list(os.environ):
        if name.startswith("LOOPML_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LOOPML_HOME", str(tmp_path / "home"))
    # Runs record their git state and environment by default; the suite's thousands of
    # runs skip it (tests/provenance and tests/repro turn it back on and check it).
    monkeypatch.setenv("LOOPML_CAPTURE_PROVENANCE", "false")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A real S3 API (moto's server mode) on a free loopback port, with one bucket."""
    with moto_server() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (one per xdist worker)."""
    with fresh_postgres_database("loopml_test") as uri:
        yield uri


def _reset_postgres(uri: str) -> None:
    store = SqlTrackingStore(uri)  # migrates on first use
    with store.db.write() as conn:
        conn.execute(text(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE"))
        conn.execute(
            text(
                "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage,"
                " creation_time, last_update_time) VALUES (0, 'Default', 'loopml-artifacts:/0',"
                " 'active', 0, 0)"
            )
        )
    store.db.dispose()


@pytest.fixture
def postgres_uri(postgres_database: str) -> str:
    """The session's PostgreSQL database, emptied for this test."""
    _reset_postgres(postgres_database)
    return postgres_database


@pytest.fixture(params=["sqlite", "postgres"])
def store_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean metadata store URI, once for SQLite and once for PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'loopml.db'}"
    return str(request.getfixturevalue("postgres_uri"))


@pytest.fixture
def store(store_uri: str) -> Iterator[SqlTrackingStore]:
    sql_store = SqlTrackingStore(store_uri)
    yield sql_store
    sql_store.db.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", flush_interval_seconds=0.2)


@pytest.fixture
def client(store_uri: str, settings: Settings, tmp_path: Path) -> Iterator[Client]:
    tracking = Client(store_uri, settings=settings, object_store_uri=str(tmp_path / "objects"))
    yield tracking
    tracking.close()


def _point_sdk_at(uri: str, tmp_path: Path) -> Iterator[str]:
    lm.set_tracking_uri(uri)
    yield uri
    while lm.active_run() is not None:
        lm.end_run()
    get_client().close()
    lm.set_tracking_uri(f"sqlite:///{tmp_path / 'unused.db'}")


@pytest.fixture
def sdk(tmp_path: Path) -> Iterator[str]:
    """The fluent SDK on a fresh SQLite store; every run a test left open is ended."""
    yield from _point_sdk_at(f"sqlite:///{tmp_path / 'loopml.db'}", tmp_path)


@pytest.fixture
def sdk_any_store(store_uri: str, tmp_path: Path) -> Iterator[str]:
    """The fluent SDK on a clean store, once on SQLite and once on PostgreSQL."""
    yield from _point_sdk_at(store_uri, tmp_path)


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[None]:
    """A local Ray instance with 2 CPUs for the tests of one module (skipped without Ray).

    Modules using it mark themselves ``pytest.mark.xdist_group("ray")`` so one
    xdist worker runs them all, one Ray at a time.
    """
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()
