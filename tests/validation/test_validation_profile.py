"""Profiles, compared value by value with what pandas computes on the same data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loopml.core.errors import InvalidArgument, NotFound
from loopml.validation import profile


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = 2_000
    age = rng.normal(40, 12, rows)
    age[::40] = np.nan
    country = rng.choice(["FR", "DE", "US", "IT", "ES"], rows, p=[0.4, 0.3, 0.15, 0.1, 0.05])
    return pd.DataFrame(
        {
            "age": age,
            "visits": rng.poisson(3, rows),
            "country": pd.Series(country).where(rng.random(rows) > 0.1),
            "city": [f"c{i}" for i in rng.integers(0, 50, rows)],
            "active": rng.random(rows) > 0.3,
            "seen": pd.date_range("2025-01-01", periods=rows, freq="min"),
        }
    )


def test_numeric_statistics_match_pandas(frame: pd.DataFrame) -> None:
    column = profile(frame)["age"]
    age = frame["age"]
    assert column.kind == "numeric"
    assert column.count == age.count() and column.missing == age.isna().sum() == 50
    assert column.missing_share == pytest.approx(age.isna().mean())
    assert column.min == pytest.approx(age.min()) and column.max == pytest.approx(age.max())
    assert column.mean == pytest.approx(age.mean())
    assert column.std == pytest.approx(age.std())
    assert column.quantiles is not None
    for name, q in (("p5", 0.05), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p95", 0.95)):
        assert column.quantiles[name] == pytest.approx(age.quantile(q))
    histogram = column.histogram
    assert histogram is not None and 10 <= len(histogram.counts) <= 20
    assert len(histogram.edges) == len(histogram.counts) + 1
    assert sum(histogram.counts) == age.count()
    expected, _ = np.histogram(age.dropna(), bins=np.array(histogram.edges))
    assert list(histogram.counts) == expected.tolist()


def test_categorical_top_values_and_cardinality(frame: pd.DataFrame) -> None:
    result = profile(frame)
    country = result["country"]
    assert country.kind == "categorical"
    assert country.cardinality == frame["country"].nunique() == 5
    assert country.missing == frame["country"].isna().sum()
    counts = frame["country"].value_counts()
    assert country.top == tuple(zip(counts.index, counts.tolist(), strict=True))
    city = result["city"]
    assert city.cardinality == 50 and city.top is not None and len(city.top) == 10
    assert city.top[0][1] == frame["city"].value_counts().iloc[0]
    assert city.mean is None and city.histogram is None


def test_boolean_and_datetime_columns(frame: pd.DataFrame) -> None:
    result = profile(frame)
    active = result["active"]
    assert active.kind == "boolean" and active.cardinality == 2
    assert dict(active.top or ()) == frame["active"].value_counts().to_dict()
    seen = result["seen"]
    assert seen.kind == "datetime" and seen.min == frame["seen"].min()
    assert seen.max == frame["seen"].max()
    assert result["visits"].kind == "numeric"


def test_profile_is_json(frame: pd.DataFrame) -> None:
    document = json.loads(json.dumps(profile(frame).to_dict(), allow_nan=False))
    assert document["rows"] == len(frame)
    by_name = {column["name"]: column for column in document["columns"]}
    assert by_name["seen"]["min"] == "2025-01-01T00:00:00"
    assert by_name["age"]["histogram"]["counts"]
    assert by_name["country"]["top"][0] == {
        "value": "FR",
        "count": int(frame["country"].eq("FR").sum()),
    }


def test_parquet_and_csv_files_give_the_same_profile(frame: pd.DataFrame, tmp_path: Path) -> None:
    parquet, csv = tmp_path / "data.parquet", tmp_path / "data.csv"
    frame.to_parquet(parquet)
    frame.to_csv(csv, index=False)
    from_frame = profile(frame)
    for source in (parquet, str(csv)):
        loaded = profile(source)
        assert loaded.names() == from_frame.names()
        assert loaded["age"].mean == pytest.approx(from_frame["age"].mean)
        assert loaded["country"].top == from_frame["country"].top
        assert loaded["active"].kind == "boolean"
    assert profile(parquet)["seen"].kind == "datetime"


def test_edge_columns_all_missing_constant_and_empty() -> None:
    frame = pd.DataFrame({"empty": [np.nan] * 4, "same": [3.0] * 4, "inf": [1.0, np.inf, 2, 3]})
    result = profile(frame)
    assert result["empty"].count == 0 and result["empty"].missing_share == 1.0
    assert result["empty"].mean is None and result["empty"].histogram is None
    same = result["same"]
    assert same.std == 0 and same.histogram is not None and sum(same.histogram.counts) == 4
    assert result["inf"].histogram is not None and sum(result["inf"].histogram.counts) == 3
    json.dumps(result.to_dict(), allow_nan=False)  # infinities do not leak into the JSON
    nothing = profile(pd.DataFrame({"a": pd.Series([], dtype=float)}))
    assert nothing.rows == 0 and nothing["a"].missing_share == 0.0


def test_bad_data_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        profile(tmp_path / "nope.parquet")
    (tmp_path / "data.xlsx").write_text("x")
    with pytest.raises(InvalidArgument, match="Unknown data format"):
        profile(tmp_path / "data.xlsx")
    (tmp_path / "broken.parquet").write_text("not parquet")
    with pytest.raises(InvalidArgument, match="Cannot read"):
        profile(tmp_path / "broken.parquet")
    with pytest.raises(InvalidArgument, match="pandas DataFrame"):
        profile([1, 2, 3])
    with pytest.raises(NotFound, match="No column 'x'"):
        profile(pd.DataFrame({"a": [1]}))["x"]
