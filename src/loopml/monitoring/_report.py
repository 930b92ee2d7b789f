"""Drift reports: the drift result plus binned distributions, as JSON or one HTML file.

A report never holds raw rows: each column is summarised as counts over shared
bins (numbers: the same edges for reference and current, so the bars line up)
or over the top categories plus ``"other"``. A report on 200 columns of 100,000
rows is therefore a few hundred kilobytes, and the HTML (inline SVG, inline
CSS, no scripts, no network) opens offline and can be attached to an alert.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loopml.core.atomic import write_text_atomic
from loopml.core.errors import InvalidArgument
from loopml.monitoring._drift import ColumnDrift, DriftResult, _as_frame, drift
from loopml.monitoring._selection import TEXT
from loopml.monitoring._stattests import CATEGORICAL, NUMERICAL

BINS = 24
TOP_CATEGORIES = 20
OTHER = "other"
FORMAT = "loopml.drift_report"
VERSION = 1


@dataclass(frozen=True)
class Distribution:
    """Counts of one column on both sides over shared bins.

    ``labels`` are the categories (``kind == "categorical"``) or, for numbers,
    ``edges`` has ``len(reference) + 1`` bin edges. ``current`` is ``None``
    when the current data cannot be binned like the reference (missing column,
    type change). ``missing`` counts values left out (missing or infinite).
    """

    kind: str
    reference: list[int]
    current: list[int] | None
    missing: dict[str, int | None]
    edges: list[float] | None = None
    labels: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form; only the key that applies (``edges`` or ``labels``) is present."""
        data: dict[str, Any] = {"kind": self.kind}
        if self.edges is not None:
            data["edges"] = self.edges
        if self.labels is not None:
            data["labels"] = self.labels
        data.update(reference=self.reference, current=self.current, missing=self.missing)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Distribution:
        return cls(
            kind=data["kind"],
            reference=list(data["reference"]),
            current=None if data["current"] is None else list(data["current"]),
            missing=dict(data["missing"]),
            edges=data.get("edges"),
            labels=data.get("labels"),
        )


def _finite(series: pd.Series) -> np.ndarray:
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    return values[np.isfinite(values)]


def _numeric(ref: pd.Series, cur: pd.Series | None) -> Distribution:
    ref_values = _finite(ref)
    cur_values = _finite(cur) if cur is not None else None
    sides = [v for v in (ref_values, cur_values) if v is not None and v.size]
    if sides:
        low = min(float(v.min()) for v in sides)
        high = max(float(v.max()) for v in sides)
        bins = BINS
        if low == high:  # a constant column: one bin around the value
            low, high, bins = low - 0.5, high + 0.5, 1
        edges = np.linspace(low, high, bins + 1)
    else:
        edges = np.array([0.0, 1.0])

    def counts(values: np.ndarray) -> list[int]:
        return [int(c) for c in np.histogram(values, bins=edges)[0]]

    return Distribution(
        kind=NUMERICAL,
        reference=counts(ref_values),
        current=None if cur_values is None else counts(cur_values),
        missing={
            "reference": len(ref) - ref_values.size,
            "current": None if cur is None or cur_values is None else len(cur) - cur_values.size,
        },
        edges=[float(e) for e in edges],
    )


def _categorical(ref: pd.Series, cur: pd.Series | None) -> Distribution:
    ref_counts = ref.astype(object).value_counts(dropna=True)
    cur_counts = cur.astype(object).value_counts(dropna=True) if cur is not None else None
    total = ref_counts if cur_counts is None else ref_counts.add(cur_counts, fill_value=0)
    # most frequent first, ties by label, so the same data always draws the same chart
    ranked = sorted(total.items(), key=lambda kv: (-kv[1], str(kv[0])))
    top = [key for key, _ in ranked[:TOP_CATEGORIES]]
    has_other = len(ranked) > TOP_CATEGORIES

    def counts(side: pd.Series) -> list[int]:
        values = [int(side.get(key, 0)) for key in top]
        if has_other:
            values.append(int(side.sum()) - sum(values))
        return values

    return Distribution(
        kind=CATEGORICAL,
        reference=counts(ref_counts),
        current=None if cur_counts is None else counts(cur_counts),
        missing={
            "reference": int(ref.isna().sum()),
            "current": None if cur is None else int(cur.isna().sum()),
        },
        labels=[str(key) for key in top] + ([OTHER] if has_other else []),
    )


