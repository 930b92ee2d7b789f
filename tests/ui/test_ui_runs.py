"""The experiments list, runs table and run page in a real browser against a live server."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from live_server import LiveServer
from playwright.sync_api import expect
from runs_seed import LONG_POINTS, XSS, Seeded
from sqlalchemy import event

from loopml.server import create_app
from loopml.store import LifecycleStage, Metric, NewRun, Param, RunActivity, TrackingStore
from loopml.tracking import Client


def test_experiments_list_shows_run_counts_and_searches(
    page: Any, seeded: Seeded, shot: Any
) -> None:
    page.goto("/experiments")
    row = page.locator("#experiments tr", has_text=seeded.name)
    assert row.locator("td").nth(2).inner_text() == str(len(seeded.run_ids) + 3)
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row.locator("td").nth(3).inner_text())
    page.fill('input[name="q"]', seeded.name[-8:])
    page.wait_for_url(re.compile(r"q=" + seeded.name[-8:]))
    assert page.locator("#experiments tbody tr").count() == 1
    shot(page, "search")
    page.go_back()
    page.wait_for_url(re.compile(r"/experiments$"))
    assert page.locator("#experiments tbody tr", has_text="Default").count() == 1


def test_runs_table_sorts_filters_and_pages_on_the_server(page: Any, seeded: Seeded) -> None:
    page.goto(f"/experiments/{seeded.experiment_id}?size=25")
    names = page.locator("#runs tbody tr td:nth-child(2)")
    assert names.count() == 25
    page.click("#runs thead >> text=loss")  # sort by the metric, ascending
    page.wait_for_url(re.compile(r"sort=metrics.loss&desc=false"))
    assert names.first.inner_text() == "trial-059"  # the lowest final loss
    page.click("#next-page")
    page.wait_for_url(re.compile(r"page="))
    assert names.first.inner_text() == "trial-034"
    page.go_back()
    page.wait_for_url(re.compile(r"desc=false$"))
    assert names.first.inner_text() == "trial-059"

    page.fill("#run-filter", "params.optimizer = 'adam' and metrics.acc > 0.7")
    page.click("text=Apply")
    page.wait_for_url(re.compile(r"filter=params.optimizer"))
    shown = names.all_inner_texts()
    assert shown and all(int(n[-3:]) % 2 == 1 and int(n[-3:]) > 40 for n in shown)

    page.fill("#run-filter", "params.optimizer ~ 'adam'")
    page.click("text=Apply")
    assert "Invalid filter" in page.locator("#filter-error").inner_text()


def test_column_chooser_puts_the_columns_in_the_url(page: Any, seeded: Seeded, shot: Any) -> None:
    page.goto(f"/experiments/{seeded.experiment_id}")
    assert page.locator("#runs thead th", has_text="team").count() == 0
    page.click("#column-chooser summary")
    page.fill("[data-column-find]", "tea")
    assert page.locator(".column-option:visible").count() == 1
    page.check('#column-chooser input[value="tags.team"]')
    page.fill("[data-column-find]", "")
    page.uncheck('#column-chooser input[value="params.seed"]')
    shot(page, "chooser")
    page.click("text=Show columns")
    page.wait_for_url(re.compile(r"col=tags.team"))
    assert page.locator("#runs thead th", has_text="team").count() == 1
    assert page.locator("#runs thead th", has_text="seed").count() == 0
    page.reload()  # the URL alone brings the same columns back
    assert page.locator("#runs thead th", has_text="team").count() == 1


def test_run_page_shows_data_lineage_and_a_downsampled_chart(
    page: Any, seeded: Seeded, shot: Any
) -> None:
    page.goto(f"/runs/{seeded.detail}")
    assert page.locator("#params tr", has_text="lr").locator("td").nth(1).inner_text() == "0.01"
    assert page.locator("#provenance").inner_text().count("train.py") == 1
    assert page.locator("#datasets").inner_text().count("churn-train") == 1
    assert "model" in page.locator("#models").inner_text()
    assert page.locator("#children li").count() == 2
    chart = page.locator('.metric-chart[data-key="curve"]')
    chart.scroll_into_view_if_needed()
    page.wait_for_selector('.metric-chart[data-key="curve"][data-points]')
    assert int(chart.get_attribute("data-points")) <= 2000
    assert f"{LONG_POINTS} points, " in chart.inner_text()
    # Drag across a narrow range: the chart loads the exact points of those steps.
    box = chart.locator(".u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.60, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.64, box["y"] + 20, steps=5)
    page.mouse.up()
    page.wait_for_selector('.metric-chart[data-key="curve"][data-zoomed="exact"]')
    shot(page, "run")
    page.click("#children >> text=child-0")
    assert page.locator("#parent-link").inner_text() == "parent-with-artifacts"


def test_metric_points_are_thinned_with_spikes_kept_and_exact_on_zoom(
    ui_server: LiveServer, seeded: Seeded
) -> None:
    url = f"{ui_server.url}/ui/api/runs/{seeded.detail}/metrics/curve"
    whole = httpx.get(url).json()
    assert whole["total"] == LONG_POINTS and whole["downsampled"]
    assert len(whole["steps"]) <= 2000 and max(whole["values"]) > 20  # the one spike survives
    assert whole["steps"] == sorted(whole["steps"])
    part = httpx.get(url, params={"min_step": 12_000, "max_step": 12_999}).json()
    assert part["steps"] == list(range(12_000, 13_000)) and not part["downsampled"]
    missing = httpx.get(f"{ui_server.url}/ui/api/runs/{'0' * 32}/metrics/curve")
    assert missing.status_code == 404 and missing.json()["error_code"]


def test_artifact_previews(page: Any, seeded: Seeded, shot: Any) -> None:
    page.goto(f"/runs/{seeded.detail}")
    text = page.locator("#artifact-text")
    table = page.locator("#artifact-table")
    page.click("#artifact-list >> text=notes.txt")
    page.wait_for_url(re.compile(r"file=notes.txt"))
    expect(text).to_contain_text(f"hello {XSS}")
    page.click("#artifact-list >> text=metrics.json")
    expect(text).to_contain_text('"auc": 0.91')
    page.click("#artifact-list >> text=data/")
    page.click("#artifact-list >> text=cities.parquet")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table).to_contain_text("Oslo")
    page.click("#artifact-list >> text=head.csv")
    expect(table.locator("thead")).to_have_text(re.compile(r"a\s*b"))
    page.go_back()  # the browser's back button walks the previews back
    page.wait_for_url(re.compile(r"cities.parquet"))
    expect(table).to_contain_text("Lima")
    page.click("#artifacts >> text=artifacts")
    page.click("#artifact-list >> text=plots/")
    page.click("#artifact-list >> text=red.png")
    page.wait_for_function(
        "() => { const i = document.querySelector('#preview img');"
        " return i && i.complete && i.naturalWidth === 2; }"
    )
    page.click("#artifacts >> text=artifacts")
    page.click("#artifact-list >> text=report.html")
    expect(page.locator("#preview iframe")).to_have_attribute("sandbox", "")
    page.frame_locator("#preview iframe").locator("h1").wait_for()
    shot(page, "report")


def test_artifacts_are_served_as_attachments_that_never_run(
    ui_server: LiveServer, seeded: Seeded
) -> None:
    base = f"{ui_server.url}/ui/runs/{seeded.detail}/artifact"
    html = httpx.get(base, params={"path": "report.html", "inline": "true"})
    assert html.headers["content-type"].startswith("text/html")
    assert html.headers["content-security-policy"].startswith("sandbox")
    assert html.headers["x-content-type-options"] == "nosniff"
    assert html.headers["content-disposition"].startswith("inline;")
    download = httpx.get(base, params={"path": "report.html"})
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith('attachment; filename="report.html"')
    odd = httpx.get(base, params={"path": f"{XSS}.txt"}).headers["content-disposition"]
    assert re.match(r'attachment; filename="[\w.-]+"; filename\*=UTF-8\'\'%3Cimg', odd)
    assert httpx.get(base, params={"path": "../secrets"}).status_code == 400
    assert httpx.get(base, params={"path": "nope.txt"}).status_code == 404


def test_user_markup_is_shown_as_text_everywhere(
    page: Any, seeded: Seeded, ui_server: LiveServer
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto("/experiments")
    page.goto(f"/experiments/{seeded.xss_experiment}?col=params.p&col=tags.t&col=metrics.m")
    assert page.locator("h1").inner_text().startswith(XSS)
    assert page.locator("#runs tbody").inner_text().count(XSS) == 3  # name, param, tag
    page.goto(f"/runs/{seeded.xss_run}")
    page.click(f"#artifact-list >> text={XSS}.html")
    page.frame_locator("#preview iframe").locator("body").wait_for(state="attached")
    page.goto(f"/compare?runs={seeded.xss_run}&runs={seeded.run_ids[0]}")
    assert page.locator("#compare-table").inner_text().count(XSS) >= 2
    assert page.locator("img[src=x]").count() == 0 and not dialogs
    for path in (f"/experiments/{seeded.xss_experiment}", f"/runs/{seeded.xss_run}"):
        body = httpx.get(ui_server.url + path).text
        assert XSS not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


def test_narrow_window_scrolls_tables_not_the_page(page: Any, seeded: Seeded, shot: Any) -> None:
    page.emulate_media(color_scheme="dark")
    page.set_viewport_size({"width": 420, "height": 800})
    for path in (f"/experiments/{seeded.experiment_id}", f"/runs/{seeded.detail}"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 421, path
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(18, 22, 27)"  # the dark theme follows the system setting
    shot(page, "narrow")


def test_bad_addresses_answer_with_an_error_page(ui_server: LiveServer) -> None:
    for path, status in (
        ("/experiments/999999", 404),
        ("/runs/" + "f" * 32, 404),
        ("/experiments/0?size=100000", 400),
        ("/experiments/0?col=nonsense", 400),
    ):
        answer = httpx.get(ui_server.url + path)
        assert answer.status_code == status, path
        assert answer.headers["content-type"].startswith("text/html")
        assert "Back to experiments" in answer.text
    assert httpx.get(ui_server.url + "/", follow_redirects=False).headers["location"] == (
        "/experiments"
    )


def _get(app: Any, path: str) -> httpx.Response:
    """GET through the app in-process (own thread: Playwright holds this one's event loop)."""

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ui") as http:
            return await http.get(path)

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, get()).result()


