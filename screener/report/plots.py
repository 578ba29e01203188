"""Time-series charts of the report (matplotlib, Agg backend), with events shaded."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

#: Axes span at least +/- this many degrees, so noise around zero is not magnified.
MIN_HALF_RANGE_DEG = 5.0

SIDE_COLOURS = {"left": "#1f77b4", "right": "#e6781e"}

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


def time_series_figure(
    frames: pd.DataFrame, events: pd.DataFrame, *, width_in: float = 7.5
) -> Figure:
    """Stacked time series of the frame angles with each event shaded by stance side.

    A leg's angles (knee FPPA, hip adduction) are drawn only while
    that leg is in stance.

    Parameters
    ----------
    frames
        The per-frame table (spec columns); missing columns are skipped.
    events
        The events table; each event's span is shaded, its peak marked.
    width_in
        Figure width in inches (height follows the number of panels).

    Returns
    -------
    Figure
        A matplotlib figure (the caller saves and closes it).
    """
    panels = [(t, [ln for ln in lines if ln[0] in frames]) for t, lines in PANELS]
    panels = [(t, lines) for t, lines in panels if lines]
    fig = Figure(figsize=(width_in, 1.7 * len(panels) + 0.8))
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)
    t = frames["time_s"].to_numpy(float)
    for ax, (title, lines) in zip(axes[:, 0], panels, strict=True):
        _shade_events(ax, events)
        for column, label, side in lines:
            colour = SIDE_COLOURS[side] if side else "#333333"
            values = _in_stance_only(frames, column, side)
            if not np.isfinite(values).any():
                continue  # e.g. the free leg of a single-leg squat
            ax.plot(t, values, color=colour, lw=1.3, label=label)
        ax.axhline(0.0, color="#999999", lw=0.6)
        low, high = ax.get_ylim()
        ax.set_ylim(min(low, -MIN_HALF_RANGE_DEG), max(high, MIN_HALF_RANGE_DEG))
        ax.set_title(title, fontsize=9, loc="left")
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3, lw=0.5)
        if len(lines) > 1:
            ax.legend(fontsize=7, loc="upper right", frameon=False, ncol=2)
    axes[-1, 0].set_xlabel(
        "time (s)   shaded: stance phases / repetitions (blue left, orange right); "
        "a leg's angles are drawn while it is in stance",
        fontsize=8,
    )
    fig.tight_layout()
    return fig


def _in_stance_only(frames: pd.DataFrame, column: str, side: str | None) -> np.ndarray:
    """A leg's series where that leg is in stance (its frontal-plane angles mean nothing
    for a knee flexed in the air); whole-body series as they are."""
    values = frames[column].to_numpy(float)
    flag = f"{side}_in_stance"
    if side is None or flag not in frames:
        return values
    return np.where(frames[flag].to_numpy() > 0, values, np.nan)


def _shade_events(ax: Axes, events: pd.DataFrame) -> None:
    if events is None or len(events) == 0:
        return
    starts = events["t_start_s"].to_numpy(float)
    ends = events["t_end_s"].to_numpy(float)
    peaks = events["t_peak_s"].to_numpy(float)
    sides = [str(s) for s in events["side"].tolist()]
    for side, t0, t1, tp in zip(sides, starts, ends, peaks, strict=True):
        colour = SIDE_COLOURS.get(side, "#888888")
        ax.axvspan(t0, t1, color=colour, alpha=0.12, lw=0)
        if np.isfinite(tp):
            ax.axvline(tp, color=colour, lw=0.5, alpha=0.6)


def figure_png(fig: Figure, dpi: int = 110) -> bytes:
    """Render a figure to PNG bytes (pyplot-free figures need no closing)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
