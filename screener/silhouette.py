"""Knee FPPA of jogging read with the person's outline (research; off by default).

MediaPipe's knee landmark follows a valgus knee only part of the way (on renders a jog's
knee FPPA, corrected by the frame model, still reads about 0.65 of the true angle's
spread). The person's outline, MediaPipe's segmentation mask, is a second look at the
same legs: across the thigh and the shank, perpendicular to the landmark segments, the
mask's lateral and medial edges are found, and the slope of an edge (or of the midline
between the two) against the segment turns that segment. Knee FPPA recomputed with the
turned segments (:func:`screener.angles.knee_fppa_deg`) gives three readings per frame
(:data:`READINGS`); per event, a linear model per view
(``screener/models/silhouette_fppa.toml``, with its card) combines them with the event's
knee FPPA and its geometric value.

Notes
-----
Fitted and validated on renders only (``bench/silhouette_fppa.py``: fitted on the jogs of
hold-outs 36-42, validated on 26 jogs rendered after the recipe was written down). On a
render the outline is a clean edge of skin or tight clothing; loose trousers or shorts move
the edges, and no real recording with an independent reference has checked it. It needs
the video (a second pass of the pose model with its segmentation on) and covers jogging in
place only. So it is a research option (:attr:`screener.config.AnalysisConfig.
silhouette_model_path`), and its values go to their own column of the events table; the
report, flags and plan never use them.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from screener.angles import knee_fppa_deg
from screener.errors import ConfigError
from screener.keypoints import FloatArray, PoseSequence
from screener.landmarks import SIDES

log = logging.getLogger(__name__)

#: Where along the thigh (hip to knee) and the shank (knee to ankle) the mask is scanned.
THIGH_FRACTIONS: tuple[float, ...] = tuple(np.linspace(0.30, 0.75, 6))
SHANK_FRACTIONS: tuple[float, ...] = tuple(np.linspace(0.25, 0.75, 6))
#: Longest scan from the segment to an edge, as a fraction of the segment's length.
THIGH_MAX_HALF_WIDTH = 0.30
SHANK_MAX_HALF_WIDTH = 0.25
#: A mask value at or above this (of 0-1) is the person.
MASK_THRESHOLD = 0.5
#: Scan lines that must find an edge for its slope to be read.
MIN_SCAN_LINES = 3
#: The readings: which edge turns the thigh and which the shank.
READINGS: dict[str, tuple[str, str]] = {
    "sil_lateral": ("lateral", "lateral"),
    "sil_midline": ("midline", "midline"),
    "sil_lateral_thigh": ("lateral", "midline"),
}
#: The events column the model's values go to.
EVENT_COLUMN = "knee_fppa_silhouette_deg"


def edge_slopes(
    mask: np.ndarray,
    start: FloatArray,
    end: FloatArray,
    fractions: tuple[float, ...],
    max_half_width: float,
    lateral: FloatArray,
) -> dict[str, float]:
    """Slopes of the outline's edges against one landmark segment.

    Parameters
    ----------
    mask
        The person's mask, ``(height, width)``; True (or >= :data:`MASK_THRESHOLD`) is the
        person.
    start, end
        The segment's ends in the mask's pixels (hip and knee, or knee and ankle).
    fractions
        Where along the segment to scan across it.
    max_half_width
        Longest scan from the segment to an edge, as a fraction of its length.
    lateral
        Any vector toward the leg's lateral side (this hip minus the other hip).

    Returns
    -------
    dict
        ``lateral``, ``medial`` and ``midline``: radians, the slope of the edge's (or the
        midline's) distance from the segment against the distance along it, positive when
        it moves laterally toward ``end``; NaN where fewer than :data:`MIN_SCAN_LINES`
        scan lines found that edge.

    Notes
    -----
    A scan line counts only where the segment's own point is inside the mask; an edge
    not reached within ``max_half_width`` (the thighs touching, the leg leaving the
    frame) is missing on that line.
    """
    nan = {"lateral": np.nan, "medial": np.nan, "midline": np.nan}
    seg = np.asarray(end, float) - np.asarray(start, float)
    length = float(np.hypot(seg[0], seg[1]))
    if not np.isfinite(length) or length < 5.0:
        return nan
    unit = seg / length
    normal = np.array([-unit[1], unit[0]])
    if float(np.dot(normal, lateral)) < 0:
        normal = -normal
    inside = np.asarray(mask) >= MASK_THRESHOLD if mask.dtype != bool else mask
    steps = np.arange(0.5, max_half_width * length, 0.5)
    along: list[float] = []
    offsets: list[tuple[float, float]] = []
    for fraction in fractions:
        point = np.asarray(start, float) + fraction * seg
        if not _is_inside(inside, point[None])[0]:
            continue
        found = []
        for sign in (1.0, -1.0):
            out = ~_is_inside(inside, point + sign * steps[:, None] * normal)
            found.append(sign * float(steps[np.argmax(out)]) if out.any() else np.nan)
        along.append(fraction * length)
        offsets.append((found[0], found[1]))
    if not offsets:
        return nan
    s = np.asarray(along)
    lateral_edge, medial_edge = np.asarray(offsets).T
    slopes: dict[str, float] = {}
    for name, offset in (
        ("lateral", lateral_edge),
        ("medial", medial_edge),
        ("midline", 0.5 * (lateral_edge + medial_edge)),
    ):
        ok = np.isfinite(offset)
        if ok.sum() >= MIN_SCAN_LINES:
            slopes[name] = float(np.arctan(np.polyfit(s[ok], offset[ok], 1)[0]))
        else:
            slopes[name] = np.nan
    return slopes


def _is_inside(inside: np.ndarray, points: FloatArray) -> np.ndarray:
    x = np.rint(points[:, 0]).astype(int)
    y = np.rint(points[:, 1]).astype(int)
    ok = (x >= 0) & (y >= 0) & (x < inside.shape[1]) & (y < inside.shape[0])
    out = np.zeros(len(points), dtype=bool)
    out[ok] = inside[y[ok], x[ok]]
    return out


def _turned(start: FloatArray, end: FloatArray, slope: float, lateral: FloatArray) -> FloatArray:
    """Unit direction of the segment turned by ``slope`` (radians, positive laterally)."""
    unit = (end - start) / np.hypot(*(end - start))
    normal = np.array([-unit[1], unit[0]])
    if float(np.dot(normal, lateral)) < 0:
        normal = -normal
    turned = unit + np.tan(slope) * normal
    return np.asarray(turned / np.hypot(*turned))


def frame_readings(
    mask: np.ndarray, hip: FloatArray, knee: FloatArray, ankle: FloatArray, other_hip: FloatArray
) -> dict[str, float]:
    """One leg's knee FPPA readings (deg) in one frame (:data:`READINGS`).

    Parameters
    ----------
    mask
        The person's mask in the same pixels as the points.
    hip, knee, ankle, other_hip
        The leg's landmarks and the other hip, ``(2,)``.

    Returns
    -------
    dict
        Per reading, knee FPPA with the thigh and shank turned by that reading's edges
        (the sign convention of :func:`screener.angles.knee_fppa_deg`); NaN where an edge
        was not read or a point is missing.
    """
    out = {name: np.nan for name in READINGS}
    points = (hip, knee, ankle, other_hip)
    if not all(np.isfinite(p).all() for p in points):
        return out
    lateral = hip - other_hip
    thigh = edge_slopes(mask, hip, knee, THIGH_FRACTIONS, THIGH_MAX_HALF_WIDTH, lateral)
    shank = edge_slopes(mask, knee, ankle, SHANK_FRACTIONS, SHANK_MAX_HALF_WIDTH, lateral)
    for name, (thigh_edge, shank_edge) in READINGS.items():
        if not (np.isfinite(thigh[thigh_edge]) and np.isfinite(shank[shank_edge])):
            continue
        thigh_dir = _turned(hip, knee, thigh[thigh_edge], lateral)
        shank_dir = _turned(knee, ankle, shank[shank_edge], lateral)
        new_hip = knee - 100.0 * thigh_dir
        new_ankle = knee + 100.0 * shank_dir
        out[name] = float(
            knee_fppa_deg(new_hip[None], knee[None], new_ankle[None], other_hip[None])[0]
        )
    return out


def clip_readings(
    masks: Iterator[tuple[int, np.ndarray]], pose: PoseSequence, scale: float
) -> dict[str, dict[str, FloatArray]]:
    """Per side and reading, knee FPPA (deg) per frame from the masks given.

    Parameters
    ----------
    masks
        ``(frame index, mask)`` pairs, in the pixels of ``pose`` times ``scale``.
    pose
        The cleaned landmarks, in the video's pixels.
    scale
        Mask pixels per landmark pixel.

    Returns
    -------
    dict
        ``{side: {reading: (n_frames,) array}}``, NaN on frames without a mask.
    """
    out = {side: {name: np.full(pose.n_frames, np.nan) for name in READINGS} for side in SIDES}
    for index, mask in masks:
        if index >= pose.n_frames:
            break
        for side in SIDES:
            other = "right" if side == "left" else "left"
            hip, knee, ankle = (
                pose.xy(f"{side}_{p}")[index] * scale for p in ("hip", "knee", "ankle")
            )
            readings = frame_readings(
                mask, hip, knee, ankle, pose.xy(f"{other}_hip")[index] * scale
            )
            for name, value in readings.items():
                out[side][name][index] = value
    return out


def person_masks(
    video: Path, pose: PoseSequence, max_long_side_px: int | None
) -> Iterator[tuple[int, np.ndarray]]:
    """The person's mask of every frame, from MediaPipe's pose model with segmentation on.

    Frames are decoded as the pose pass decoded them (scaled to ``max_long_side_px``,
    turned as the landmarks were estimated); each mask is a boolean array of the decoded
    frame's size.
    """
    from screener.pose import import_mediapipe, quiet_native_stderr
    from screener.upright import pose_rotation_cw, rotate_image
    from screener.video import iter_frames

    turn = pose_rotation_cw(pose)
    with quiet_native_stderr():
        mp = import_mediapipe()
        model = mp.solutions.pose.Pose(
            static_image_mode=False, model_complexity=1, enable_segmentation=True
        )
    try:
        for frame in iter_frames(video, max_long_side_px=max_long_side_px):
            rgb = rotate_image(frame.rgb, turn)
            with quiet_native_stderr():
                mask = model.process(rgb).segmentation_mask
            if mask is not None:
                yield frame.index, np.asarray(mask) >= MASK_THRESHOLD
    finally:
        model.close()


def mask_scale(pose: PoseSequence, max_long_side_px: int | None) -> float:
    """Decoded-frame pixels per landmark pixel for frames scaled to ``max_long_side_px``."""
    long_side = max(pose.image_size_px)
    if max_long_side_px is None or long_side <= max_long_side_px:
        return 1.0
    return max_long_side_px / long_side


def event_readings(
    events: pd.DataFrame, readings: dict[str, dict[str, FloatArray]]
) -> pd.DataFrame:
    """Per event, each reading by the event rule: a stance's largest value over its frames.

    Returns
    -------
    DataFrame
        One row per event (the events' index), one column per reading.
    """
    rows = [
        {name: _event_max(readings[str(event["side"])][name], event) for name in READINGS}
        for _, event in events.iterrows()
    ]
    return pd.DataFrame(rows, index=events.index, columns=list(READINGS))


def _event_max(series: FloatArray, event: pd.Series) -> float:
    """The largest finite value of a frame series over an event's frames (NaN if none)."""
    window = series[int(event["frame_start"]) : int(event["frame_end"]) + 1]
    finite = window[np.isfinite(window)]
    return float(finite.max()) if finite.size else np.nan


@dataclass(frozen=True)
class SilhouetteModel:
    """The linear model per view of ``silhouette_fppa.toml``.

    Attributes
    ----------
    name, version, task
        What it is, and the task it covers.
    features
        Input names, in order: ``knee_fppa_deg`` (the event's value),
        ``knee_fppa_geometric_deg`` (the event's geometric value) and the readings.
    views
        Per view: ``fill`` (training medians standing in for a missing input), ``mean``
        and ``scale`` (standardisation), ``coef`` (intercept first), degrees.
    source
        Where the numbers come from.
    path
        The file read.
    """

    name: str
    version: str
    task: str
    features: tuple[str, ...]
    views: dict[str, dict[str, tuple[float, ...]]]
    source: str
    path: str

    def predict(self, view: str, inputs: pd.DataFrame) -> FloatArray:
        """Knee FPPA (deg) from the inputs (one column per feature); NaN where the event's
        own knee FPPA is missing (an angle left empty stays empty)."""
        params = self.views[view]
        x = inputs[list(self.features)].to_numpy(float)
        fill = np.asarray(params["fill"])
        z = (np.where(np.isnan(x), fill, x) - np.asarray(params["mean"])) / np.asarray(
            params["scale"]
        )
        coef = np.asarray(params["coef"])
        out = coef[0] + z @ coef[1:]
        return np.asarray(np.where(np.isfinite(x[:, 0]), out, np.nan))

    def provenance(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "task": self.task,
            "file": self.path,
            "source": self.source,
            "status": "research: renders only, never in the report, flags or plan",
        }


def load_silhouette_model(path: Path) -> SilhouetteModel:
    """Read ``silhouette_fppa.toml``.

    Raises
    ------
    ConfigError
        The file is missing, not TOML, or lacks a key.
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        features = tuple(str(f) for f in data["features"])
        views = {
            str(view): {
                key: tuple(float(v) for v in params[key])
                for key in ("fill", "mean", "scale", "coef")
            }
            for view, params in data["views"].items()
        }
        for view, params in views.items():
            sizes = {len(params[k]) for k in ("fill", "mean", "scale")}
            if sizes != {len(features)} or len(params["coef"]) != len(features) + 1:
                raise ValueError(f"view {view}: sizes do not match the {len(features)} features")
        return SilhouetteModel(
            name=str(data["name"]),
            version=str(data["version"]),
            task=str(data["task"]),
            features=features,
            views=views,
            source=str(data["source"]),
            path=str(path),
        )
    except OSError as exc:
        raise ConfigError(f"cannot read the silhouette model ({exc})", path=path) from exc
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"invalid silhouette model file ({type(exc).__name__}: {exc})",
            path=path,
            remedy="See screener/models/silhouette_fppa.toml for the expected keys.",
        ) from exc


def model_inputs(
    events: pd.DataFrame, frames: pd.DataFrame, readings: dict[str, dict[str, FloatArray]]
) -> pd.DataFrame:
    """Per event, the model's inputs (:attr:`SilhouetteModel.features`).

    Parameters
    ----------
    events
        The events table (``knee_fppa_deg``, ``frame_start``, ``frame_end``, ``side``).
    frames
        The frames table (``{side}_knee_fppa_geometric_deg`` where the frame model
        corrected FPPA, else ``{side}_knee_fppa_deg`` is the geometric value).
    readings
        :func:`clip_readings`.

    Returns
    -------
    DataFrame
        ``knee_fppa_deg`` (the event's), ``knee_fppa_geometric_deg`` (the largest geometric
        value over the event's frames) and the readings by :func:`event_readings`.
    """
    inputs = event_readings(events, readings)
    inputs.insert(0, "knee_fppa_deg", events["knee_fppa_deg"].to_numpy(float))
    geometric = []
    for _, event in events.iterrows():
        column = f"{event['side']}_knee_fppa_geometric_deg"
        if column not in frames:
            column = f"{event['side']}_knee_fppa_deg"
        geometric.append(_event_max(frames[column].to_numpy(float), event))
    inputs.insert(1, "knee_fppa_geometric_deg", geometric)
    return inputs


def silhouette_fppa(
    events: pd.DataFrame,
    frames: pd.DataFrame,
    readings: dict[str, dict[str, FloatArray]],
    view: str,
    model: SilhouetteModel,
) -> FloatArray:
    """The model's knee FPPA (deg) per event (:func:`model_inputs`, then the model)."""
    return model.predict(view, model_inputs(events, frames, readings))
