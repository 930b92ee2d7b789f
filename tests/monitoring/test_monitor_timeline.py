"""Monitor reports over time: charts with gaps and drift marks, down-sampling, size, JSON."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from loopml.core.errors import InvalidArgument, StorageError
from loopml.monitoring import drift_report
from loopml.monitoring._timeline import MonitorReport, downsample, monitor_report

HOUR = 3_600_000
T0 = 1_700_000_000_000
EVIL = "<script>alert(1)</script>"
# the 150 px metric charts: top margin 6, bottom margin 24 -> value v of a 0..1 axis at y
BASE, PLOT = 126.0, 120.0


def _window(i: int, status: str = "ok", detail: str = "", **metrics: Any) -> dict[str, Any]:
    return {
        "window_start": T0 + i * HOUR,
        "window_end": T0 + (i + 1) * HOUR,
        "status": status,
        "detail": detail,
        "metrics": metrics,
        "drift": None,
    }


def _ok(i: int, share: float | None, flagged: list[str], **extra: Any) -> dict[str, Any]:
    columns = {"age": 0.001 if "age" in flagged else 0.4, EVIL: 0.5 if EVIL in flagged else 0.02}
    metrics: dict[str, Any] = {
        "rows": 100.0,
        "drift_share": share,
        "dataset_drift": 1.0 if share is not None and share >= 0.5 else 0.0,
        "accuracy": 0.9 - i / 100,
        "error_rate": 0.0,
    }
    for name, score in columns.items():
        metrics[f"drift.{name}"] = 1.0 if name in flagged else 0.0
        metrics[f"drift_score.{name}"] = score
    metrics.update(extra)
    return _window(i, **metrics)


def _history() -> list[dict[str, Any]]:
    """Ten hourly windows: a missing share, an empty and a failed window, drift at 4 and 6."""
    windows = [
        _ok(0, 0.1, []),
        _ok(1, 0.2, []),
        _ok(2, None, [], accuracy=None),
        _ok(3, 0.3, []),
        _ok(4, 0.8, ["age"]),
        _window(5, "empty", "no predictions in this window", rows=0.0),
        _ok(6, 0.9, ["age", EVIL]),
        _ok(7, 0.2, []),
        _window(8, "error", "<b>label join failed</b>"),
        _ok(9, 0.1, []),
    ]
    windows[9]["drift"] = {
        "dataset_drift": False,
        "share": 0.0,
        "drift_share": 0.5,
        "number_of_tested_columns": 2,
        "number_of_drifted_columns": 0,
        "columns": {
            "age": {"column": "age", "method": "ks", "threshold": 0.05, "score": 0.4},
            EVIL: {"column": EVIL, "method": "wasserstein", "threshold": 0.1, "score": 0.02},
        },
    }
    return windows


def _section(page: str, metric: str) -> str:
    found = re.search(rf'<section class="lm-metric" data-metric="{metric}">(.*?)</section>', page)
    assert found, f"no chart for {metric}"
    return found.group(1)


def _lines(svg: str) -> list[list[tuple[float, float]]]:
    return [
        [(float(x), float(y)) for x, y in (p.split(",") for p in points.split())]
        for points in re.findall(r'<polyline points="([^"]*)"', svg)
    ]


def _path(svg: str, css: str) -> str:
    found = re.search(rf'<path class="{css}" d="([^"]*)"', svg)
    return found.group(1) if found else ""


def test_gaps_break_lines_and_drift_windows_are_marked() -> None:
    page = monitor_report("drift-hourly", "churn-prod", _history())._repr_html_()
    share = _section(page, "drift_share")
    # ok windows 0,1 | gap (None) | 3,4 | empty | 6,7 | failed | 9 alone: a dot, not a line
    assert [len(line) for line in _lines(share)] == [2, 2, 2]
    assert _path(share, "lm-dot").count("h0") == 1
    assert _path(share, "lm-mark").count("h0") == 2  # windows 4 and 6 had dataset drift
    ys = [y for line in _lines(share) for _, y in line]
    assert BASE not in ys  # a gap is never drawn as 0
    assert min(ys) == pytest.approx(BASE - 0.9 * PLOT, abs=0.1)
    assert 'class="lm-threshold"' in share  # the dataset threshold (0.5) of the newest result

    rows = _section(page, "rows")
    assert [len(line) for line in _lines(rows)] == [5, 2]  # the empty window's 0 rows is a gap
    assert _path(rows, "lm-dot").count("h0") == 1
    accuracy = _section(page, "accuracy")
    assert [len(line) for line in _lines(accuracy)] == [2, 2, 2]
    assert 'data-metric="error_rate"' in page
    assert 'data-metric="precision"' not in page  # no value, no empty chart
    assert "10 windows (8 ok, 1 empty, 1 failed)" in page and "2 with dataset drift" in page


def test_column_charts_are_escaped_and_ordered_by_drift(tmp_path: Path) -> None:
    report = monitor_report("m", "d<&>", _history())
    page = report.save_html(tmp_path / "monitor.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower().replace("&lt;script", "")
    assert "<b>label" not in page and "&lt;b&gt;label join failed&lt;/b&gt;" in page
    assert "d&lt;&amp;&gt;" in page
    figures = re.findall(r'<figure class="lm-column" data-column="([^"]*)"(.*?)</figure>', page)
    assert [name for name, _ in figures] == ["age", "&lt;script&gt;alert(1)&lt;/script&gt;"]
    age = figures[0][1]
    assert "ks: drift below 0.05" in age and "drifted in 2 of 10 windows" in age
    assert _path(age, "lm-flag").count("z") == 2  # windows 4 and 6 are not neighbours
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)


def test_downsampling_keeps_a_spike_and_the_point_budget() -> None:
    rng = np.random.default_rng(5)
    shares = (0.1 + 0.05 * rng.random(2000)).tolist()
    shares[1234] = 0.99
    windows = [_ok(i, s, []) for i, s in enumerate(shares)]
    page = monitor_report("m", "d", windows, max_points=100)._repr_html_()
    lines = _lines(_section(page, "drift_share"))
    assert len(lines) == 1 and 50 <= len(lines[0]) <= 100
    assert min(y for _, y in lines[0]) == pytest.approx(BASE - 0.99 * PLOT, abs=0.1)
    full = _lines(_section(monitor_report("m", "d", windows)._repr_html_(), "drift_share"))
    assert len(full[0]) <= 500


def test_downsample_with_many_gaps_stays_within_budget() -> None:
    values: list[float | None] = [None if i % 2 else 0.1 for i in range(2000)]
    values[1000] = 5.0
    times = [float(i) for i in range(2000)]
    segments = downsample(times, values, 100)
    assert sum(len(s) for s in segments) <= 100
    assert max(v for s in segments for _, v in s) == 5.0
    short = downsample(times[:6], [1.0, None, 2.0, 3.0, None, None], 100)
    assert short == [[(0.0, 1.0)], [(2.0, 2.0), (3.0, 3.0)]]


def test_two_thousand_windows_of_fifty_columns_stay_under_two_megabytes(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    scores = rng.random((2000, 50))
    windows = []
    for i in range(2000):
        if i % 97 == 0:
            windows.append(_window(i, "empty", "no traffic"))
            continue
        metrics: dict[str, Any] = {
            "rows": float(rng.integers(50, 900)),
            "drift_share": float(scores[i].mean()),
            "dataset_drift": float(i % 13 == 0),
            "accuracy": None if i % 31 == 0 else float(rng.random()),
            "error_rate": 0.0,
            "latency_p95_ms": float(rng.random() * 40),
        }
        for j in range(50):
            metrics[f"drift.column_{j}"] = float(scores[i, j] < 0.05)
            metrics[f"drift_score.column_{j}"] = float(scores[i, j])
        windows.append(_window(i, **metrics))
    size = monitor_report("m", "d", windows).save_html(tmp_path / "big.html").stat().st_size
    assert size < 2_000_000
    page = (tmp_path / "big.html").read_text(encoding="utf-8")
    assert page.count('class="lm-column"') == 50


def test_json_round_trip_with_the_newest_distributions(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"age": rng.normal(size=300), EVIL: rng.normal(size=300)})
    latest = drift_report(ref, ref + 1.0)
    windows = _history()
    windows[0]["metrics"]["rmse"] = math.nan  # not JSON: stored as a gap
    windows[1]["metrics"]["rows"] = np.int64(120)  # numpy numbers are stored as plain floats
    windows[1]["window_start"] = np.int64(windows[1]["window_start"])
    report = monitor_report("m", "d", list(reversed(windows)), latest)
    assert [w["window_start"] for w in report.windows] == sorted(w["window_start"] for w in windows)
    assert report.windows[0]["metrics"]["rmse"] is None
    assert type(report.windows[1]["metrics"]["rows"]) is float
    assert type(report.windows[1]["window_start"]) is int

    path = report.save_json(tmp_path / "monitor.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data == report.to_dict() and data["format"] == "loopml.monitor_report"
    assert data["latest"]["columns"]["age"]["drifted"] is True
    again = MonitorReport.from_dict(data)
    assert again.to_dict() == data and again._repr_html_() == report._repr_html_()
    page = report._repr_html_()
    assert "Newest window vs reference" in page and latest._repr_html_() in page


def test_saves_are_atomic(tmp_path: Path) -> None:
    report = monitor_report("m", "d", _history())
    target = tmp_path / "monitor.html"
    target.write_text("old", encoding="utf-8")
    report.save_html(target)
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["monitor.html"]  # no temp file left
    with pytest.raises(StorageError, match="could not write"):
        report.save_json(tmp_path / "missing-folder" / "monitor.json")
    assert [p.name for p in tmp_path.iterdir()] == ["monitor.html"]


def test_no_windows_still_renders() -> None:
    page = monitor_report("m", "d", [])._repr_html_()
    assert "no windows yet" in page and "<svg" not in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda w: w.pop("window_start"), "window 0: window_start must be an integer"),
        (lambda w: w.update(status="late"), "status must be one of"),
        (lambda w: w["metrics"].update(rows="many"), "metric 'rows' must be a number or None"),
        (lambda w: w.update(metrics=[1]), "metrics must be a dict"),
        (lambda w: w.update(window_end=T0 - 1), "window_end is before window_start"),
        (lambda w: w.update(extra={1, 2}), "not JSON-able"),
    ],
)
def test_bad_windows_raise_clear_errors(change: Any, message: str) -> None:
    windows = _history()
    change(windows[0])
    with pytest.raises(InvalidArgument, match=message):
        monitor_report("m", "d", windows)


def test_bad_arguments_raise_clear_errors() -> None:
    with pytest.raises(InvalidArgument, match="max_points must be an integer >= 4"):
        monitor_report("m", "d", _history(), max_points=1)
    with pytest.raises(InvalidArgument, match="monitor must be a non-empty string"):
        monitor_report("", "d", _history())
    with pytest.raises(InvalidArgument, match="latest must be a DriftReport"):
        monitor_report("m", "d", _history(), {"not": "a report"})  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="list of window result dicts"):
        monitor_report("m", "d", "windows")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="not a loopml monitor report"):
        MonitorReport.from_dict({"windows": []})
    with pytest.raises(InvalidArgument, match=r"lacks \['deployment'\]"):
        MonitorReport.from_dict({"format": "loopml.monitor_report", "monitor": "m", "windows": []})
