"""Time-series charts of the report: one SVG drawn from NumPy, events shaded.

The chart is vector (sharp on screen and on paper), inline in ``report.html`` and printed
to the PDF by WeasyPrint like the rest of the page. It needs no plotting library: the
panels are worked out as data (:func:`chart_panels`) and written as SVG elements
(:func:`time_series_svg`). Drawn with matplotlib before, importing it and rendering the
figure took about 1.4 s of a cached re-analysis (December 2026, 2 shared cores).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

import numpy as np
import numpy.typing as npt
import pandas as pd

#: Axes span at least +/- this many degrees, so noise around zero is not magnified.
MIN_HALF_RANGE_DEG = 5.0
#: Share of the data's range added above and below it.
Y_MARGIN = 0.05
#: Chart width and margins in CSS pixels: left (tick labels), right, top, bottom (x label).
WIDTH_PX = 760.0
MARGINS_PX = (48.0, 12.0, 24.0, 46.0)
#: Height of one panel's plot area and the gap above each later panel (its title).
PANEL_PX = 140.0
PANEL_GAP_PX = 30.0
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"

SIDE_COLOURS = {"left": "#1f77b4", "right": "#e6781e"}
WHOLE_BODY_COLOUR = "#333333"
OTHER_EVENT_COLOUR = "#888888"

#: Panels: title, and (column, label, side colour or None) per line.
PANELS: tuple[tuple[str, tuple[tuple[str, str, str | None], ...]], ...] = (
    (
        "Pelvic obliquity (deg, + = left hip lower)",
        (("pelvic_obliquity_deg", "pelvic obliquity", None),),
    ),
    (
        "Knee FPPA (deg, + = valgus)",
        (
            ("left_knee_fppa_deg", "left", "left"),
            ("right_knee_fppa_deg", "right", "right"),
        ),
    ),
    (
        "Hip adduction (deg)",
        (
            ("left_hip_adduction_deg", "left", "left"),
            ("right_hip_adduction_deg", "right", "right"),
        ),
    ),
    ("Trunk lean (deg, + = toward left)", (("trunk_lean_deg", "trunk lean", None),)),
)

X_LABEL = (
    "time (s)   shaded: stance phases / repetitions (blue left, orange right); "
    "a leg's angles are drawn while it is in stance"
)

FloatArray = npt.NDArray[np.float64]
Scale = Callable[[FloatArray], FloatArray]


@dataclass(frozen=True)
class Series:
    """One line of a panel: a frame column in degrees, NaN where it is not drawn."""

    column: str
    label: str
    colour: str
    values_deg: FloatArray


@dataclass(frozen=True)
class Panel:
    """One panel of the chart: its lines (only those with a finite value) and y range."""

    title: str
    series: tuple[Series, ...]
    y_range_deg: tuple[float, float]
    legend: bool


def chart_panels(frames: pd.DataFrame) -> list[Panel]:
    """The chart's panels for a frames table: which lines, which y range.

    A leg's angles (knee FPPA, hip adduction) are kept only while that leg is in
    stance; a line with no finite value (e.g. the free leg of a single-leg squat) is left
    out, and a panel none of whose columns is in the table is left out.

    Parameters
    ----------
    frames
        The per-frame table (spec columns).

    Returns
    -------
    list of Panel
        In the order of :data:`PANELS`.

    Notes
    -----
    The y range is the drawn values' range widened by :data:`Y_MARGIN` on each side and
    to at least +/- :data:`MIN_HALF_RANGE_DEG`, so noise around zero is not magnified.
    """
    panels = []
    for title, lines in PANELS:
        present = [line for line in lines if line[0] in frames]
        if not present:
            continue
        series = []
        for column, label, side in present:
            values = _in_stance_only(frames, column, side)
            if np.isfinite(values).any():
                colour = SIDE_COLOURS[side] if side else WHOLE_BODY_COLOUR
                series.append(Series(column, label, colour, values))
        panels.append(
            Panel(title, tuple(series), _y_range(series), legend=len(present) > 1 and bool(series))
        )
    return panels


def time_series_svg(frames: pd.DataFrame, events: pd.DataFrame | None) -> str:
    """Stacked time series of the frame angles as an SVG element, events shaded by side.

    Parameters
    ----------
    frames
        The per-frame table (spec columns); missing columns are skipped.
    events
        The events table; each event's span is shaded in its side's colour, its peak
        marked with a thin line.

    Returns
    -------
    str
        An ``<svg>`` element (UTF-8 text) for inline use in HTML; each panel is a ``<g
        class="panel">`` holding one ``<path class="series">`` per drawn line (a gap where
        the values are missing) and one ``<rect class="event">`` per event.
    """
    panels = chart_panels(frames)
    t = frames["time_s"].to_numpy(float) if "time_s" in frames else np.zeros(0)
    x_range = _x_range(t)
    left, right, top, bottom = MARGINS_PX
    plot_w = WIDTH_PX - left - right
    height = top + bottom + len(panels) * PANEL_PX + max(len(panels) - 1, 0) * PANEL_GAP_PX
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeseries" width="{WIDTH_PX:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {WIDTH_PX:.0f} {height:.0f}" role="img" '
        f'aria-label="Time series of the frame angles with events shaded" '
        f'font-family="{FONT}" font-size="11">'
    ]
    x_ticks = _ticks(*x_range, target=6)
    for k, panel in enumerate(panels):
        y0 = top + k * (PANEL_PX + PANEL_GAP_PX)
        box = (left, y0, plot_w, PANEL_PX)
        parts.append(_panel_svg(panel, t, events, box, x_range, x_ticks, last=k == len(panels) - 1))
    if not panels:
        parts.append(f'<text x="{left:.0f}" y="{top:.0f}">No frame angles to draw.</text>')
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 8:.1f}" text-anchor="middle">'
        f"{escape(X_LABEL)}</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _panel_svg(
    panel: Panel,
    t: FloatArray,
    events: pd.DataFrame | None,
    box: tuple[float, float, float, float],
    x_range: tuple[float, float],
    x_ticks: list[float],
    *,
    last: bool,
) -> str:
    x0, y0, w, h = box
    lo, hi = panel.y_range_deg

    def sx(x: FloatArray) -> FloatArray:
        return x0 + (x - x_range[0]) / (x_range[1] - x_range[0]) * w

    def sy(y: FloatArray) -> FloatArray:
        return y0 + h - (y - lo) / (hi - lo) * h

    out = [
        f'<g class="panel" data-title="{escape(panel.title)}" '
        f'data-y-range="{lo:.3f} {hi:.3f}" data-plot-box="{x0:.1f} {y0:.1f} {w:.1f} {h:.1f}">',
        f'<text x="{x0:.1f}" y="{y0 - 7:.1f}" font-size="12">{escape(panel.title)}</text>',
    ]
    out += _event_svg(events, sx, (y0, h), x_range)
    for tick in _ticks(lo, hi, target=5):
        y = float(sy(np.array(tick)))
        out.append(
            f'<line x1="{x0:.1f}" x2="{x0 + w:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#000" stroke-opacity="0.12" stroke-width="0.5"/>'
        )
        out.append(
            f'<text x="{x0 - 4:.1f}" y="{y + 4:.1f}" text-anchor="end">{_tick_label(tick)}</text>'
        )
    for tick in x_ticks:
        x = float(sx(np.array(tick)))
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y0:.1f}" y2="{y0 + h:.1f}" '
            'stroke="#000" stroke-opacity="0.12" stroke-width="0.5"/>'
        )
        if last:
            out.append(
                f'<text x="{x:.1f}" y="{y0 + h + 14:.1f}" text-anchor="middle">'
                f"{_tick_label(tick)}</text>"
            )
    zero = float(sy(np.array(0.0)))
    out.append(
        f'<line x1="{x0:.1f}" x2="{x0 + w:.1f}" y1="{zero:.1f}" y2="{zero:.1f}" '
        'stroke="#999999" stroke-width="0.7"/>'
    )
    for series in panel.series:
        out.append(
            f'<path class="series" data-column="{series.column}" '
            f'data-label="{escape(series.label)}" fill="none" stroke="{series.colour}" '
            f'stroke-width="1.4" stroke-linejoin="round" '
            f'd="{_path_data(sx(t), sy(series.values_deg))}"/>'
        )
    out.append(
        f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{w:.1f}" height="{h:.1f}" fill="none" '
        'stroke="#444" stroke-width="0.8"/>'
    )
    if panel.legend:
        out += _legend_svg(panel.series, x0 + w, y0)
    out.append("</g>")
    return "\n".join(out)


def _event_svg(
    events: pd.DataFrame | None,
    sx: Scale,
    y_extent: tuple[float, float],
    x_range: tuple[float, float],
) -> list[str]:
    """Each event's span shaded in its side's colour and its peak marked."""
    if events is None or len(events) == 0:
        return []
    y0, h = y_extent
    out = []
    starts = np.clip(events["t_start_s"].to_numpy(float), *x_range)
    ends = np.clip(events["t_end_s"].to_numpy(float), *x_range)
    peaks = events["t_peak_s"].to_numpy(float)
    for start, end, peak, side in zip(starts, ends, peaks, events["side"].tolist(), strict=True):
        colour = SIDE_COLOURS.get(str(side), OTHER_EVENT_COLOUR)
        if np.isfinite(start) and np.isfinite(end) and end > start:
            xa, xb = float(sx(np.array(start))), float(sx(np.array(end)))
            out.append(
                f'<rect class="event" data-side="{escape(str(side))}" x="{xa:.1f}" '
                f'y="{y0:.1f}" width="{xb - xa:.1f}" height="{h:.1f}" fill="{colour}" '
                'fill-opacity="0.12"/>'
            )
        if np.isfinite(peak) and x_range[0] <= peak <= x_range[1]:
            xp = float(sx(np.array(peak)))
            out.append(
                f'<line class="peak" x1="{xp:.1f}" x2="{xp:.1f}" y1="{y0:.1f}" '
                f'y2="{y0 + h:.1f}" stroke="{colour}" stroke-opacity="0.6" stroke-width="0.5"/>'
            )
    return out


def _legend_svg(series: tuple[Series, ...], x_right: float, y_top: float) -> list[str]:
    """A frameless legend in the panel's upper right corner, one entry per drawn line."""
    out = []
    x = x_right - 8.0
    for line in reversed(series):
        text_w = 6.5 * len(line.label)
        x -= text_w
        out.append(
            f'<text x="{x:.1f}" y="{y_top + 13:.1f}" font-size="10">{escape(line.label)}</text>'
        )
        out.append(
            f'<line x1="{x - 22:.1f}" x2="{x - 4:.1f}" y1="{y_top + 10:.1f}" '
            f'y2="{y_top + 10:.1f}" stroke="{line.colour}" stroke-width="1.4"/>'
        )
        x -= 34.0
    return out


