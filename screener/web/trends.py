"""A patient's metrics across visits, and their trend charts with the smallest detectable change.

For each task and metric the chart shows each side's per-visit mean (one point per
visit with a finished analysis of that task; of several takes only the best by recording
quality, :func:`screener.visit.choose_takes`) and shades the band of ± SDC around the
first visit's value: a later point outside the band is a change larger than measurement
noise (drawn filled); a point inside it is not (drawn hollow).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import io
import logging
import math
from dataclasses import dataclass, field
from typing import Any

from screener.tasks import get_task, task_names
from screener.web import services
from screener.web.models import Patient
from screener.web.settings import WebSettings

log = logging.getLogger(__name__)

SIDES = ("left", "right")
SIDE_COLOURS = {"left": "#1f6fb2", "right": "#c2571a"}


@dataclass(frozen=True)
class MetricInfo:
    """Label, unit and smallest detectable change of a metric in a task."""

    label: str
    unit: str
    sdc: float | None
    sdc_source: str


@dataclass
class TrendSeries:
    """One metric of one task across visits, per side."""

    task: str
    metric: str
    info: MetricInfo
    points: dict[str, list[tuple[dt.date, float]]] = field(default_factory=dict)

    def baseline(self, side: str) -> float | None:
        """The first visit's value of a side."""
        pts = self.points.get(side) or []
        return pts[0][1] if pts else None

    def change(self, side: str) -> float | None:
        """Latest minus first value of a side (None with fewer than two visits)."""
        pts = self.points.get(side) or []
        return pts[-1][1] - pts[0][1] if len(pts) >= 2 else None

    def exceeds_sdc(self, side: str) -> bool | None:
        """Whether the latest change is larger than the SDC (None if unknown)."""
        change = self.change(side)
        if change is None or self.info.sdc is None:
            return None
        return abs(change) > self.info.sdc


@functools.lru_cache(maxsize=4)
def _norms_metrics(norms_path: str) -> dict[tuple[str, str], MetricInfo]:
    from screener.norms import load_norms

    norms = load_norms(norms_path)
    out: dict[tuple[str, str], MetricInfo] = {}
    for task, tnorm in norms.tasks.items():
        for metric, mnorm in tnorm.metrics.items():
            out[(task, metric)] = MetricInfo(
                label=mnorm.label,
                unit=mnorm.unit,
                sdc=mnorm.sdc,
                sdc_source=norms.cite(mnorm.sdc_source),
            )
    return out


def metric_infos() -> dict[tuple[str, str], MetricInfo]:
    """Label, unit and SDC of every (task, metric) in the bundled norms file.

    Notes
    -----
    The one place that reads the norms for the charts: the SDC is the norms file's
    ``sdc`` of the metric in that task (``screener/models/norms.toml``), with its source.
    """
    from screener.config import AnalysisConfig

    return _norms_metrics(str(AnalysisConfig().norms_path))


def collect_trends(settings: WebSettings, patient: Patient) -> list[TrendSeries]:
    """Every metric with at least one value, per task, across the patient's visits.

    Returns
    -------
    list of TrendSeries
        Ordered by task (walk, single-leg squat, jog) then by the norms file's metric order.
    """
    from screener.config import AnalysisConfig
    from screener.faults import hidden_metrics
    from screener.norms import load_norms
    from screener.visit import choose_takes

    infos = metric_infos()
    norms = load_norms(AnalysisConfig().norms_path)
    series: dict[tuple[str, str], TrendSeries] = {}
    for visit in patient.visits:
        takes = []
        for rec in visit.recordings:
            summary = services.read_summary(settings, rec)
            if summary:
                takes.append((str(rec.id), summary))
        chosen, _ = choose_takes(takes, norms)  # retakes are left out, never averaged in
        for _, kept in chosen.values():
            task = str(kept.get("task", ""))
            not_shown = hidden_metrics(kept)
            for side in SIDES:
                stats = (kept.get("sides") or {}).get(side) or {}
                for metric, values in stats.items():
                    if (task, metric) not in infos or not isinstance(values, dict):
                        continue
                    if metric in not_shown:
                        continue
                    mean = _finite(values.get("mean"))
                    if mean is None:
                        continue
                    s = series.setdefault(
                        (task, metric), TrendSeries(task, metric, infos[(task, metric)])
                    )
                    s.points.setdefault(side, []).append((visit.visit_date, mean))
    order = {key: i for i, key in enumerate(infos)}
    return sorted(series.values(), key=lambda s: order[(s.task, s.metric)])


