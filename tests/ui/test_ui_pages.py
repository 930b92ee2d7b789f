"""The deployments, monitoring and data pages in a real browser, over real logged traffic.

The figures a page shows are checked against what was logged: request counts,
the canary's share and error rate, the drifted column of the drifted window,
the alert its rule fired. Charts are drawn by ECharts (a canvas appears).
Pages stay readable on a narrow window and follow the back button.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pandas as pd
import pytest
from live_server import LiveServer
from ui_seed import XSS, SeededDeployment, SeededModel, seed_deployment, seed_model, unique

from loopml.datasets import Datasets
from loopml.tracking import Client
from loopml.ui._deployments import traffic


@pytest.fixture(scope="module")
def seeded(
    ui_client: Client, tmp_path_factory: pytest.TempPathFactory
) -> tuple[SeededModel, SeededDeployment]:
    folder = tmp_path_factory.mktemp("pages")
    model = seed_model(ui_client, folder, unique("fraud"), (0.8, 0.9))
    return model, seed_deployment(ui_client, folder, model.name)


def chart_drawn(page: Any, chart_id: str) -> None:
    page.wait_for_selector(f"#{chart_id}[data-drawn=true] canvas")


def test_deployments_list_shows_routes_and_resolved_versions(
    page: Any, seeded: tuple[SeededModel, SeededDeployment]
) -> None:
    model, dep = seeded
    page.goto("/deployments")
    row = page.locator("#deployments tbody tr", has_text=dep.name)
    text = row.inner_text()
    assert f"models:/{model.name}@champion → v1" in text
    assert "20%" in text and "Shadow" not in text


def test_deployment_page_reports_traffic_split_latency_and_errors(
    page: Any, seeded: tuple[SeededModel, SeededDeployment], shot: Callable[[Any, str], Path]
) -> None:
    _, dep = seeded
    page.goto(f"/deployments/{dep.name}?window=1h")
    assert page.locator("main img").count() == 0
    assert XSS in page.locator("main").inner_text()  # the description, as text
    assert page.locator("#t-requests").inner_text() == str(dep.requests)
    errors = page.locator("#t-errors").inner_text()
    assert errors.startswith(f"{dep.canary_errors} (")
    assert f"{100 * dep.canary_errors / dep.requests:.2f}%" in errors
    split = page.locator("#split").inner_text()
    assert "20.0% canary, 80.0% primary" in split
    share = 100 * dep.canary_requests / dep.requests
    assert f"observed canary\n{share:.1f}%" in split
    canary = page.locator("#by-route tbody tr", has_text="canary")
    assert "10.00%" in canary.inner_text()  # its own error rate
    routes = page.locator("#routes").inner_text()
    assert "→ v1" in routes and "→ v2" in routes
    for chart in ("chart-rate", "chart-latency", "chart-errors"):
        chart_drawn(page, chart)
    shot(page, "deployment")
    page.get_by_role("link", name="15m", exact=True).click()
    page.wait_for_url("**window=15m")
    assert page.locator("#t-requests").inner_text() == str(dep.requests)  # all in the last 15m
    page.go_back()
    page.wait_for_url("**window=1h")


def test_deployment_page_refuses_an_unknown_window_with_a_message(
    page: Any, seeded: tuple[SeededModel, SeededDeployment]
) -> None:
    _, dep = seeded
    page.goto(f"/deployments/{dep.name}?window=3y")
    page.js_errors.clear()
    assert "Invalid window '3y'" in page.locator(".message").inner_text()


def test_monitoring_lists_monitors_and_the_alerts_they_fired(
    page: Any, seeded: tuple[SeededModel, SeededDeployment]
) -> None:
    _, dep = seeded
    page.goto("/monitoring")
    row = page.locator("#monitors tbody tr", has_text=dep.monitor)
    assert "1m" in row.inner_text() and "ok" in row.inner_text()
    alerts = page.locator(".alerts tbody tr", has_text=dep.rule)
    assert alerts.count() >= 1
    assert "dataset_drift" in alerts.first.inner_text()
    row.get_by_role("link", name=dep.monitor).click()
    page.wait_for_url(f"**/monitoring/{dep.monitor}")


def test_monitor_page_draws_drift_per_column_and_links_the_report(
    page: Any,
    ui_server: LiveServer,
    seeded: tuple[SeededModel, SeededDeployment],
    shot: Callable[[Any, str], Path],
) -> None:
    _, dep = seeded
    page.goto(f"/monitoring/{dep.monitor}")
    chart_drawn(page, "chart-scores")
    chart_drawn(page, "chart-share")
    series = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart-scores'))"
        ".getOption().series.map(s => [s.name, s.data.length])"
    )
    assert sorted(series) == [["city", 3], ["x", 3]]
    drifted = page.locator("#drift-columns tbody tr").first.inner_text()
    assert drifted.startswith("x") and drifted.endswith("yes")  # the shifted column, first
    assert page.locator(".alerts tbody tr", has_text=dep.rule).count() >= 1
    assert "dataset_drift" in page.locator("#rules").inner_text()
    href = page.locator("#report-link").get_attribute("href")
    report = httpx.get(ui_server.url + href)
    assert report.status_code == 200 and dep.monitor in report.text
    shot(page, "monitor")


def test_data_pages_show_versions_schema_and_profile(
    page: Any, seeded: tuple[SeededModel, SeededDeployment], shot: Callable[[Any, str], Path]
) -> None:
    model, _ = seeded
    name, version = model.dataset.split("@")
    page.goto("/data")
    page.locator("#datasets").get_by_role("link", name=name, exact=True).click()
    page.wait_for_url(f"**/data/{name}")
    assert page.locator("#versions tbody tr").count() == 1
    page.get_by_role("link", name=f"v{version}").click()
    page.wait_for_url(f"**/data/{name}/{version}")
    rows = page.locator("#profile tbody tr")
    assert [rows.nth(i).inner_text().split("\t")[0] for i in range(3)] == ["x", "city", "y"]
    city = rows.nth(1).inner_text()
    assert "800" in city and "\t3" in city  # 800 values, 3 distinct cities
    assert page.locator("#chart-nulls").count() == 0  # nothing missing, nothing to draw
    page.go_back()
    page.wait_for_url(f"**/data/{name}")
    page.go_back()
    page.wait_for_url("**/data")


@pytest.mark.parametrize("path", ["/models", "/deployments", "/monitoring", "/data"])
def test_pages_fit_a_narrow_window_and_follow_the_system_theme(
    page: Any, seeded: tuple[SeededModel, SeededDeployment], path: str
) -> None:
    model, dep = seeded
    urls = {
        "/models": f"/models/{quote(model.name, safe='')}",
        "/deployments": f"/deployments/{dep.name}",
        "/monitoring": f"/monitoring/{dep.monitor}",
        "/data": "/data/" + model.dataset.replace("@", "/"),
    }
    page.set_viewport_size({"width": 390, "height": 800})
    page.emulate_media(color_scheme="dark")
    page.goto(urls[path])
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(18, 22, 27)"  # the dark palette
    assert page.locator("nav a.active").inner_text() == path[1:].title()


def test_traffic_counts_requests_once_and_keeps_shadow_apart() -> None:
    """A request of two rows counts once; a shadow's mirror is not an answered request."""
    rows = [
        # request_id, role, version, time_ms, latency_ms, error
        ("a", "primary", "1", 1_000, 10.0, None),
        ("a", "primary", "1", 1_000, 10.0, None),  # second row of request a
        ("b", "primary", "1", 61_000, 30.0, None),
        ("c", "canary", "2", 62_000, 100.0, "boom"),
        ("a", "shadow", "3", 1_000, 500.0, None),
    ]
    frame = pd.DataFrame(
        {
            "request_id": [r[0] for r in rows],
            "role": [r[1] for r in rows],
            "model_uri": [f"models:/m/{r[2]}" for r in rows],
            "model_version": [r[2] for r in rows],
            "time_ms": [r[3] for r in rows],
            "latency_ms": [r[4] for r in rows],
            "error": [r[5] for r in rows],
        }
    )
    found = traffic(frame, 0, 120_000)
    assert (found.requests, found.errors) == (3, 1)
    assert found.per_minute == pytest.approx(1.5)
    assert found.error_rate == pytest.approx(1 / 3)
    # Of 10, 30, 100 (the shadow's 500 is left out), within the histogram's 1 %.
    assert found.p50 == pytest.approx(30.0, rel=0.01)
    by_role = {r.role: r for r in found.routes}
    assert by_role["canary"].share == pytest.approx(1 / 3)
    assert by_role["canary"].error_rate == 1.0
    assert by_role["shadow"].share is None and by_role["shadow"].requests == 1
    rate = {s["name"]: s["data"] for s in found.charts["rate"]["series"]}
    assert sorted(rate) == ["canary", "primary", "shadow"]
    assert sum(y for _, y in rate["primary"]) == pytest.approx(2 * 60_000 / 2_000)


def test_traffic_of_an_empty_window_has_no_figures() -> None:
    columns = ["request_id", "role", "model_uri", "model_version", "time_ms", "latency_ms"]
    frame = pd.DataFrame({c: [] for c in [*columns, "error"]})
    found = traffic(frame, 0, 60_000)
    assert (found.requests, found.error_rate, found.p95, found.routes) == (0, None, None, [])
    assert all(y is None for _, y in found.charts["latency"]["series"][0]["data"])


def test_a_dataset_with_missing_values_charts_them(
    page: Any, ui_client: Client, tmp_path: Path, shot: Callable[[Any, str], Path]
) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text("a,b\n1,x\n,y\n3,\n,\n")
    name = unique("gaps")
    Datasets(ui_client).register(name, str(path))
    page.goto(f"/data/{name}/1")
    missing = page.locator("#profile tbody tr").first.inner_text()
    assert "2 (50.0%)" in missing
    chart_drawn(page, "chart-nulls")
    bars = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart-nulls'))"
        ".getOption().series[0].data"
    )
    assert bars == [50, 0]  # CSV reading keeps an empty string as a value
    shot(page, "dataset-version")
