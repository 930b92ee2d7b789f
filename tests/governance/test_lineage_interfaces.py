"""``loopml lineage``, ``/api/v1/lineage`` and the card endpoint: embedded and against a
real ``loopml server`` (the CLI and the SDK take the REST path for an http:// URI)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lineage_chain import XSS, Chain, build_chain
from typer.testing import CliRunner

from loopml.cli import app
from loopml.core.errors import InvalidArgument, NotFound
from loopml.core.settings import Settings
from loopml.governance._cards import model_card
from loopml.governance._lineage import lineage
from loopml.tracking import Client

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from live_server import LiveServer, live_server

runner = CliRunner()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("lineage-server")
    with live_server(home, extra_env={"LOOPML_CAPTURE_PROVENANCE": "false"}) as running:
        yield running


@pytest.fixture(scope="module")
def local(server: LiveServer) -> Iterator[Client]:
    """Writes straight to the server's database and object store."""
    settings = Settings(home=server.home, capture_provenance=False)
    client = Client(
        server.tracking_uri, settings=settings, object_store_uri=server.object_store_uri
    )
    yield client
    client.close()


@pytest.fixture(scope="module")
def chain(local: Client, tmp_path_factory: pytest.TempPathFactory) -> Chain:
    return build_chain(local, tmp_path_factory.mktemp("chain"))


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_cli_tree_upstream_then_downstream(server: LiveServer, chain: Chain) -> None:
    code, out = cli(
        "--tracking-uri", server.tracking_uri, "lineage", f"models:/{chain.model}@champion"
    )
    assert code == 0, out
    up, down = out.index("upstream"), out.index("downstream")
    assert up < down
    for upstream in (
        "train-0.9",
        chain.dataset,
        "0123456789ab (dirty)",
        "CPython 3.12.3",
        "pipeline churn-flow",
    ):
        assert up < out.index(upstream) < down, upstream
    for downstream in (chain.deployment, chain.monitor, chain.rule, "promote -> v2 by carol"):
        assert out.index(downstream) > down, downstream
    assert "Traceback" not in out


def test_cli_json_matches_the_service(server: LiveServer, local: Client, chain: Chain) -> None:
    code, out = cli(
        "--tracking-uri",
        server.tracking_uri,
        "lineage",
        f"runs:/{chain.run_v2}",
        "--json",
        "--depth",
        "2",
    )
    assert code == 0, out
    data = json.loads(out)
    assert data == lineage(f"runs:/{chain.run_v2}", local, depth=2).to_dict()
    assert data["root"] == f"runs:/{chain.run_v2}"


def test_cli_against_the_server(server: LiveServer, chain: Chain) -> None:
    code, out = cli(
        "--tracking-uri", server.url, "lineage", f"deployments:/{chain.deployment}", "--json"
    )
    assert code == 0, out
    ids = {n["id"] for n in json.loads(out)["nodes"]}
    assert {f"models:/{chain.model}/2", f"monitors:/{chain.monitor}"} <= ids


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["lineage", "ftp://x"], "Unsupported lineage URI"),
        (["lineage", "models:/no-such-model/1"], "no-such-model"),
        (["lineage", "models:/x/1", "--depth", "50"], "depth"),
    ],
)
def test_cli_bad_input(server: LiveServer, args: list[str], words: str) -> None:
    for uri in (server.tracking_uri, server.url):
        code, out = cli("--tracking-uri", uri, *args)
        assert code == 1 and "Error:" in out and words in out, out
        assert "Traceback" not in out


def test_remote_sdk_gets_the_same_graph_and_card(
    server: LiveServer, local: Client, chain: Chain
) -> None:
    remote = Client(server.url)
    try:
        uri = f"models:/{chain.model}/2"
        assert lineage(uri, remote) == lineage(uri, local)
        card = model_card(chain.model, 2, remote)
        assert card == model_card(chain.model, 2, local)
        with pytest.raises(NotFound):
            lineage(f"models:/{chain.model}/77", remote)
        with pytest.raises(InvalidArgument, match="Unsupported"):
            lineage("git:abc", remote)
    finally:
        remote.close()


def test_rest_lineage_and_card(server: LiveServer, chain: Chain) -> None:
    api = f"{server.url}/api/v1"
    ok = httpx.get(f"{api}/lineage", params={"uri": f"datasets:/{chain.dataset}/1", "depth": 1})
    assert ok.status_code == 200
    assert {e["relation"] for e in ok.json()["edges"]} == {"input (training)"}
    for params, status, words in (
        ({"uri": "nope:/x"}, 400, "Unsupported lineage URI"),
        ({"uri": f"models:/{chain.model}/99"}, 404, chain.model),
        ({"uri": f"models:/{chain.model}/1", "depth": 99}, 400, "depth"),
        ({}, 400, "uri"),
    ):
        bad = httpx.get(f"{api}/lineage", params=params)
        assert bad.status_code == status and words in bad.json()["message"], bad.text

    card = f"{api}/registry/models/{chain.model}/versions/2/card"
    markdown = httpx.get(card)
    assert markdown.status_code == 200 and markdown.headers["content-type"].startswith(
        "text/markdown"
    )
    assert "## Gates passed" in markdown.text and "<img" not in markdown.text
    page = httpx.get(card, params={"format": "html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert XSS not in page.text and "&lt;img" in page.text
    assert httpx.get(card, params={"format": "json"}).json()["owner"] == "bob"
    assert httpx.get(card, params={"format": "pdf"}).status_code == 400
    missing = httpx.get(f"{api}/registry/models/{chain.model}/versions/9/card")
    assert missing.status_code == 404 and "message" in missing.json()
