"""``lineage``: the graph of a real chain, both directions, from each kind of root."""

from __future__ import annotations

from pathlib import Path

import pytest
from lineage_chain import COMMIT, ENV_DIGEST, Chain, build_chain

from loopml.core.errors import InvalidArgument, NotFound
from loopml.governance._lineage import lineage
from loopml.governance._lineage_graph import LineageGraph
from loopml.tracking import Client


@pytest.fixture
def chain(client: Client, tmp_path: Path) -> Chain:
    return build_chain(client, tmp_path / "chain")


def edges(graph: LineageGraph) -> set[tuple[str, str, str]]:
    return {(e.source, e.target, e.relation) for e in graph.edges}


def test_model_version_upstream_and_downstream(client: Client, chain: Chain) -> None:
    graph = lineage(f"models:/{chain.model}@champion", client)
    v2 = f"models:/{chain.model}/2"
    run = f"runs:/{chain.run_v2}"
    assert graph.root == v2  # the alias resolves to the version it names now
    kinds = {n.id: n.kind for n in graph.nodes}
    assert kinds[v2] == "model_version"
    assert kinds[run] == "run"
    assert kinds[f"runs:/{chain.pipeline_run}"] == "pipeline_run"
    assert kinds[chain.dataset_uri] == "dataset_version"
    assert kinds[f"deployments:/{chain.deployment}"] == "deployment"
    assert kinds[f"monitors:/{chain.monitor}"] == "monitor"
    assert kinds[f"alert-rules:/{chain.rule}"] == "alert_rule"
    dirty = f"git:{COMMIT}+dirty@{chain.run_v2}"
    assert {
        (run, v2, "produced"),
        (chain.dataset_uri, run, "input (training)"),
        (dirty, run, "code"),
        (f"environments:/{ENV_DIGEST}", run, "environment"),
        (f"runs:/{chain.pipeline_run}", run, "parent"),
        (v2, f"models:/{chain.model}@champion", "alias"),
        (v2, f"deployments:/{chain.deployment}", "serves"),
        (f"deployments:/{chain.deployment}", f"monitors:/{chain.monitor}", "monitored_by"),
        (f"monitors:/{chain.monitor}", f"alert-rules:/{chain.rule}", "alert_rule"),
    } <= edges(graph)
    # v1 is not in v2's lineage: only ancestors and descendants are.
    assert f"models:/{chain.model}/1" not in kinds
    commit = graph.node(dirty)
    assert commit.attributes["dirty"] is True and commit.attributes["commit"] == COMMIT
    alias = graph.node(f"models:/{chain.model}@champion").attributes
    assert alias["holder"] == 2
    moves = [(m["action"], m["user"], m["version"]) for m in alias["history"]]
    assert ("promote", "carol", 2) in moves
    rule = graph.node(f"alert-rules:/{chain.rule}").attributes
    assert rule["recent_alerts"] and "destinations" not in rule
    assert graph.node(v2).attributes["ui"] == f"/models/{chain.model}/versions/2"
    assert graph.node(run).attributes["ui"] == f"/runs/{chain.run_v2}"


def test_v1_keeps_its_alias_history_but_serves_nothing(client: Client, chain: Chain) -> None:
    graph = lineage(f"models:/{chain.model}/1", client)
    alias = graph.node(f"models:/{chain.model}@champion").attributes
    assert alias["holder"] == 2
    assert [m["action"] for m in alias["history"]] == ["set", "promote"]
    assert not any(n.kind == "deployment" for n in graph.nodes)
    clean = graph.node(f"git:{COMMIT}")
    assert clean.attributes["dirty"] is False


def test_dataset_version_downstream(client: Client, chain: Chain) -> None:
    graph = lineage(f"datasets:/{chain.dataset}/{chain.dataset_version}", client, depth=2)
    assert graph.root == chain.dataset_uri
    got = edges(graph)
    for run_id, version in ((chain.run_v1, 1), (chain.run_v2, 2)):
        assert (chain.dataset_uri, f"runs:/{run_id}", "input (training)") in got
        assert (f"runs:/{run_id}", f"models:/{chain.model}/{version}", "produced") in got
    assert graph.upstream_of(chain.dataset_uri) == []
    # the loopml-dataset:/ form names the same root
    same = lineage(chain.dataset_uri, client, depth=2)
    assert {n.id for n in same.nodes} == {n.id for n in graph.nodes}


def test_run_and_deployment_roots(client: Client, chain: Chain) -> None:
    graph = lineage(f"runs:/{chain.pipeline_run}", client, depth=2)
    assert graph.node(graph.root).kind == "pipeline_run"
    got = edges(graph)
    for run_id, version in ((chain.run_v1, 1), (chain.run_v2, 2)):
        assert (f"runs:/{chain.pipeline_run}", f"runs:/{run_id}", "parent") in got
        assert (f"runs:/{run_id}", f"models:/{chain.model}/{version}", "produced") in got

    deployment = lineage(f"deployments:/{chain.deployment}", client, depth=2)
    got = edges(deployment)
    v2 = f"models:/{chain.model}/2"
    assert (v2, f"deployments:/{chain.deployment}", "serves") in got
    assert (f"runs:/{chain.run_v2}", v2, "produced") in got
    assert (f"deployments:/{chain.deployment}", f"monitors:/{chain.monitor}", "monitored_by") in got


def test_depth_bounds_the_walk_and_nothing_repeats(client: Client, chain: Chain) -> None:
    root_only = lineage(f"models:/{chain.model}/2", client, depth=0)
    assert [n.id for n in root_only.nodes] == [f"models:/{chain.model}/2"] and not root_only.edges
    one = lineage(f"models:/{chain.model}/2", client, depth=1)
    assert chain.dataset_uri not in {n.id for n in one.nodes}
    deep = lineage(f"datasets:/{chain.dataset}/{chain.dataset_version}", client, depth=10)
    ids = [n.id for n in deep.nodes]
    assert len(ids) == len(set(ids))
    assert len(deep.edges) == len(edges(deep))


def test_readable_hides_objects(client: Client, chain: Chain) -> None:
    hidden = lineage(
        f"models:/{chain.model}/2", client, readable=lambda kind, key: kind != "deployment"
    )
    kinds = {n.kind for n in hidden.nodes}
    assert "deployment" not in kinds and "monitor" not in kinds
    assert "dataset_version" in kinds


@pytest.mark.parametrize(
    ("uri", "error", "words"),
    [
        ("s3://bucket/model", InvalidArgument, "Unsupported lineage URI"),
        ("", InvalidArgument, "Invalid lineage URI"),
        ("models:/no-such-model/1", NotFound, "no-such-model"),
        ("runs:/" + "0" * 32, NotFound, "0" * 32),
        ("runs:/not-a-run", InvalidArgument, "not a run id"),
        ("datasets:/nothing-here/1", NotFound, "nothing-here"),
        ("datasets:/nothing-here", InvalidArgument, "datasets:/<name>/<version>"),
        ("deployments:/no-such-dep", NotFound, "no-such-dep"),
    ],
)
def test_bad_uris_say_what_is_wrong(
    client: Client, uri: str, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        lineage(uri, client)


def test_missing_version_and_bad_depth(client: Client, chain: Chain) -> None:
    with pytest.raises(NotFound):
        lineage(f"models:/{chain.model}/99", client)
    for depth in (-1, 11, True, 1.5):
        with pytest.raises(InvalidArgument, match="depth"):
            lineage(f"models:/{chain.model}/1", client, depth=depth)  # type: ignore[arg-type]
