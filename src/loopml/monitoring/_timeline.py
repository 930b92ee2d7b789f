"""A monitor's window results over time, as JSON or one offline HTML page.

A monitor evaluates a deployment's prediction log window by window; each
window gives a JSON-able dict (``window_start``/``window_end`` in ms,
``status`` ``ok``/``empty``/``error``, ``detail``, flat ``metrics`` and the
``drift`` result). :func:`monitor_report` checks and orders those dicts; the
report renders line charts of drift share, model quality and serving health,
one small chart per column's drift score, and optionally the newest window's
distributions (a :class:`DriftReport`).

Two rules keep the charts honest and the file small: a window without a value
(``None``, or an empty or failed window) breaks the line instead of drawing a
zero, and long series are down-sampled to at most ``max_points`` per line by
keeping each bucket's minimum and maximum, so a one-window spike stays visible.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loopml.core.atomic import write_text_atomic
from loopml.core.errors import InvalidArgument
from loopml.monitoring._drift import DriftResult
from loopml.monitoring._report import DriftReport, _esc, _num, html_page
from loopml.monitoring._stattests import STATTESTS

FORMAT = "loopml.monitor_report"
VERSION = 1
STATUSES = ("ok", "empty", "error")
PERFORMANCE = ("accuracy", "precision", "recall", "f1", "roc_auc", "mae", "rmse", "r2")
SERVING = ("error_rate", "latency_p95_ms", "rows")
DRIFT_FLAG = "drift."
DRIFT_SCORE = "drift_score."
MAX_LISTED = 20  # non-ok windows listed with their detail, newest first

Segment = list[tuple[float, float]]


@dataclass(frozen=True)
class MonitorReport:
    """One monitor's window results (oldest first) and, optionally, the newest distributions.

    Build it with :func:`monitor_report`, which checks the windows; ``max_points``
    bounds the points drawn per line in the HTML (the JSON keeps every window).
    """

    monitor: str
    deployment: str
    windows: tuple[dict[str, Any], ...]
    latest: DriftReport | None = None
    max_points: int = 500

    def to_dict(self) -> dict[str, Any]:
        """The JSON document: identity, every window result, the newest drift report."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "monitor": self.monitor,
            "deployment": self.deployment,
            "windows": [dict(w) for w in self.windows],
            "latest": None if self.latest is None else self.latest.to_dict(),
        }

    def to_json(self, indent: int | None = None) -> str:
        """:meth:`to_dict` as strict JSON (no NaN), UTF-8 text."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, max_points: int = 500) -> MonitorReport:
        """Rebuild a report from :meth:`to_dict` (e.g. a stored JSON document)."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise InvalidArgument(f"not a loopml monitor report (expected format {FORMAT!r})")
        missing = [k for k in ("monitor", "deployment", "windows") if k not in data]
        if missing:
            raise InvalidArgument(f"monitor report document lacks {missing}; was it edited?")
        latest = data.get("latest")
        return monitor_report(
            data["monitor"],
            data["deployment"],
            data["windows"],
            None if latest is None else DriftReport.from_dict(latest),
            max_points=max_points,
        )

    def save_json(self, path: str | Path) -> Path:
        """Write :meth:`to_json` atomically; returns the path written."""
        target = Path(path)
        write_text_atomic(target, self.to_json(indent=2) + "\n")
        return target

    def save_html(self, path: str | Path) -> Path:
        """Write one self-contained HTML file (inline CSS and SVG, no scripts, no links)."""
        target = Path(path)
        title = f"loopml monitor {self.monitor} on {self.deployment}"
        write_text_atomic(target, html_page(title, self._repr_html_()))
        return target

    def _repr_html_(self) -> str:
        """The report body, for Jupyter and for :meth:`save_html`."""
        return _render(self)