def _distribution(
    column: ColumnDrift, reference: pd.DataFrame, current: pd.DataFrame
) -> Distribution | None:
    ref = reference[column.column]
    cur = current[column.column] if column.column in current.columns else None
    if column.column_type == NUMERICAL:
        if cur is not None and not pd.api.types.is_numeric_dtype(cur.dtype) and cur.notna().any():
            cur = None  # type changed: the current values have no place on the number line
        return _numeric(ref, cur)
    if column.column_type in (CATEGORICAL, TEXT):
        return _categorical(ref, cur)
    return None  # e.g. datetimes: no drift test and no chart


@dataclass(frozen=True)
class DriftReport:
    """A :class:`DriftResult` and each column's binned distributions, ready to share."""

    result: DriftResult
    distributions: dict[str, Distribution | None]

    def to_dict(self) -> dict[str, Any]:
        """The JSON document: dataset verdict, then per column the test and its distributions."""
        data = {"format": FORMAT, "version": VERSION, **self.result.to_dict()}
        for name, column in data["columns"].items():
            dist = self.distributions.get(name)
            column["distribution"] = None if dist is None else dist.to_dict()
        return data

    def to_json(self, indent: int | None = None) -> str:
        """:meth:`to_dict` as strict JSON (no NaN), UTF-8 text."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriftReport:
        """Rebuild a report from :meth:`to_dict` (e.g. a stored JSON document)."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InvalidArgument(f"not a loopml drift report (expected format {FORMAT!r})")
        columns = []
        distributions: dict[str, Distribution | None] = {}
        for name, col in data["columns"].items():
            dist = col.get("distribution")
            distributions[name] = None if dist is None else Distribution.from_dict(dist)
            fields = {k: v for k, v in col.items() if k != "distribution"}
            columns.append(ColumnDrift(**fields))
        result = DriftResult(
            columns=tuple(columns),
            dataset_drift=data["dataset_drift"],
            share=data["share"],
            drift_share=data["drift_share"],
            number_of_tested_columns=data["number_of_tested_columns"],
            number_of_drifted_columns=data["number_of_drifted_columns"],
        )
        return cls(result=result, distributions=distributions)

    def save_json(self, path: str | Path) -> Path:
        """Write :meth:`to_json` atomically; returns the path written."""
        target = Path(path)
        write_text_atomic(target, self.to_json(indent=2) + "\n")
        return target

    def save_html(self, path: str | Path) -> Path:
        """Write one self-contained HTML file (inline CSS and SVG, no scripts, no links)."""
        target = Path(path)
        write_text_atomic(target, html_page("loopml drift report", self._repr_html_()))
        return target

    def _repr_html_(self) -> str:
        """The report body, for Jupyter and for :meth:`save_html`."""
        return _render(self)


def drift_report(reference: Any, current: Any, **drift_kwargs: Any) -> DriftReport:
    """Run :func:`drift` and bin every tested column's values into a shareable report.

    ``drift_kwargs`` are those of :func:`drift` (``columns``, ``method``,
    ``threshold``, ``per_column``, ``drift_share``...).
    """
    ref_frame = _as_frame(reference, "reference")
    cur_frame = _as_frame(current, "current")
    result = drift(ref_frame, cur_frame, **drift_kwargs)
    distributions = {c.column: _distribution(c, ref_frame, cur_frame) for c in result.columns}
    return DriftReport(result=result, distributions=distributions)


# --- HTML -------------------------------------------------------------------------

_CSS = """
.lm-drift{font-family:system-ui,sans-serif;color:#222;max-width:960px}
.lm-drift table{border-collapse:collapse;font-size:13px;width:100%}
.lm-drift th,.lm-drift td{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left}
.lm-drift tr.drift td{background:#fdecea}
.lm-drift .badge{font-weight:bold;color:#b00020}
.lm-drift .ok{color:#1b5e20}
.lm-drift section{margin:14px 0}
.lm-drift .ref{fill:#5b7fa6}.lm-drift .cur{fill:#e8893a}
.lm-drift svg text{font-size:10px;fill:#444}
"""
_W, _H, _LEFT, _TOP, _BOTTOM = 600, 170, 44, 8, 40


