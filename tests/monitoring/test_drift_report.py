"""Drift reports: JSON document, one offline HTML file, binned (small) distributions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import loopml as lm
from loopml.core.errors import InvalidArgument
from loopml.monitoring import DriftReport, drift_report

RNG = np.random.default_rng(11)
EVIL = "<script>alert(1)</script>"


def _frames(rows: int = 2000) -> tuple[pd.DataFrame, pd.DataFrame]:
    cities = np.array([f"city{i}" for i in range(30)])
    ref = pd.DataFrame(
        {
            "stable": RNG.normal(size=rows),
            "shifted": RNG.normal(size=rows),
            "city": cities[RNG.integers(0, 30, rows)],
            EVIL: np.array([EVIL, "b"])[np.arange(rows) % 2],
        }
    )
    cur = pd.DataFrame(
        {
            "stable": RNG.normal(size=rows),
            "shifted": RNG.normal(loc=3.0, size=rows),
            "city": cities[RNG.integers(0, 30, rows)],
            EVIL: np.array([EVIL, "b"])[np.arange(rows) % 2],
        }
    )
    cur.loc[:9, "stable"] = np.nan
    return ref, cur


def test_json_round_trip_and_content(tmp_path: Path) -> None:
    ref, cur = _frames()
    report = drift_report(ref, cur)
    path = report.save_json(tmp_path / "drift.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data == json.loads(report.to_json()) == report.to_dict()
    assert DriftReport.from_dict(data).to_dict() == data
    assert data["format"] == "loopml.drift_report"
    assert data["number_of_tested_columns"] == 4 and data["share"] == 0.25

    shifted = data["columns"]["shifted"]
    assert {"method", "score", "threshold", "drifted", "status", "detail"} <= set(shifted)
    assert shifted["drifted"] is True and shifted["method"] == "wasserstein"
    dist = shifted["distribution"]
    assert dist["kind"] == "numerical" and 20 <= len(dist["reference"]) <= 30
    assert len(dist["edges"]) == len(dist["reference"]) + 1 == len(dist["current"]) + 1
    assert sum(dist["reference"]) == sum(dist["current"]) == 2000

    stable = data["columns"]["stable"]["distribution"]
    assert stable["missing"] == {"reference": 0, "current": 10}
    assert sum(stable["current"]) == 1990

    city = data["columns"]["city"]["distribution"]
    assert city["kind"] == "categorical" and len(city["labels"]) == 21
    assert city["labels"][-1] == "other" and sum(city["reference"]) == 2000
    assert not list(tmp_path.glob(".loopml-tmp-*"))  # atomic write left no temp file


def test_html_is_one_offline_file_with_a_chart_per_column(tmp_path: Path) -> None:
    ref, cur = _frames()
    report = lm.drift_report(ref, cur)
    page = report.save_html(tmp_path / "drift.html").read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["drift.html"]
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert "<script" not in page.lower().replace("&lt;script", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count('role="img"') == len(ref.columns)  # one chart per column
    assert page.count("<svg") >= len(ref.columns)
    assert report._repr_html_() in page


def test_drifted_column_is_marked_in_the_html() -> None:
    ref, cur = _frames()
    body = drift_report(ref, cur)._repr_html_()
    rows = re.findall(r"<tr[^>]*>.*?</tr>", body)
    marked = [r for r in rows if 'class="drift"' in r]
    assert len(marked) == 1 and ">shifted</a>" in marked[0]
    assert "no dataset drift" in body


def test_report_stays_small_on_wide_and_long_data(tmp_path: Path) -> None:
    rows, cols = 100_000, 200
    ref = pd.DataFrame(RNG.normal(size=(rows, cols)), columns=[f"c{i}" for i in range(cols)])
    cur = ref + 0.5
    report = drift_report(ref, cur)
    html_size = report.save_html(tmp_path / "r.html").stat().st_size
    json_size = report.save_json(tmp_path / "r.json").stat().st_size
    assert html_size < 2_000_000 and json_size < 2_000_000
    assert report.result.number_of_drifted_columns == cols


def test_imperfect_columns_still_render(tmp_path: Path) -> None:
    ref = pd.DataFrame(
        {"gone": [1.0, 2.0, 3.0] * 10, "const": [5.0] * 30, "typed": [1.5, 2.5, 3.5] * 10}
    )
    cur = pd.DataFrame({"const": [5.0] * 30, "typed": ["x", "y", "z"] * 10})
    report = drift_report(ref, cur)
    data = report.to_dict()["columns"]
    assert data["gone"]["status"] == "error" and data["gone"]["distribution"]["current"] is None
    assert data["typed"]["distribution"]["current"] is None
    assert data["const"]["distribution"]["reference"] == [30]
    assert report.save_html(tmp_path / "r.html").read_text(encoding="utf-8").count("<section") == 3


def test_bad_input_raises_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="pandas DataFrame"):
        drift_report([1, 2], pd.DataFrame())
    with pytest.raises(InvalidArgument, match="unknown drift method"):
        drift_report(*_frames(50), method="nope")
    with pytest.raises(InvalidArgument, match="not a loopml drift report"):
        DriftReport.from_dict({"columns": {}})