def monitor_report(
    monitor: str,
    deployment: str,
    windows: Sequence[Mapping[str, Any]],
    latest: DriftReport | None = None,
    *,
    max_points: int = 500,
) -> MonitorReport:
    """Check a monitor's window results and order them oldest first.

    Metric values must be numbers or ``None``; NaN and infinities become
    ``None`` (a gap), so the JSON stays strict. A ``DriftResult`` in ``drift``
    is stored as its ``to_dict()``. Raises ``InvalidArgument`` naming the
    window and the field when a window cannot be read.
    """
    for name, value in (("monitor", monitor), ("deployment", deployment)):
        if not isinstance(value, str) or not value:
            raise InvalidArgument(f"{name} must be a non-empty string, got {value!r}")
    if isinstance(windows, str | bytes) or not isinstance(windows, Sequence):
        raise InvalidArgument("windows must be a list of window result dicts, oldest first")
    if latest is not None and not isinstance(latest, DriftReport):
        raise InvalidArgument(
            f"latest must be a DriftReport (from drift_report) or None, got {type(latest).__name__}"
        )
    if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 4:
        raise InvalidArgument(f"max_points must be an integer >= 4, got {max_points!r}")
    checked = [_window(i, w) for i, w in enumerate(windows)]
    checked.sort(key=lambda w: (w["window_start"], w["window_end"]))
    return MonitorReport(monitor, deployment, tuple(checked), latest, max_points)


def _window(index: int, window: Any) -> dict[str, Any]:
    where = f"window {index}"
    if not isinstance(window, Mapping):
        raise InvalidArgument(f"{where} must be a dict, got {type(window).__name__}")
    out = dict(window)
    for key in ("window_start", "window_end"):
        value = window.get(key)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise InvalidArgument(f"{where}: {key} must be an integer (ms since epoch)")
        out[key] = int(value)  # numpy integers too, so the JSON stays plain
    if out["window_end"] < out["window_start"]:
        raise InvalidArgument(f"{where}: window_end is before window_start")
    if out.get("status") not in STATUSES:
        raise InvalidArgument(f"{where}: status must be one of {list(STATUSES)}")
    out["detail"] = str(out.get("detail") or "")
    metrics = window.get("metrics") or {}
    if not isinstance(metrics, Mapping):
        raise InvalidArgument(f"{where}: metrics must be a dict of name -> number or None")
    out["metrics"] = {str(k): _metric(v, f"{where}: metric {k!r}") for k, v in metrics.items()}
    found = window.get("drift")
    if isinstance(found, DriftResult):
        out["drift"] = found.to_dict()
    elif found is not None and not isinstance(found, Mapping):
        raise InvalidArgument(f"{where}: drift must be DriftResult.to_dict() or None")
    else:
        out["drift"] = None if found is None else dict(found)
    try:
        json.dumps(out, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"{where} is not JSON-able ({exc}); keep to plain values") from None
    return out


def _metric(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, numbers.Real):  # numpy numbers too; a bool flag reads as 0/1
        raise InvalidArgument(f"{where} must be a number or None, got {value!r}")
    number = float(value)
    return number if math.isfinite(number) else None


# --- series and down-sampling ------------------------------------------------------


def series(report: MonitorReport, key: str) -> list[float | None]:
    """One metric per window; ``None`` where missing or the window was not ``ok``."""
    return [w["metrics"].get(key) if w["status"] == "ok" else None for w in report.windows]