def html_page(title: str, body: str) -> str:
    """One standalone HTML document around ``body`` (shared by every monitoring report)."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_esc(title)}</title></head><body>\n{body}\n</body></html>\n"
    )


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _num(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}g}"


def _bars(counts: list[int], offset: float, width: float, top: float, css: str) -> str:
    total = sum(counts) or 1
    base = _TOP + (_H - _TOP - _BOTTOM)
    height = _H - _TOP - _BOTTOM
    step = (_W - _LEFT) / len(counts)
    parts = []
    for i, count in enumerate(counts):
        h = height * (count / total) / top if top else 0.0
        if h > 0:
            x = _LEFT + i * step + offset
            parts.append(f"M{x:.1f} {base}v-{h:.1f}h{width:.1f}v{h:.1f}z")
    return f'<path class="{css}" d="{"".join(parts)}"/>' if parts else ""


def _svg(name: str, dist: Distribution) -> str:
    n = len(dist.reference)
    shares = [c / (sum(dist.reference) or 1) for c in dist.reference]
    if dist.current is not None:
        shares += [c / (sum(dist.current) or 1) for c in dist.current]
    top = max(shares, default=0.0) or 1.0
    step = (_W - _LEFT) / n
    bar = step * 0.4
    base = _H - _BOTTOM
    out = [
        f'<svg width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-label="{_esc(name)}: reference vs current"><title>{_esc(name)}</title>',
        f'<line x1="{_LEFT}" y1="{base}" x2="{_W}" y2="{base}" stroke="#999"/>',
        f'<text x="{_LEFT - 4}" y="{_TOP + 8}" text-anchor="end">{top:.0%}</text>',
        f'<text x="{_LEFT - 4}" y="{base}" text-anchor="end">0%</text>',
        _bars(dist.reference, step * 0.1, bar, top, "ref"),
    ]
    if dist.current is not None:
        out.append(_bars(dist.current, step * 0.5, bar, top, "cur"))
    if dist.edges is not None:
        for x, edge, anchor in (
            (_LEFT, dist.edges[0], "start"),
            ((_LEFT + _W) / 2, (dist.edges[0] + dist.edges[-1]) / 2, "middle"),
            (_W, dist.edges[-1], "end"),
        ):
            out.append(
                f'<text x="{x:.0f}" y="{base + 14}" text-anchor="{anchor}">{edge:.4g}</text>'
            )
    for i, label in enumerate(dist.labels or ()):
        x = _LEFT + (i + 0.5) * step
        short = label if len(label) <= 10 else label[:9] + "…"
        out.append(
            f'<text x="{x:.1f}" y="{base + 12}" text-anchor="middle">'
            f"<title>{_esc(label)}</title>{_esc(short)}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _render(report: DriftReport) -> str:
    result = report.result
    verdict = "DATASET DRIFT" if result.dataset_drift else "no dataset drift"
    rows = []
    sections = []
    for index, col in enumerate(result.columns):
        flag = '<span class="badge">drift</span>' if col.drifted else _esc(col.status)
        score = _num(col.score) if col.score is not None and np.isfinite(col.score) else ""
        rows.append(
            f'<tr class="{"drift" if col.drifted else ""}"><td><a href="#lm-col-{index}">'
            f"{_esc(col.column)}</a></td><td>{_esc(col.column_type)}</td>"
            f"<td>{_esc(col.method or '')}</td><td>{score}</td><td>{_num(col.threshold)}</td>"
            f"<td>{flag}</td><td>{_esc(col.detail)}</td></tr>"
        )
        dist = report.distributions.get(col.column)
        chart = _svg(col.column, dist) if dist is not None and dist.reference else ""
        missing = ""
        if dist is not None:
            missing = (
                f"<p>missing or non-finite values: reference {dist.missing['reference']}, "
                f"current {'n/a' if dist.missing['current'] is None else dist.missing['current']}"
                "</p>"
            )
        badge = ' <span class="badge">drift</span>' if col.drifted else ""
        sections.append(
            f'<section id="lm-col-{index}"><h3>{_esc(col.column)}{badge}</h3>'
            f"<p>{_esc(col.detail)}</p>{chart}{missing}</section>"
        )
    return (
        f'<div class="lm-drift"><style>{_CSS}</style><h2>loopml drift report</h2>'
        f'<p class="{"badge" if result.dataset_drift else "ok"}">{verdict}</p>'
        f"<p>{result.number_of_drifted_columns} of {result.number_of_tested_columns} tested "
        f"columns drifted (share {result.share:.1%}, dataset threshold "
        f"{result.drift_share:.0%}); {len(result.columns)} columns in total.</p>"
        '<p>Bars: <svg width="10" height="10"><rect class="ref" width="10" height="10"/></svg>'
        ' reference, <svg width="10" height="10"><rect class="cur" width="10" height="10"/>'
        "</svg> current (share of each side's non-missing values).</p>"
        "<table><thead><tr><th>column</th><th>type</th><th>method</th><th>score</th>"
        "<th>threshold</th><th>drift</th><th>detail</th></tr></thead><tbody>"
        f"{''.join(rows)}</tbody></table>{''.join(sections)}</div>"
    )
