"""The registry service end to end on an embedded store: versions, gates, aliases, history.

The tests taking only ``client``, ``registry`` and ``tmp_path`` run again through a
live server (``remote/test_remote_model_registry.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from registry_support import COLUMNS, model_run, signature, unique, write_model

import loopml as lm
from loopml.core.errors import GateFailed, InvalidArgument, InvalidState, NotFound
from loopml.core.settings import Settings
from loopml.registry import (
    GateContext,
    GateResult,
    MetricGate,
    Registry,
    SignatureGate,
    ValidationGate,
    current_user,
    promote,
    rollback,
)
from loopml.tracking import Client, _fluent


def test_version_reads_signature_and_snapshots_files(
    client: Client, registry: Registry, tmp_path: Path
) -> None:
    name = unique()
    run_id = model_run(client, tmp_path)
    version = registry.create_model_version(
        name, f"runs:/{run_id}/model", description="first", tags={"stage": "dev"}
    )
    assert (version.name, version.version, version.run_id) == (name, 1, run_id)
    assert version.signature == signature(COLUMNS)
    assert (version.user, version.description, version.tags) == ("alice", "first", {"stage": "dev"})
    files = registry.model_version_files(name, 1)
    assert [f.path for f in files] == ["MLmodel", "sub/vocab.txt", "weights.bin"]
    target = registry.download_model_version(name, 1, tmp_path / "out")
    assert (target / "weights.bin").read_bytes() == b"weights-1"
    assert (target / "sub" / "vocab.txt").read_text() == "a\nb\n"
    # source is kept verbatim; the files come from files_source.
    second = registry.create_model_version(
        name, "models:/m-abc", files_source=f"runs:/{run_id}/model", model_id="m-abc"
    )
    assert (second.version, second.source, second.model_id) == (2, "models:/m-abc", "m-abc")
    assert registry.get_registered_model(name).aliases == {}


def test_version_is_immutable_when_the_run_changes(
    client: Client, registry: Registry, tmp_path: Path
) -> None:
    name = unique()
    run_id = model_run(client, tmp_path, weights=b"original")
    registry.create_model_version(name, f"runs:/{run_id}/model")
    changed = write_model(tmp_path / "changed", weights=b"overwritten", columns=None)
    client.log_artifacts(run_id, str(changed), "model")
    with client.open_artifact(run_id, "model/weights.bin")[1] as reader:
        assert reader.read() == b"overwritten"
    version = registry.get_model_version(name, 1)
    assert version.signature == signature(COLUMNS)
    out = registry.download_model_version(name, 1, tmp_path / "v1")
    assert (out / "weights.bin").read_bytes() == b"original"
    entry, reader = registry.open_model_version_file(name, 1, "weights.bin")
    with reader:
        assert reader.read() == b"original" and entry.size == len(b"original")
    # A new version of the changed run sees the new files (and no signature).
    assert registry.create_model_version(name, f"runs:/{run_id}/model").signature is None


def test_promotion_moves_the_alias_and_records_who_and_why(
    client: Client, registry: Registry, tmp_path: Path
) -> None:
    name = unique()
    first = model_run(client, tmp_path, {"accuracy": 0.80})
    second = model_run(
        client, tmp_path, {"accuracy": 0.85}, columns=(("x", "double"), ("y", "double"))
    )
    registry.create_model_version(name, f"runs:/{first}/model")
    registry.create_model_version(name, f"runs:/{second}/model")
    gates = [MetricGate("accuracy"), SignatureGate()]
    initial = registry.promote(name, 1, gates=gates, reason="first model")
    assert initial.promoted and initial.previous_version is None
    assert [r.passed for r in initial.gate_results] == [True, True]
    result = registry.promote(name, 2, "champion", gates, reason="better", user="bob")
    assert (result.promoted, result.previous_version) == (True, 1)
    assert "0.85" in result.gate_results[0].message
    assert registry.get_model_version_by_alias(name, "champion").version == 2
    history = registry.alias_history(name, "champion")
    assert [(e.version, e.previous_version, e.user, e.reason, e.action) for e in history] == [
        (1, None, "alice", "first model", "promote"),
        (2, 1, "bob", "better", "promote"),
    ]
    # Each gate's verdict is kept with the promotion it allowed.
    assert [e.gates for e in history] == [initial.gate_results, result.gate_results]
    assert [g.gate for g in history[1].gates] == ["metric:accuracy", "signature"]
    assert all(g.passed for g in history[1].gates) and "0.85" in history[1].gates[0].message
    # Promoting the holder again is a no-op: no gate runs, nothing is recorded.
    again = registry.promote(name, 2, gates=[lambda ctx: False])
    assert again.promoted and again.gate_results == ()
    assert len(registry.alias_history(name)) == 2


def test_failed_gates_leave_the_alias_where_it_was(
    client: Client, registry: Registry, tmp_path: Path
) -> None:
    name = unique()
    holder = model_run(client, tmp_path, {"accuracy": 0.9})
    worse = model_run(client, tmp_path, {"accuracy": 0.7}, columns=(("x", "double"),))
    registry.create_model_version(name, f"runs:/{holder}/model")
    registry.create_model_version(name, f"runs:/{worse}/model")
    registry.set_alias(name, "champion", 1, reason="baseline")

    def broken(context: GateContext) -> bool:
        raise RuntimeError("feature store down")

    gates = [MetricGate("accuracy"), SignatureGate(), ValidationGate(), broken, lambda c: True]
    result = registry.promote(name, 2, gates=gates)
    assert not result.promoted and result.previous_version == 1
    verdicts = {r.gate: (r.passed, r.message) for r in result.gate_results}
    assert verdicts["metric:accuracy"][0] is False and "0.7" in verdicts["metric:accuracy"][1]
    assert "'y' is no longer accepted" in verdicts["signature"][1]
    assert "validation/report.json" in verdicts["validation:validation/report.json"][1]
    assert verdicts["broken"] == (False, "the gate raised RuntimeError: feature store down")
    assert verdicts["<lambda>"] == (True, "passed")
    assert [f.gate for f in result.failures] == [
        "metric:accuracy",
        "signature",
        "validation:validation/report.json",
        "broken",
    ]
    assert registry.get_registered_model(name).aliases == {"champion": 1}
    # A refused promotion is not recorded: the history holds only the baseline set.
    assert [(e.action, e.gates) for e in registry.alias_history(name)] == [("set", ())]
    with pytest.raises(GateFailed, match="metric:accuracy") as raised:
        registry.promote(name, 2, gates=[MetricGate("accuracy")], raise_on_failure=True)
    assert raised.value.http_status == 409 and raised.value.result.promoted is False
    assert registry.get_registered_model(name).aliases == {"champion": 1}
    assert len(registry.alias_history(name)) == 1


def test_validation_gate_reads_the_report(
    client: Client, registry: Registry, tmp_path: Path
) -> None:
    name = unique()
    runs = [model_run(client, tmp_path) for _ in range(3)]
    for run_id, report in zip(runs, ({"success": True}, {"success": "yes"}, None), strict=True):
        text = "not json {" if report is None else json.dumps(report)
        client.log_text(run_id, text, "checks/report.json")
        registry.create_model_version(name, f"runs:/{run_id}/model")
    gate = ValidationGate("checks/report.json")
    verdicts = [registry.promote(name, v, "qa", [gate]).gate_results[0] for v in (1, 2, 3)]
    assert [v.passed for v in verdicts] == [True, False, False]
    assert 'success = "yes"' in verdicts[1].message and "not valid JSON" in verdicts[2].message


def test_rollback_walks_back_through_the_history(
    client: Client, registry: Registry, tmp_path: Path
) -> None:
    name = unique()
    run_id = model_run(client, tmp_path)
    for _ in range(4):
        registry.create_model_version(name, f"runs:/{run_id}/model")
    with pytest.raises(InvalidArgument, match="is not set"):
        registry.rollback(name, "champion")  # never set: nothing to go back to
    for version in (1, 2, 3):
        registry.set_alias(name, "champion", version)
    assert registry.rollback(name, "champion", reason="v3 is broken").version == 2
    assert registry.rollback(name, "champion").version == 1
    with pytest.raises(InvalidArgument, match="no earlier version"):
        registry.rollback(name, "champion")
    history = registry.alias_history(name, "champion")
    assert [(e.version, e.action) for e in history[-2:]] == [(2, "rollback"), (1, "rollback")]
    assert history[-2].reason == "v3 is broken"
    assert all(e.gates == () for e in history)  # sets and rollbacks run no gate
    # A version deleted since is skipped; a deleted alias comes back to its last holder.
    registry.set_alias(name, "challenger", 2)
    registry.set_alias(name, "challenger", 3)
    registry.set_alias(name, "challenger", 4)
    registry.delete_model_version(name, 3)
    assert registry.rollback(name, "challenger").version == 2
    registry.delete_alias(name, "challenger", reason="retired")
    assert registry.rollback(name, "challenger").version == 2


def test_deleting_what_an_alias_holds_is_refused(
    client: Client, registry: Registry, tmp_path: Path
) -> None:
    name = unique()
    run_id = model_run(client, tmp_path)
    registry.create_model_version(name, f"runs:/{run_id}/model")
    registry.set_alias(name, "champion", 1)
    with pytest.raises(InvalidState, match="'champion'"):
        registry.delete_model_version(name, 1)
    with pytest.raises(InvalidState, match="'champion'"):
        registry.delete_registered_model(name)
    assert registry.get_model_version(name, 1).aliases == ("champion",)
    registry.delete_alias(name, "champion")
    registry.delete_registered_model(name)
    with pytest.raises(NotFound):
        registry.get_registered_model(name)


def test_resolve_model_uris(client: Client, registry: Registry, tmp_path: Path) -> None:
    name = unique()
    run_id = model_run(client, tmp_path)
    for _ in range(3):
        registry.create_model_version(name, f"runs:/{run_id}/model")
    registry.set_alias(name, "champion", 2)
    registry.transition_stage(name, 1, "production")
    assert registry.resolve(f"models:/{name}/3").version == 3
    assert registry.resolve(f"models:/{name}@champion").version == 2
    assert registry.resolve(f"models:/{name}/latest").version == 3
    assert registry.resolve(f"models:/{name}/Production").version == 1
    for bad in (f"models:/{name}", f"runs:/{name}/1", f"models:/{name}/two", "models:/", 3):
        with pytest.raises(InvalidArgument, match="model URI"):
            registry.resolve(bad)  # type: ignore[arg-type]
    for unknown in (f"models:/{name}/9", f"models:/{name}@gone", "models:/nope/1"):
        with pytest.raises(NotFound):
            registry.resolve(unknown)


def test_bad_input_is_refused_and_changes_nothing(
    client: Client, registry: Registry, tmp_path: Path
) -> None:
    name = unique()
    run_id = model_run(client, tmp_path)
    source = f"runs:/{run_id}/model"
    for bad_name in ("", "  ", "a/b", "a:b", "..", "a\x00b", "x" * 257):
        with pytest.raises(InvalidArgument, match="registered model name"):
            registry.create_model_version(bad_name, source)
    for bad_source in ("http://169.254.169.254/latest", "runs:/not-a-run/model", "s3://b/k"):
        with pytest.raises(InvalidArgument, match="runs:/"):
            registry.create_model_version(name, bad_source)
    with pytest.raises(InvalidArgument, match="inside the run"):
        registry.create_model_version(name, f"runs:/{run_id}/../other")
    with pytest.raises(NotFound, match="no artifact folder"):
        registry.create_model_version(name, f"runs:/{run_id}/missing")
    with pytest.raises(InvalidArgument, match="tag key"):
        registry.create_model_version(name, source, tags={"../x": "v"})
    with pytest.raises(InvalidArgument, match="run_id"):
        registry.create_model_version(name, source, run_id="nope")
    assert list(registry.search_registered_models(f"name = '{name}'")) == []
    registry.create_model_version(name, source)
    for bad_alias in ("latest", "V3", "has space", "", "a" * 256):
        with pytest.raises(InvalidArgument, match="alias"):
            registry.set_alias(name, bad_alias, 1)
    for bad_version in ("one", 1.5, True, None):
        with pytest.raises(InvalidArgument, match="version"):
            registry.set_alias(name, "champion", bad_version)  # type: ignore[arg-type]
    for missing in (0, -1, 2, 2**40):
        with pytest.raises(NotFound):
            registry.set_alias(name, "champion", missing)
    with pytest.raises(InvalidArgument, match="stage"):
        registry.transition_stage(name, 1, "Prod")
    with pytest.raises(InvalidArgument, match="callable"):
        registry.promote(name, 1, gates=["metric:accuracy"])  # type: ignore[list-item]
    assert registry.get_registered_model(name).aliases == {}
    assert registry.alias_history(name) == []
    assert registry.get_model_version(name, "1").stage == "None"  # type: ignore[arg-type]


def test_users_are_recorded(client: Client, tmp_path: Path) -> None:
    name = unique()
    run_id = model_run(client, tmp_path)
    default = Registry(client)
    version = default.create_model_version(name, f"runs:/{run_id}/model")
    assert version.user == current_user() != ""
    default.set_alias(name, "champion", 1, user="carol")
    assert default.alias_history(name)[0].user == "carol"
    with pytest.raises(InvalidArgument, match="user"):
        default.set_alias(name, "champion", 1, user="x" * 300)


def test_stages_and_latest_versions(client: Client, registry: Registry, tmp_path: Path) -> None:
    name = unique()
    run_id = model_run(client, tmp_path)
    for _ in range(3):
        registry.create_model_version(name, f"runs:/{run_id}/model")
    registry.transition_stage(name, 1, "staging")
    registry.transition_stage(name, 2, "Staging", archive_existing_versions=True)
    assert registry.get_model_version(name, 1).stage == "Archived"
    latest = registry.get_latest_versions(name, ["staging", "None"])
    assert [(v.stage, v.version) for v in latest] == [("Staging", 2), ("None", 3)]  # as asked
    assert [v.version for v in registry.list_model_versions(name)] == [3, 2, 1]


def test_a_bad_manifest_is_a_clear_error(
    client: Client, registry: Registry, tmp_path: Path
) -> None:
    run_id = client.create_run("0").info.run_id
    client.log_text(run_id, "signature: [unclosed", "model/MLmodel")
    with pytest.raises(InvalidArgument, match="not valid YAML"):
        registry.create_model_version(unique(), f"runs:/{run_id}/model")
    client.log_text(run_id, "signature: just text", "other/MLmodel")
    with pytest.raises(InvalidArgument, match="not a mapping"):
        registry.create_model_version(unique(), f"runs:/{run_id}/other")


def test_custom_gates_get_the_context(client: Client, registry: Registry, tmp_path: Path) -> None:
    name = unique()
    run_id = model_run(client, tmp_path)
    registry.create_model_version(name, f"runs:/{run_id}/model")
    registry.create_model_version(name, f"runs:/{run_id}/model")
    registry.set_alias(name, "champion", 1)
    seen: list[tuple[int, int | None]] = []

    def record(context: GateContext) -> GateResult:
        current = None if context.current is None else context.current.version
        seen.append((context.candidate.version, current))
        return GateResult("record", context.registry is registry, "looked")

    assert registry.promote(name, 2, gates=[record]).promoted
    assert seen == [(2, 1)]
    assert (
        registry.promote(name, 1, gates=[lambda c: "yes"])
        .gate_results[0]
        .message.startswith("returned 'yes'")
    )


def test_gc_keeps_the_files_of_versions_whose_run_was_purged(
    client: Client, registry: Registry, tmp_path: Path
) -> None:
    name = unique()
    run_id = model_run(client, tmp_path, weights=b"kept by the registry")
    other = client.create_run("0").info.run_id
    client.log_text(other, "garbage", "junk.txt")
    registry.create_model_version(name, f"runs:/{run_id}/model")
    client.delete_run(run_id)
    client.delete_run(other)
    collector = Client(
        client.tracking_uri,
        settings=Settings(home=tmp_path / "gc-home", gc_grace_seconds=0),
        object_store_uri=client.object_store_uri,
    )
    summary = collector.gc()
    assert summary.purged_runs == 2 and summary.deleted_objects == 1
    with pytest.raises(NotFound):
        client.get_run(run_id)
    out = registry.download_model_version(name, 1, tmp_path / "after-gc")
    assert (out / "weights.bin").read_bytes() == b"kept by the registry"
    assert registry.get_model_version(name, 1).run_id == run_id


def test_module_level_promote_and_rollback(client: Client, tmp_path: Path) -> None:
    name = unique()
    run_id = model_run(client, tmp_path, {"accuracy": 0.5})
    registry = Registry(client)
    for _ in range(2):
        registry.create_model_version(name, f"runs:/{run_id}/model")
    lm.set_tracking_uri(client.tracking_uri)
    try:
        assert promote(name, 1, gates=[MetricGate("accuracy")]).promoted
        assert promote(name, 2, reason="same accuracy is enough").promoted
        assert rollback(name).version == 1
    finally:
        _fluent.get_client().close()
        lm.set_tracking_uri(f"sqlite:///{tmp_path / 'unused.db'}")
    assert [e.action for e in registry.alias_history(name)] == ["promote", "promote", "rollback"]