@pytest.mark.parametrize("runs", [400])
def test_first_page_loads_only_that_pages_data(tmp_path: Any, runs: int) -> None:
    """The runs table's SQL binds at most one page of run ids when it loads values."""
    client = Client(f"sqlite:///{tmp_path / 'db.sqlite'}", object_store_uri=str(tmp_path / "o"))
    experiment = client.create_experiment("wide")
    client.create_runs(
        experiment,
        [
            NewRun(
                run_name=f"r{i}",
                start_time=i,
                metrics=tuple(Metric(f"m{k}", i * k, 0, 0) for k in range(40)),
                params=tuple(Param(f"p{k}", str(k)) for k in range(40)),
            )
            for i in range(runs)
        ],
    )
    statements: list[tuple[str, Any]] = []
    engine = client.store.db.engine
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append((a[2], a[3])))
    page = _get(create_app(client), f"/experiments/{experiment}?size=25&sort=metrics.m3")
    assert page.status_code == 200 and page.text.count('name="runs"') == 25
    loads = [
        (sql, args) for sql, args in statements if re.search(r"FROM (params|latest_metrics)", sql)
    ]
    assert loads and all(len(args) <= 25 for _, args in loads)
    client.close()


def test_missing_assets_are_named_on_the_page_not_a_crash(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("loopml.ui._render.VENDOR_DIR", tmp_path)
    client = Client(f"sqlite:///{tmp_path / 'db.sqlite'}", object_store_uri=str(tmp_path / "o"))
    page = _get(create_app(client), "/experiments")
    assert page.status_code == 200
    assert "UI assets missing: run make install" in page.text
    client.close()


def test_run_activity_counts_active_runs_and_their_latest_time(store: Any) -> None:
    """The SQL store's one grouped query agrees with the base class's run-by-run default."""
    busy, idle = store.create_experiment("busy"), store.create_experiment("idle")
    store.create_runs(
        busy,
        [NewRun(run_name="a", start_time=10, end_time=50), NewRun(run_name="b", start_time=70)],
    )
    store.create_runs(busy, [NewRun(run_name="gone", start_time=900, end_time=999)])
    store.set_run_lifecycle(
        store.search_runs([busy], "attributes.run_name = 'gone'")[0].info.run_id,
        LifecycleStage.DELETED,
        1000,
    )
    expected = {busy: RunActivity(2, 70), idle: RunActivity(0, None)}
    assert store.run_activity([busy, idle]) == expected
    assert TrackingStore.run_activity(store, [busy, idle]) == expected