def downsample(
    times: Sequence[float], values: Sequence[float | None], max_points: int
) -> list[Segment]:
    """The line pieces to draw: split at gaps, at most ``max_points`` points in all.

    Long series keep the minimum and maximum of each bucket of windows, so
    spikes survive. If many short gaps would still exceed the budget, a gap only
    breaks the line where a whole bucket has no value.
    """
    if sum(v is not None for v in values) <= max_points:
        return _bucketed(times, values, len(values), split_gaps=True)
    buckets = max(1, max_points // 2)
    fine = _bucketed(times, values, buckets, split_gaps=True)
    if sum(len(s) for s in fine) <= max_points:
        return fine
    return _bucketed(times, values, buckets, split_gaps=False)


def _bucketed(
    times: Sequence[float], values: Sequence[float | None], buckets: int, *, split_gaps: bool
) -> list[Segment]:
    segments: list[Segment] = []
    current: Segment = []
    size = len(values)

    def keep(run: list[tuple[int, float]]) -> None:
        if run:
            low = min(run, key=lambda p: p[1])
            high = max(run, key=lambda p: p[1])
            current.extend((times[i], v) for i, v in sorted({low, high}))

    for bucket in range(min(buckets, size)):
        run: list[tuple[int, float]] = []
        for i in range(bucket * size // buckets, (bucket + 1) * size // buckets):
            value = values[i]
            if value is not None:
                run.append((i, value))
            elif split_gaps:
                keep(run)
                run = []
                if current:
                    segments.append(current)
                    current = []
        keep(run)
        if not split_gaps and not run and current:
            segments.append(current)
            current = []
    if current:
        segments.append(current)
    return segments


def flag_spans(
    flags: Sequence[bool], starts: Sequence[int], ends: Sequence[int], max_spans: int
) -> list[tuple[int, int]]:
    """Time spans of flagged windows, neighbours merged, in at most ``max_spans`` buckets."""
    size = len(flags)
    buckets = min(size, max_spans)
    spans: list[tuple[int, int]] = []
    last = -2  # the bucket the open span ends in
    for bucket in range(buckets):
        hit = [
            i for i in range(bucket * size // buckets, (bucket + 1) * size // buckets) if flags[i]
        ]
        if not hit:
            continue
        if last == bucket - 1:
            spans[-1] = (spans[-1][0], ends[hit[-1]])
        else:
            spans.append((starts[hit[0]], ends[hit[-1]]))
        last = bucket
    return spans


# --- HTML -------------------------------------------------------------------------

_CSS = """
.lm-monitor{font-family:system-ui,sans-serif;color:#222;max-width:980px}
.lm-monitor h2,.lm-monitor h3{margin:10px 0 4px}
.lm-monitor .badge{font-weight:bold;color:#b00020}
.lm-monitor table{border-collapse:collapse;font-size:13px}
.lm-monitor th,.lm-monitor td{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left}
.lm-monitor svg text{font-size:10px;fill:#444}
.lm-monitor polyline{fill:none;stroke:#2f5d8a;stroke-width:1.5}
.lm-monitor .lm-dot{stroke:#2f5d8a;stroke-width:4;stroke-linecap:round}
.lm-monitor .lm-mark{stroke:#b00020;stroke-width:7;stroke-linecap:round}
.lm-monitor .lm-threshold{stroke:#b00020;stroke-dasharray:4 3}
.lm-monitor .lm-flag,.lm-monitor .lm-error{fill:#d32f2f}.lm-monitor .lm-empty{fill:#bbb}
.lm-monitor .lm-grid{display:flex;flex-wrap:wrap;gap:6px 14px}
.lm-monitor .lm-grid h4{margin:2px 0;font-size:12px;font-weight:normal}
"""


@dataclass(frozen=True)
class _Frame:
    """Maps (time, value) onto one chart's pixels."""

    width: int
    height: int
    left: int
    top: int
    bottom: int
    t0: float
    t1: float
    lo: float
    hi: float

    def x(self, t: float) -> float:
        span = self.t1 - self.t0
        share = 0.5 if span <= 0 else (t - self.t0) / span
        return self.left + share * (self.width - self.left - 6)

    def y(self, value: float) -> float:
        share = (value - self.lo) / (self.hi - self.lo)
        return self.height - self.bottom - share * (self.height - self.top - self.bottom)


def _when(ms: float) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M")


def _value_range(
    segments: list[Segment], extra: Sequence[float | None] = ()
) -> tuple[float, float]:
    values = [v for s in segments for _, v in s] + [v for v in extra if v is not None]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if hi - lo < 1e-12:  # a flat line sits in the middle of the chart
        pad = abs(hi) * 0.1 or 0.5
        lo, hi = lo - pad, hi + pad
    return lo, hi


def _chart(
    label: str,
    frame: _Frame,
    segments: list[Segment],
    *,
    marks: Sequence[tuple[float, float]] = (),
    threshold: float | None = None,
    spans: Sequence[tuple[int, int]] = (),
    time_axis: bool = True,
) -> str:
    f = frame
    base = f.height - f.bottom
    out = [
        f'<svg width="{f.width}" height="{f.height}" viewBox="0 0 {f.width} {f.height}" '
        f'role="img" aria-label="{_esc(label)}"><title>{_esc(label)}</title>',
        f'<line x1="{f.left}" y1="{base}" x2="{f.width}" y2="{base}" stroke="#999"/>',
        f'<text x="{f.left - 4}" y="{f.top + 8}" text-anchor="end">{_num(f.hi, 3)}</text>',
        f'<text x="{f.left - 4}" y="{base}" text-anchor="end">{_num(f.lo, 3)}</text>',
    ]
    if threshold is not None and f.lo <= threshold <= f.hi:
        y = f.y(threshold)
        out.append(
            f'<line class="lm-threshold" x1="{f.left}" y1="{y:.1f}" x2="{f.width}" y2="{y:.1f}">'
            f"<title>threshold {_num(threshold)}</title></line>"
        )
    dots = []
    for segment in segments:
        points = [(f.x(t), f.y(v)) for t, v in segment]
        if len(points) == 1:  # a value between two gaps: a dot, not an invisible line
            dots.append(f"M{points[0][0]:.1f} {points[0][1]:.1f}h0")
        else:
            coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            out.append(f'<polyline points="{coords}"/>')
    if dots:
        out.append(f'<path class="lm-dot" d="{"".join(dots)}"/>')
    if marks:
        drawn = dict.fromkeys(f"M{f.x(t):.1f} {f.y(v):.1f}h0" for t, v in marks)
        out.append(f'<path class="lm-mark" d="{"".join(drawn)}"/>')
    if spans:
        out.append(_spans("lm-flag", f, spans, base + 3, 5))
    if time_axis:
        out.append(
            f'<text x="{f.left}" y="{f.height - 4}">{_when(f.t0)}</text>'
            f'<text x="{f.width}" y="{f.height - 4}" text-anchor="end">{_when(f.t1)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _spans(css: str, f: _Frame, spans: Sequence[tuple[int, int]], y: float, h: float) -> str:
    parts = []
    for start, end in spans:
        x0, x1 = f.x(start), f.x(end)
        parts.append(f"M{x0:.1f} {y:.1f}h{max(x1 - x0, 1.0):.1f}v{h:g}H{x0:.1f}z")
    return f'<path class="{css}" d="{"".join(parts)}"/>'


def _newest_drift(report: MonitorReport) -> tuple[float | None, dict[str, dict[str, Any]]]:
    """The dataset threshold and, per column, the newest method and threshold used."""
    share: float | None = None
    columns: dict[str, dict[str, Any]] = {}
    for window in reversed(report.windows):
        found = window.get("drift")
        if not isinstance(found, Mapping):
            continue
        if share is None and isinstance(found.get("drift_share"), int | float):
            share = float(found["drift_share"])
        for name, col in (found.get("columns") or {}).items():
            if name not in columns and isinstance(col, Mapping) and col.get("method"):
                columns[name] = dict(col)
    return share, columns


@dataclass(frozen=True)
class _Axis:
    """The shared time axis of every chart in one report."""

    times: list[float]  # window midpoints, where each value is drawn
    starts: list[int]
    ends: list[int]

    def frame(self, width: int, height: int, left: int, lo: float, hi: float) -> _Frame:
        bottom = 24 if height > 100 else 14
        return _Frame(width, height, left, 6, bottom, self.starts[0], self.ends[-1], lo, hi)


def _flags(values: Sequence[float | None]) -> list[bool]:
    return [v is not None and v >= 0.5 for v in values]


def _render(report: MonitorReport) -> str:
    windows = report.windows
    head = (
        f'<div class="lm-monitor"><style>{_CSS}</style>'
        f"<h2>loopml monitor {_esc(report.monitor)}</h2>"
    )
    if not windows:
        return f"{head}<p>deployment {_esc(report.deployment)}: no windows yet.</p></div>"
    axis = _Axis(
        times=[(w["window_start"] + w["window_end"]) / 2 for w in windows],
        starts=[w["window_start"] for w in windows],
        ends=[w["window_end"] for w in windows],
    )
    drifted = _flags(series(report, "dataset_drift"))
    counts = {s: sum(w["status"] == s for w in windows) for s in STATUSES}
    body = [
        head,
        f"<p>deployment <b>{_esc(report.deployment)}</b>, {_when(axis.starts[0])} to "
        f"{_when(axis.ends[-1])} UTC; {len(windows)} windows ({counts['ok']} ok, "
        f"{counts['empty']} empty, {counts['error']} failed); "
        f'<span class="{"badge" if any(drifted) else ""}">{sum(drifted)} with dataset drift'
        "</span>.</p>",
    ]
    if counts["ok"] < len(windows):
        body.append(_status_strip(report, axis))
    share_threshold, column_info = _newest_drift(report)
    for key in ("drift_share", *PERFORMANCE, *SERVING):
        values = series(report, key)
        if any(v is not None for v in values):
            body.append(_metric_chart(report, axis, key, values, drifted, share_threshold))
    body.append(_columns(report, axis, column_info))
    body.append(_not_evaluated(windows))
    if report.latest is not None:
        body.append(f"<h3>Newest window vs reference</h3>{report.latest._repr_html_()}")
    body.append("</div>")
    return "".join(body)


def _status_strip(report: MonitorReport, axis: _Axis) -> str:
    frame = axis.frame(720, 24, 56, 0.0, 1.0)
    strips = [
        _spans(
            f"lm-{status}",
            frame,
            flag_spans(
                [w["status"] == status for w in report.windows],
                axis.starts,
                axis.ends,
                report.max_points,
            ),
            4,
            14,
        )
        for status in ("empty", "error")
    ]
    return (
        '<svg width="720" height="24" role="img" aria-label="window status">'
        "<title>empty (grey) and failed (red) windows</title>"
        f'{"".join(strips)}<text x="0" y="15">status</text></svg>'
    )


def _metric_chart(
    report: MonitorReport,
    axis: _Axis,
    key: str,
    values: list[float | None],
    drifted: list[bool],
    share_threshold: float | None,
) -> str:
    segments = downsample(axis.times, values, report.max_points)
    if key == "drift_share":  # a share: always 0..1, dataset-drift windows marked in red
        frame = axis.frame(720, 150, 56, 0.0, 1.0)
        marks = [
            (t, 1.0 if v is None else v)
            for t, v, hit in zip(axis.times, values, drifted, strict=True)
            if hit
        ]
        chart = _chart(key, frame, segments, marks=marks, threshold=share_threshold)
    else:
        frame = axis.frame(720, 150, 56, *_value_range(segments))
        chart = _chart(key, frame, segments)
    return (
        f'<section class="lm-metric" data-metric="{_esc(key)}">'
        f"<h3>{_esc(key)}</h3>{chart}</section>"
    )


def _column_names(report: MonitorReport) -> list[str]:
    keys: dict[str, None] = {}
    for window in report.windows:
        keys.update(dict.fromkeys(window["metrics"]))
    names: dict[str, None] = {}
    for key in keys:
        for prefix in (DRIFT_SCORE, DRIFT_FLAG):
            if key.startswith(prefix):
                names.setdefault(key[len(prefix) :])
    return list(names)


def _columns(report: MonitorReport, axis: _Axis, info: dict[str, dict[str, Any]]) -> str:
    """One small chart per column: drift score over time, drifted windows in red below."""
    names = _column_names(report)
    if not names:
        return ""
    drifted = {name: _flags(series(report, DRIFT_FLAG + name)) for name in names}
    names.sort(key=lambda n: -sum(drifted[n]))  # most often drifted first (stable)
    charts = []
    for name in names:
        segments = downsample(axis.times, series(report, DRIFT_SCORE + name), report.max_points)
        col = info.get(name, {})
        threshold = col.get("threshold") if isinstance(col.get("threshold"), int | float) else None
        test = STATTESTS.get(str(col.get("method")))
        how = ""
        if test is not None and threshold is not None:
            how = f"{test.name}: drift {'below' if test.is_p_value else 'at or above'} "
            how += f"{_num(threshold)}; "
        frame = axis.frame(340, 86, 40, *_value_range(segments, (0.0, threshold)))
        spans = flag_spans(drifted[name], axis.starts, axis.ends, report.max_points)
        chart = _chart(
            f"drift score of {name}",
            frame,
            segments,
            threshold=threshold,
            spans=spans,
            time_axis=False,
        )
        charts.append(
            f'<figure class="lm-column" data-column="{_esc(name)}" style="margin:0">'
            f"<h4><b>{_esc(name)}</b> {_esc(how)}drifted in {sum(drifted[name])} of "
            f"{len(report.windows)} windows</h4>{chart}</figure>"
        )
    return (
        "<h3>Drift score per column</h3><p>Line: the column's test score per window; "
        'red bars below: windows where the column drifted.</p><div class="lm-grid">'
        f"{''.join(charts)}</div>"
    )


def _not_evaluated(windows: Sequence[dict[str, Any]]) -> str:
    failed = [w for w in reversed(windows) if w["status"] != "ok"][:MAX_LISTED]
    if not failed:
        return ""
    rows = "".join(
        f"<tr><td>{_when(w['window_start'])}</td><td>{_esc(w['status'])}</td>"
        f"<td>{_esc(w['detail'])}</td></tr>"
        for w in failed
    )
    return (
        f"<h3>Windows not evaluated (newest {len(failed)})</h3><table><thead><tr>"
        "<th>window start (UTC)</th><th>status</th><th>detail</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
