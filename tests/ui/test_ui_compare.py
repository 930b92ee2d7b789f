"""Comparing runs in a real browser: selection, side-by-side table, charts, limits."""

from __future__ import annotations

import re
from typing import Any

import httpx
from live_server import LiveServer
from playwright.sync_api import expect
from runs_seed import Seeded


def _compare_url(ids: list[str], extra: str = "") -> str:
    return "/compare?" + "&".join(f"runs={i}" for i in ids) + extra


def test_select_runs_in_the_table_and_compare_them(page: Any, seeded: Seeded, shot: Any) -> None:
    page.goto(f"/experiments/{seeded.experiment_id}?filter=params.depth+%3D+%273%27&size=100")
    expect(page.locator("#compare-button")).to_be_disabled()
    boxes = page.locator('#runs tbody input[name="runs"]')
    boxes.nth(0).check()
    boxes.nth(1).check()
    boxes.nth(2).check()
    expect(page.locator("#selected-count")).to_have_text("3 selected")
    page.click("#compare-button")
    page.wait_for_url(re.compile(r"/compare\?runs=\w{32}&runs=\w{32}&runs=\w{32}$"))
    table = page.locator("#compare-table")
    expect(table.locator("thead th")).to_have_count(4)
    assert table.locator("tr", has_text="seed").count() == 1  # equal everywhere: shown ...
    page.click("#diff-toggle")
    page.wait_for_url(re.compile(r"diff=true"))
    assert table.locator("tr", has_text="seed").count() == 0  # ... until only differences
    assert table.locator("tr.differs", has_text="lr").count() == 1
    assert table.locator("tr.same").count() == 0
    shot(page, "compare")
    page.go_back()
    page.go_back()
    page.wait_for_url(re.compile(r"/experiments/"))


def test_compare_charts_follow_their_options_and_the_url(
    page: Any, seeded: Seeded, shot: Any
) -> None:
    ids = seeded.run_ids[:12]
    page.goto(_compare_url(ids, "&metric=acc&x=params.lr&y=metrics.loss"))
    loss = page.locator('.compare-chart[data-key="loss"]')
    loss.scroll_into_view_if_needed()
    expect(loss).to_have_attribute("data-drawn", "1")
    expect(loss.locator(".chart-note")).to_have_text("12 runs")
    assert loss.locator(".u-legend .u-series").count() == 13  # x + one line per run
    page.select_option("#axis", "time")
    page.wait_for_url(re.compile(r"axis=time"))
    expect(loss.locator(".u-legend")).to_contain_text("seconds")
    page.locator("#smooth").fill("0.6")
    page.wait_for_url(re.compile(r"smooth=0.6"))
    expect(page.locator("#parallel-chart")).to_have_attribute("data-drawn", "12")
    expect(page.locator("#scatter-chart")).to_have_attribute("data-drawn", "12")
    page.select_option("#scatter-y", "params.depth")
    page.wait_for_url(re.compile(r"y=params.depth"))
    page.select_option("#parallel-metric", "loss")
    page.wait_for_url(re.compile(r"metric=loss"))
    page.locator("#parallel-chart").scroll_into_view_if_needed()
    shot(page, "charts")
    page.reload()  # the options come back from the URL alone
    expect(page.locator("#axis")).to_have_value("time")
    expect(page.locator("#scatter-y")).to_have_value("params.depth")
    expect(page.locator("#parallel-metric")).to_have_value("loss")


def test_compare_series_are_thinned_to_fit_one_chart(ui_server: LiveServer, seeded: Seeded) -> None:
    ids = [seeded.detail, *seeded.run_ids[:3]]
    body = httpx.get(
        f"{ui_server.url}/ui/api/compare/metrics/curve", params=[("runs", i) for i in ids]
    ).json()
    assert [s["run_id"] for s in body["series"]] == ids
    curve = body["series"][0]
    assert curve["total"] == 20_000 and len(curve["steps"]) <= 2000 and max(curve["values"]) > 20
    assert all(s["total"] == 0 for s in body["series"][1:])


def test_compare_takes_two_to_five_hundred_known_runs(
    ui_server: LiveServer, seeded: Seeded
) -> None:
    many = _compare_url(seeded.run_ids + [f"{i:032x}" for i in range(441)])
    for path in (
        _compare_url(seeded.run_ids[:1]),
        many,
        _compare_url([seeded.run_ids[0], "not-a-run"]),
        _compare_url([seeded.run_ids[0], "f" * 32]),
    ):
        answer = httpx.get(ui_server.url + path)
        assert answer.status_code == 400 and "Back to experiments" in answer.text, path[:80]
    sixty = httpx.get(ui_server.url + _compare_url(seeded.run_ids))
    assert sixty.status_code == 200 and sixty.text.count('<th><a href="/runs/') == 60
