"""The registry service suite again, through a live server: the SDK behaves the same remote.

Left out: garbage collection (server-side only).
"""

from __future__ import annotations

from pathlib import Path

import httpx
from registry_support import model_run, unique
from test_model_registry import (
    test_a_bad_manifest_is_a_clear_error,
    test_bad_input_is_refused_and_changes_nothing,
    test_custom_gates_get_the_context,
    test_deleting_what_an_alias_holds_is_refused,
    test_failed_gates_leave_the_alias_where_it_was,
    test_promotion_moves_the_alias_and_records_who_and_why,
    test_resolve_model_uris,
    test_rollback_walks_back_through_the_history,
    test_stages_and_latest_versions,
    test_users_are_recorded,
    test_validation_gate_reads_the_report,
    test_version_is_immutable_when_the_run_changes,
    test_version_reads_signature_and_snapshots_files,
)

from loopml.registry import MetricGate, Registry
from loopml.tracking import Client
from server.live_server import LiveServer

__all__ = [
    "test_a_bad_manifest_is_a_clear_error",
    "test_bad_input_is_refused_and_changes_nothing",
    "test_custom_gates_get_the_context",
    "test_deleting_what_an_alias_holds_is_refused",
    "test_failed_gates_leave_the_alias_where_it_was",
    "test_promotion_moves_the_alias_and_records_who_and_why",
    "test_resolve_model_uris",
    "test_rollback_walks_back_through_the_history",
    "test_stages_and_latest_versions",
    "test_users_are_recorded",
    "test_validation_gate_reads_the_report",
    "test_version_is_immutable_when_the_run_changes",
    "test_version_reads_signature_and_snapshots_files",
]


def test_remote_and_embedded_registries_see_the_same_versions(
    client: Client, registry: Registry, registry_server: LiveServer, tmp_path: Path
) -> None:
    name = unique("shared")
    run_id = model_run(client, tmp_path, {"auc": 0.9}, weights=b"remote bytes")
    created = registry.create_model_version(name, f"runs:/{run_id}/model")
    registry.set_alias(name, "champion", created.version, reason="remote")
    local = Client(registry_server.tracking_uri, object_store_uri=registry_server.object_store_uri)
    try:
        embedded = Registry(local)
        assert embedded.get_model_version_by_alias(name, "champion") == registry.get_model_version(
            name, 1
        )
        assert embedded.model_version_files(name, 1) == registry.model_version_files(name, 1)
        assert embedded.alias_history(name)[0].reason == "remote"
        weights = next(f for f in embedded.model_version_files(name, 1) if f.path == "weights.bin")
    finally:
        local.close()
    url = f"{registry_server.url}/api/v1/registry/models/{name}/versions/1/files/weights.bin"
    answer = httpx.get(url, timeout=30)
    assert answer.content == b"remote bytes"
    assert answer.headers["etag"] == f'"{weights.blob_id}"'


def test_gate_verdicts_travel_to_the_api_and_the_ui(
    client: Client, registry: Registry, registry_server: LiveServer, tmp_path: Path
) -> None:
    name = unique("gated")
    registry.create_model_version(name, f"runs:/{model_run(client, tmp_path, {'auc': 0.9})}/model")
    result = registry.promote(name, 1, gates=[MetricGate("auc")], reason="<b>first</b>")
    assert result.promoted
    api = f"{registry_server.url}/api/v1/registry/models/{name}"
    [event] = httpx.get(f"{api}/alias-history", timeout=30).json()["events"]
    assert event["gates"] == [
        {"gate": "metric:auc", "passed": True, "message": result.gate_results[0].message}
    ]
    page = httpx.get(f"{registry_server.url}/models/{name}", timeout=30).text
    assert "metric:auc" in page and result.gate_results[0].message in page
    assert "&lt;b&gt;first&lt;/b&gt;" in page and "<b>first" not in page
    # Verdicts are recorded only with a promotion that passed them; nothing else moves.
    verdict = {"gate": "signature", "passed": True, "message": "fine"}
    refusals = [
        ({"version": 1, "action": "set", "gates": [verdict]}, "recorded with a promotion"),
        (
            {"version": 1, "action": "promote", "gates": [{**verdict, "passed": False}]},
            "every gate passed",
        ),
        ({"version": 1, "action": "promote", "gates": [{"gate": 1, "passed": True}]}, "gate"),
    ]
    for body, words in refusals:
        answer = httpx.put(f"{api}/aliases/challenger", json=body, timeout=30)
        assert answer.status_code == 400 and words in answer.text, answer.text
    assert [e.alias for e in registry.alias_history(name)] == ["champion"]