def _path_data(x: FloatArray, y: FloatArray) -> str:
    """SVG path data through the points with both coordinates finite; a gap at each
    missing value (a run of one finite point draws nothing, as no line has one point)."""
    finite = np.isfinite(x) & np.isfinite(y)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], finite.astype(np.int8), [0]))))
    runs = []
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        if stop - start < 2:
            continue
        points = [f"{a:.1f},{b:.1f}" for a, b in zip(x[start:stop], y[start:stop], strict=True)]
        runs.append(f"M{points[0]}L" + " ".join(points[1:]))
    return "".join(runs)


def _in_stance_only(frames: pd.DataFrame, column: str, side: str | None) -> FloatArray:
    """A leg's series where that leg is in stance (its frontal-plane angles mean nothing
    for a knee flexed in the air); whole-body series as they are."""
    values = frames[column].to_numpy(float)
    flag = f"{side}_in_stance"
    if side is None or flag not in frames:
        return values
    return np.where(frames[flag].to_numpy() > 0, values, np.nan)


def _y_range(series: list[Series]) -> tuple[float, float]:
    drawn = [s.values_deg[np.isfinite(s.values_deg)] for s in series]
    values = np.concatenate(drawn) if drawn else np.zeros(0)
    if values.size:
        low, high = float(values.min()), float(values.max())
        pad = Y_MARGIN * (high - low)
        low, high = low - pad, high + pad
    else:
        low = high = 0.0
    return min(low, -MIN_HALF_RANGE_DEG), max(high, MIN_HALF_RANGE_DEG)


def _x_range(t: FloatArray) -> tuple[float, float]:
    finite = t[np.isfinite(t)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    return (low, high) if high > low else (low, low + 1.0)


def _ticks(low: float, high: float, target: int) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten apart) inside [low, high]."""
    raw = (high - low) / max(target, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [k * step for k in range(first, last + 1)]


def _tick_label(value: float) -> str:
    """A tick value without trailing zeros; a minus sign, not a hyphen."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    text = "0" if text in ("-0", "") else text
    return text.replace("-", "\u2212")
