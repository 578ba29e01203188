"""Calibrations of MediaPipe's systematic errors, fitted on rendered clips.

MediaPipe reads pelvic drop and hip adduction low: its hip landmarks follow the pelvis'
surface, not the hip joint centres, and in a squat they follow the flexing thigh. A
correction maps a per-frame angle (``level = "frame"``) or an event's value (``level =
"event"``: the peak of a stance phase or the deepest point of a repetition) to
``offset_deg + gain * measured``, per task and optionally per view (a table named
``"TASK.VIEW"`` overrides the task's own), with figures fitted on one corpus of rendered
bodies and cameras and chosen on another (``bench/calibrate.py``). The figures live in
``screener/models/corrections.toml`` with where they come from.

Each entry has a ``status``: ``"verified"`` entries were also checked on real video and
are applied by default; ``"renders_only"`` entries are applied only when
:attr:`screener.config.AnalysisConfig.corrections_include_unverified` is set (research).
:attr:`screener.config.AnalysisConfig.corrections_path` set to None turns every
correction off. The uncorrected values are kept beside the corrected ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from screener.errors import ConfigError
from screener.fileio import cached_by_file, read_toml_model
from screener.landmarks import SIDES

#: Metrics a correction may apply to, with the frame columns each covers.
CORRECTABLE: dict[str, tuple[str, ...]] = {
    "pelvic_obliquity_deg": ("pelvic_obliquity_deg",),
    "knee_fppa_deg": tuple(f"{s}_knee_fppa_deg" for s in SIDES),
    "hip_adduction_deg": tuple(f"{s}_hip_adduction_deg" for s in SIDES),
}
#: Event values a correction may apply to (``level = "event"``).
EVENT_CORRECTABLE: tuple[str, ...] = ("pelvic_drop_deg", "knee_fppa_deg", "hip_adduction_deg")
SUPPORTED_SCHEMA_VERSIONS: tuple[int, ...] = (1, 2)
#: Views a ``"TASK.VIEW"`` table may name.
VIEWS: tuple[str, ...] = ("anterior", "posterior")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Correction(_Strict):
    """``corrected = offset_deg + gain * measured`` for one metric of one task."""

    level: Literal["frame", "event"] = "frame"
    gain: float = Field(gt=0.2, lt=5.0)
    offset_deg: float = Field(ge=-15.0, le=15.0)
    fitted_on: str = Field(min_length=3, description="Which clips the figures come from.")
    n_frames: int = Field(ge=10)
    fit_rmse_before_deg: float = Field(ge=0.0)
    fit_rmse_after_deg: float = Field(ge=0.0)
    validated_on: str = ""
    validation_rmse_before_deg: float | None = None
    validation_rmse_after_deg: float | None = None
    status: Literal["verified", "renders_only"] = Field(
        "verified",
        description="verified: also checked on real video, applied by default; "
        "renders_only: applied only on request (research).",
    )
    real_video_check: str = ""


class Corrections(_Strict):
    """The corrections file: ``tasks.TASK.METRIC`` tables."""

    schema_version: int
    method: str = Field(min_length=10)
    tasks: dict[str, dict[str, Correction]]

    def for_task(
        self, task: str, view: str | None = None, include_unverified: bool = False
    ) -> dict[str, Correction]:
        """The corrections of one task and view (empty when there are none).

        A ``"TASK.VIEW"`` table's entries replace the task's own for that metric;
        ``renders_only`` entries are left out unless ``include_unverified``.
        """
        merged = dict(self.tasks.get(task, {}))
        if view is not None:
            merged.update(self.tasks.get(f"{task}.{view}", {}))
        return {
            metric: corr
            for metric, corr in merged.items()
            if include_unverified or corr.status == "verified"
        }


@cached_by_file
def load_corrections(path: Path) -> Corrections:
    """Read and validate a corrections file.

    Raises
    ------
    ConfigError
        The file is missing, not TOML, of an unknown schema version, names a metric
        that cannot be corrected, or has a value out of range.
    """
    corrections = read_toml_model(path, Corrections, "corrections file")
    if corrections.schema_version not in SUPPORTED_SCHEMA_VERSIONS:
        raise ConfigError(
            f"{path}: schema_version {corrections.schema_version} is not supported "
            f"(this screener reads {SUPPORTED_SCHEMA_VERSIONS})"
        )
    for task, metrics in corrections.tasks.items():
        if "." in task and task.split(".", 1)[1] not in VIEWS:
            raise ConfigError(
                f"{path}: tasks.{task}: a view-specific table is named TASK.VIEW with VIEW "
                f"one of {list(VIEWS)}"
            )
        for metric, corr in metrics.items():
            known = CORRECTABLE if corr.level == "frame" else EVENT_CORRECTABLE
            if metric not in known:
                raise ConfigError(
                    f"{path}: tasks.{task}.{metric}: cannot be corrected at {corr.level} level "
                    f"(known: {sorted(known)})"
                )
    return corrections


def apply_corrections(
    frames: pd.DataFrame,
    task: str,
    corrections: Corrections | None,
    view: str | None = None,
    include_unverified: bool = False,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Correct a task's per-frame angles, keeping the measured ones.

    Parameters
    ----------
    frames
        Per-frame angles (:func:`screener.angles.compute_frame_angles` columns).
    task
        ``walk``, ``sls`` or ``jog``.
    corrections
        Loaded corrections, or None for none.
    view, include_unverified
        See :meth:`Corrections.for_task`.

    Returns
    -------
    frames
        A copy: each corrected column holds ``offset + gain * measured`` and the measured
        value moves to ``{column without _deg}_uncorrected_deg``.
    applied
        One record per corrected metric (gain, offset, where the figures come from), for
        the provenance.

    Notes
    -----
    A pelvic obliquity correction has no offset by symmetry (left and right drop alike);
    the file's loader does not enforce it, the fitting script does.
    """
    return _apply(frames, task, corrections, "frame", view, include_unverified)


