"""The capture guide of each task and the check of what the recording achieved.

The guide (``screener/models/capture.toml``) says how to film a task so that its norms
apply; :func:`squat_depth` checks the depth of a single-leg squat against it.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from screener.config import MODELS_DIR
from screener.errors import ConfigError
from screener.fileio import cached_by_file
from screener.keypoints import FloatArray, PoseSequence

CAPTURE_PATH = MODELS_DIR / "capture.toml"


class TaskGuide(BaseModel):
    """How to film one task."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    steps: list[str] = Field(min_length=1)
    min_depth_knee_flexion_deg: float | None = Field(None, gt=0, lt=180)
    depth_basis: str = ""
    depth_error: str = ""


@cached_by_file
def load_capture_guides(path: str | Path) -> dict[str, TaskGuide]:
    """Read and validate the capture guides, one per task.

    Raises
    ------
    ConfigError
        The file is missing, not TOML or has a wrong key.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return {task: TaskGuide.model_validate(guide) for task, guide in data.items()}
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(
            f"invalid capture guide file ({str(exc).splitlines()[0]})",
            path=path,
            remedy="Compare with the bundled screener/models/capture.toml.",
        ) from exc


#: Frames either side of the deepest frame whose pelvis height is taken (the median).
DEPTH_WINDOW_FRAMES = 2
#: The standing pelvis height: this percentile of the clip's (the highest, less noise).
STANDING_PERCENTILE = 95.0


def knee_flexion_from_descent_deg(
    pose: PoseSequence, stance_side: str, frames: list[int]
) -> FloatArray:
    """Knee flexion of the stance leg at the given frames, from how far the pelvis has
    come down in the image.

    Parameters
    ----------
    pose
        Cleaned landmarks, roll corrected (image rows are vertical).
    stance_side
        ``"left"`` or ``"right"``.
    frames
        The deepest frame of each repetition.

    Returns
    -------
    numpy.ndarray
        Degrees per frame; NaN where the pelvis or the stance ankle is not seen.

    Notes
    -----
    With the shank and the thigh tilting forward by the same angle (the ankle bending
    half as much as the knee), the pelvis stands ``L cos(θ/2)`` above the ankle for a
    knee flexed ``θ`` on a leg of length ``L``, whatever the camera's distance: so
    ``θ = 2 acos(h / h₀)``, ``h`` the image height of the mid-hip above the stance ankle
    at the deepest point (median over ±:data:`DEPTH_WINDOW_FRAMES` frames) and ``h₀``
    standing (the clip's :data:`STANDING_PERCENTILE` th percentile). A geometric rule,
    not fitted. Seen from the front, MediaPipe's 3D knee angle is not usable for this:
    on the renders it read the deepest point 25° shallow (r 0.25) and straight standing
    legs 10° bent (a real standing man: 23-25°); this rule read 7° deep (SD 7°, r 0.83;
    docs/accuracy.md). A patient who bends the ankle more than the knee reads deeper
    than they are.
    """
    hip = 0.5 * (pose.xy("left_hip")[:, 1] + pose.xy("right_hip")[:, 1])
    height = pose.xy(f"{stance_side}_ankle")[:, 1] - hip
    out = np.full(len(frames), np.nan)
    if not np.isfinite(height).any():
        return out
    standing = float(np.nanpercentile(height, STANDING_PERCENTILE))
    for k, frame in enumerate(frames):
        window = height[max(0, frame - DEPTH_WINDOW_FRAMES) : frame + DEPTH_WINDOW_FRAMES + 1]
        if standing > 0 and np.isfinite(window).any():
            ratio = float(np.nanmedian(window)) / standing
            out[k] = 2.0 * math.degrees(math.acos(min(1.0, max(-1.0, ratio))))
    return out


def repetition_depths_deg(
    events: pd.DataFrame, pose: PoseSequence, stance_side: str | None
) -> pd.Series:
    """:func:`knee_flexion_from_descent_deg` at the deepest point of each repetition of
    the stance leg, indexed like those rows of ``events`` (empty without a stance side)."""
    reps = events[(events["side"] == stance_side) & (events["kind"] == "rep")]
    if stance_side is None or reps.empty:
        return pd.Series(dtype=float)
    peaks = [int(np.argmin(np.abs(pose.time_s - t))) for t in reps["t_peak_s"].to_numpy(float)]
    return pd.Series(knee_flexion_from_descent_deg(pose, stance_side, peaks), index=reps.index)


def squat_depth(depths_deg: FloatArray, guide: TaskGuide) -> dict[str, Any]:
    """The depth the single-leg squat reached, against the guide.

    Parameters
    ----------
    depths_deg
        The stance knee's flexion at the deepest point of each repetition
        (:func:`knee_flexion_from_descent_deg`).
    guide
        The single-leg squat guide (its ``min_depth_knee_flexion_deg``).

    Returns
    -------
    dict
        ``mean_knee_flexion_deg`` (None when not measurable), ``min_required_deg``,
        ``reached`` (True, False or None when unknown), ``method``, ``note`` in words.

    Notes
    -----
    An estimate from the front (:func:`knee_flexion_from_descent_deg`); the check is a
    prompt to look at the stills, not a measurement of record.
    """
    values = np.asarray(depths_deg, dtype=float)
    values = values[np.isfinite(values)]
    need = guide.min_depth_knee_flexion_deg
    method = "knee flexion from the pelvis' descent in the image (screener.capture_guide)"
    if not len(values) or need is None:
        return {
            "mean_knee_flexion_deg": None,
            "min_required_deg": need,
            "reached": None,
            "method": method,
            "note": "squat depth could not be measured; check the stills",
        }
    mean = float(values.mean())
    reached = bool(mean >= need)
    error = f" ({guide.depth_error})" if guide.depth_error else ""
    note = (
        f"squat depth about {mean:.0f} deg of knee flexion, from how far the pelvis comes "
        f"down{error}: "
        + (
            f"at or past the {need:.0f} deg the norms assume"
            if reached
            else f"shallower than the {need:.0f} deg the norms assume: {guide.depth_basis}"
        )
    )
    return {
        "mean_knee_flexion_deg": round(mean, 1),
        "min_required_deg": need,
        "reached": reached,
        "method": method,
        "note": note,
    }