def _finite(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def render_svg(series: TrendSeries) -> str:
    """The trend chart of one series as an SVG ``data:`` URI (for an ``<img>``)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.dates import date2num
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.2, 2.6))
    ax = fig.add_subplot()
    unit = "°" if series.info.unit == "deg" else f" {series.info.unit}"
    sdc = series.info.sdc
    dates_all: list[float] = []
    for side in SIDES:
        pts = series.points.get(side) or []
        if not pts:
            continue
        dates = [float(date2num(p[0])) for p in pts]
        values = [p[1] for p in pts]
        dates_all += dates
        colour = SIDE_COLOURS[side]
        base = values[0]
        if sdc is not None:
            ax.axhspan(base - sdc, base + sdc, color=colour, alpha=0.12, lw=0)
            ax.axhline(base, color=colour, lw=0.8, ls=":")
        ax.plot(dates, values, color=colour, lw=1.5, label=side)
        for day, value in zip(dates, values, strict=True):
            beyond = sdc is not None and abs(value - base) > sdc
            ax.plot(
                [day],
                [value],
                marker="o",
                ms=6,
                color=colour,
                mfc=colour if beyond else "white",
            )
    label = get_task(series.task).label if series.task in task_names() else series.task
    title = f"{label}: {series.info.label}"
    ax.set_title(title, fontsize=9, loc="left")
    ax.set_ylabel(series.info.unit if series.info.unit != "deg" else "degrees", fontsize=8)
    ax.tick_params(labelsize=7)
    if len(set(dates_all)) <= 1 and dates_all:
        ax.set_xticks([dates_all[0]])
    ax.xaxis_date()
    fig.autofmt_xdate()
    note = (
        f"band: first visit ± SDC {sdc:g}{unit}; filled = change > SDC"
        if sdc is not None
        else "no SDC in the norms file"
    )
    ax.legend(fontsize=7, loc="upper left", frameon=False, title=note, title_fontsize=6.5)
    ax.grid(alpha=0.25)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


def pain_trend_svg(visits: list[Any]) -> str | None:
    """Running pain and pain at rest across visits, with the protocol's goal line (SVG URI).

    Returns None when no visit has a pain answer.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.dates import date2num
    from matplotlib.figure import Figure

    from screener.config import AnalysisConfig
    from screener.plan import load_protocol

    running = [(v.visit_date, v.pain) for v in visits if v.pain is not None]
    rest = [(v.visit_date, v.rest_pain) for v in visits if v.rest_pain is not None]
    if not running and not rest:
        return None
    goal = load_protocol(AnalysisConfig().plan_path).pain_gate.goal_max_pain
    fig = Figure(figsize=(5.2, 2.4))
    ax = fig.add_subplot()
    for points, label, colour in (
        (running, "worst pain, running", "#c0392b"),
        (rest, "pain at rest", "#7f8c8d"),
    ):
        if points:
            days = [float(date2num(d)) for d, _ in points]
            ax.plot(days, [p for _, p in points], marker="o", color=colour, label=label)
    ax.axhline(goal, color="#27ae60", ls="--", lw=1, label=f"goal ≤ {goal:g}/10")
    ax.set_ylim(0, 10.3)
    ax.set_ylabel("pain 0-10", fontsize=8)
    ax.set_title("Lateral knee pain across visits", fontsize=9, loc="left")
    ax.tick_params(labelsize=7)
    ax.xaxis_date()
    fig.autofmt_xdate()
    ax.legend(fontsize=7, loc="upper right", frameon=False)
    ax.grid(alpha=0.25)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()