def apply_event_corrections(
    events: pd.DataFrame,
    task: str,
    corrections: Corrections | None,
    view: str | None = None,
    include_unverified: bool = False,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Correct a task's event values (``level = "event"``), keeping the measured ones.

    Parameters
    ----------
    events
        The events table (:func:`screener.metrics.event_table`), whose
        ``{metric without _deg}_uncorrected_deg`` columns hold the measured values.
    task
        ``walk``, ``sls`` or ``jog``.
    corrections
        Loaded corrections, or None for none.
    view, include_unverified
        See :meth:`Corrections.for_task`.

    Returns
    -------
    events
        A copy with each corrected metric set to ``offset + gain * measured``.
    applied
        One record per corrected metric, for the provenance.
    """
    return _apply(events, task, corrections, "event", view, include_unverified)


def _apply(
    table: pd.DataFrame,
    task: str,
    corrections: Corrections | None,
    level: str,
    view: str | None,
    include_unverified: bool,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Apply a task's corrections of one level to a copy of ``table``.

    Each corrected column gets ``offset + gain * measured``; the measured value is read
    from, or kept in, ``{column without _deg}_uncorrected_deg``.
    """
    out = table.copy()
    applied: list[dict[str, Any]] = []
    if corrections is None:
        return out, applied
    chosen = corrections.for_task(task, view, include_unverified)
    for metric, corr in sorted(chosen.items()):
        if corr.level != level:
            continue
        columns = CORRECTABLE[metric] if level == "frame" else (metric,)
        for col in columns:
            if col not in out:
                continue
            kept = col.removesuffix("_deg") + "_uncorrected_deg"
            measured = out[kept if kept in out else col].to_numpy(dtype=float)
            out[kept] = measured
            out[col] = corr.offset_deg + corr.gain * measured
        applied.append({"metric": metric, **corr.model_dump()})
    return out, applied


def fit_linear(
    measured: np.ndarray, truth: np.ndarray, *, through_origin: bool
) -> tuple[float, float]:
    """Least-squares ``truth = offset + gain * measured`` (offset 0 when through the origin).

    Returns
    -------
    gain, offset_deg
    """
    ok = np.isfinite(measured) & np.isfinite(truth)
    x, y = measured[ok], truth[ok]
    if x.size < 10:
        raise ValueError(f"too few finite pairs to fit a correction ({x.size})")
    if through_origin:
        return float(np.dot(x, y) / np.dot(x, x)), 0.0
    gain, offset = np.polyfit(x, y, 1)
    return float(gain), float(offset)
