"""The lineage page in a real browser: the graph drawn with dagre + ECharts, the nodes
listed and linked, markup in names shown as text, links from the version and run pages."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "governance"))
from lineage_chain import XSS, Chain, build_chain
from live_server import LiveServer

from loopml.tracking import Client


@pytest.fixture(scope="module")
def chain(ui_client: Client, tmp_path_factory: pytest.TempPathFactory) -> Chain:
    return build_chain(ui_client, tmp_path_factory.mktemp("lineage"), run_prefix=XSS)


def test_lineage_page_draws_the_graph(
    page: Any, chain: Chain, shot: Callable[[Any, str], Path]
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"/models/{chain.model}/versions/2")
    page.click("#lineage-link")
    page.wait_for_url(lambda url: "/lineage?uri=" in url)
    graph = page.locator("#lineage-graph[data-drawn='true']")
    graph.wait_for()
    assert graph.locator("canvas").count() >= 1
    rows = page.locator("#lineage-nodes tbody tr")
    drawn = int(graph.get_attribute("data-nodes") or 0)
    assert drawn == rows.count() >= 8
    table = page.locator("#lineage-nodes").inner_text()
    for text in (
        f"{chain.model} v2",
        chain.deployment,
        chain.monitor,
        chain.rule,
        chain.dataset,
        f"{XSS}train-0.9",
    ):
        assert text in table, text
    assert page.locator("#lineage-nodes img").count() == 0 and not dialogs
    shot(page, "lineage")

    # a node of the graph opens its page: click the dataset version's box on the canvas
    box = page.evaluate(
        """(id) => {
            const chart = echarts.getInstanceByDom(document.getElementById('lineage-graph'));
            const series = chart.getModel().getSeriesByIndex(0);
            const data = series.getData();
            const index = data.indexOfName(id);
            const [x, y] = data.getItemLayout(index);
            return chart.convertToPixel({seriesIndex: 0}, [x, y]);
        }""",
        chain.dataset_uri,
    )
    origin = graph.bounding_box()
    page.mouse.click(origin["x"] + box[0], origin["y"] + box[1])
    page.wait_for_url(f"**/data/{chain.dataset}/{chain.dataset_version}")


def test_run_page_links_to_lineage_and_bad_uris(
    page: Any, chain: Chain, ui_server: LiveServer
) -> None:
    page.goto(f"/runs/{chain.run_v2}")
    page.click("#lineage-link")
    page.locator("#lineage-graph[data-drawn='true']").wait_for()
    assert f"runs:/{chain.run_v2}" in page.locator("h1").inner_text()

    page.js_errors.clear()
    for uri, status, words in (
        ("ftp://nowhere", 400, "Unsupported lineage URI"),
        (f"models:/{chain.model}/42", 404, chain.model),
    ):
        response = httpx.get(f"{ui_server.url}/lineage", params={"uri": uri})
        assert response.status_code == status and words in response.text
        assert "Traceback" not in response.text
    empty = httpx.get(f"{ui_server.url}/lineage")
    assert empty.status_code == 200 and 'name="uri"' in empty.text
