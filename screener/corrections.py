"""Corrections of MediaPipe's systematic under-reading, fitted on rendered clips.

MediaPipe reads pelvic drop and hip adduction low: its hip landmarks follow the pelvis'
surface, not the hip joint centres. A correction maps a per-frame angle (``level =
"frame"``) or an event's value (``level = "event"``, e.g. the peak pelvic drop of a
stance phase, whose signed per-frame series cannot take an offset) to
``offset_deg + gain * measured``, per task, with figures fitted on one set of rendered
bodies and cameras (``bench/fit_corrections.py``) and validated on others
(``bench/accuracy.py``). The figures live in ``screener/models/corrections.toml`` with
where they come from; :attr:`screener.config.AnalysisConfig.corrections_path` set to
None turns them off. The uncorrected values are kept beside the corrected ones.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from screener.errors import ConfigError
from screener.fileio import cached_by_file
from screener.landmarks import SIDES

#: Metrics a correction may apply to, with the frame columns each covers.
CORRECTABLE: dict[str, tuple[str, ...]] = {
    "pelvic_obliquity_deg": ("pelvic_obliquity_deg",),
    "knee_fppa_deg": tuple(f"{s}_knee_fppa_deg" for s in SIDES),
    "hip_adduction_deg": tuple(f"{s}_hip_adduction_deg" for s in SIDES),
}
#: Event values a correction may apply to (``level = "event"``).
EVENT_CORRECTABLE: tuple[str, ...] = ("pelvic_drop_deg",)
SUPPORTED_SCHEMA_VERSIONS: tuple[int, ...] = (1,)


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


class Corrections(_Strict):
    """The corrections file: ``tasks.TASK.METRIC`` tables."""

    schema_version: int
    method: str = Field(min_length=10)
    tasks: dict[str, dict[str, Correction]]

    def for_task(self, task: str) -> dict[str, Correction]:
        """The corrections of one task (empty when there are none)."""
        return dict(self.tasks.get(task, {}))


@cached_by_file
def load_corrections(path: Path) -> Corrections:
    """Read and validate a corrections file.

    Raises
    ------
    ConfigError
        The file is missing, not TOML, of an unknown schema version, names a metric
        that cannot be corrected, or has a value out of range.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: corrections file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    try:
        corrections = Corrections.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}") from exc
    if corrections.schema_version not in SUPPORTED_SCHEMA_VERSIONS:
        raise ConfigError(
            f"{path}: schema_version {corrections.schema_version} is not supported "
            f"(this screener reads {SUPPORTED_SCHEMA_VERSIONS})"
        )
    for task, metrics in corrections.tasks.items():
        for metric, corr in metrics.items():
            known = CORRECTABLE if corr.level == "frame" else EVENT_CORRECTABLE
            if metric not in known:
                raise ConfigError(
                    f"{path}: tasks.{task}.{metric}: cannot be corrected at {corr.level} level "
                    f"(known: {sorted(known)})"
                )
    return corrections


def apply_corrections(
    frames: pd.DataFrame, task: str, corrections: Corrections | None
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
    return _apply(frames, task, corrections, "frame")


def apply_event_corrections(
    events: pd.DataFrame, task: str, corrections: Corrections | None
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

    Returns
    -------
    events
        A copy with each corrected metric set to ``offset + gain * measured``.
    applied
        One record per corrected metric, for the provenance.
    """
    return _apply(events, task, corrections, "event")


def _apply(
    table: pd.DataFrame, task: str, corrections: Corrections | None, level: str
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Apply a task's corrections of one level to a copy of ``table``.

    Each corrected column gets ``offset + gain * measured``; the measured value is read
    from, or kept in, ``{column without _deg}_uncorrected_deg``.
    """
    out = table.copy()
    applied: list[dict[str, Any]] = []
    if corrections is None:
        return out, applied
    for metric, corr in sorted(corrections.for_task(task).items()):
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
