"""A learned correction of the frontal-plane angles from MediaPipe's landmarks (numpy only).

MediaPipe's hip landmarks sit on the pelvis' surface and, in a squat, follow the flexing
thigh; a camera turned off the frontal axis, rolled or high changes every 2D angle. This
model learns, on rendered clips with exact truth (``bench/train_frame_model.py``), the
difference between the angles a level frontal camera would give from the joint centres
and the geometric angles of :mod:`screener.angles`, from the frame's landmarks (image
and world, with visibility). It is a small ensemble of multilayer perceptrons whose
weights ship as ``.npz`` with a model card; the ensemble's spread is each frame's
uncertainty.

Notes
-----
The model is fitted on renders. By default it corrects only the targets its card lists
as ``verified_targets`` (those it also brought closer to a multi-camera reference on
real video); the others only on request
(:attr:`screener.config.AnalysisConfig.frame_model_include_unverified`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from screener.errors import ConfigError
from screener.fileio import cached_by_file
from screener.keypoints import FloatArray, PoseSequence
from screener.landmarks import INDEX, SIDES

#: Landmarks the model reads.
FEATURE_LANDMARKS: tuple[str, ...] = tuple(
    f"{s}_{p}" for p in ("shoulder", "hip", "knee", "ankle", "heel", "foot_index") for s in SIDES
)
#: Frame columns the model corrects.
TARGETS: tuple[str, ...] = (
    "pelvic_obliquity_deg",
    "left_knee_fppa_deg",
    "right_knee_fppa_deg",
    "left_hip_adduction_deg",
    "right_hip_adduction_deg",
)
#: The targets grouped by the angle they are (both legs together): the real-video check
#: verifies a group as a whole.
TARGET_GROUPS: dict[str, tuple[str, ...]] = {
    "pelvic_obliquity_deg": TARGETS[:1],
    "knee_fppa_deg": TARGETS[1:3],
    "hip_adduction_deg": TARGETS[3:],
}
#: The event metric each group makes; a metric's values are the model's only where all of
#: its targets were corrected.
EVENT_METRIC_TARGETS: dict[str, tuple[str, ...]] = {
    "pelvic_drop_deg": TARGET_GROUPS["pelvic_obliquity_deg"],
    "knee_fppa_deg": TARGET_GROUPS["knee_fppa_deg"],
    "hip_adduction_deg": TARGET_GROUPS["hip_adduction_deg"],
}
#: Scale of the angle features and outputs (degrees per unit).
ANGLE_SCALE_DEG = 30.0
#: Frames read by a model at a time: a 10-minute clip's standardised inputs, their
#: applicability check and the networks' hidden layers at once would take over 100 MB; a
#: chunk's take about 35 kB a frame.
CHUNK_FRAMES = 500


def frame_features(pose: PoseSequence, frames: pd.DataFrame, view: str) -> FloatArray:
    """Per-frame inputs: landmarks normalised to the body, visibility, geometric angles.

    Parameters
    ----------
    pose
        Cleaned landmarks.
    frames
        The geometric angles of :func:`screener.angles.compute_frame_angles`.
    view
        ``"anterior"`` or ``"posterior"``: a back view is mirrored so that the subject's
        left is always on the same side of the inputs.

    Returns
    -------
    ndarray
        ``(n_frames, n_features)``; NaN where a landmark or angle is missing.

    Notes
    -----
    Image points are taken relative to the mid-hip and divided by the clip's median
    mid-shoulder to mid-ankle distance (the body's length in the image), so the inputs do
    not depend on the frame size or the distance.
    """
    hip_mid = 0.5 * (pose.xy("left_hip") + pose.xy("right_hip"))
    with np.errstate(invalid="ignore"):
        shoulder_mid = 0.5 * (pose.xy("left_shoulder") + pose.xy("right_shoulder"))
        ankle_mid = 0.5 * (pose.xy("left_ankle") + pose.xy("right_ankle"))
        length = np.linalg.norm(shoulder_mid - ankle_mid, axis=1)
    scale = float(np.nanmedian(length)) if np.isfinite(length).any() else float("nan")
    world_mid = 0.5 * (pose.xyz("left_hip") + pose.xyz("right_hip"))
    mirror = view == "posterior"
    n_marks = len(FEATURE_LANDMARKS)
    # written landmark by landmark into one array: a long clip's inputs are held once
    out = np.empty((pose.n_frames, 6 * n_marks + len(TARGETS)))
    for i, name in enumerate(FEATURE_LANDMARKS):
        j = INDEX[name]
        rel = (pose.image_xy_px[:, j, :] - hip_mid) / scale
        world_rel = pose.world_xyz_m[:, j, :] - world_mid
        if mirror:
            rel = rel * np.array([-1.0, 1.0])
            world_rel = world_rel * np.array([-1.0, 1.0, -1.0])
        out[:, 2 * i : 2 * i + 2] = rel
        out[:, 2 * n_marks + 3 * i : 2 * n_marks + 3 * i + 3] = world_rel
        out[:, 5 * n_marks + i] = pose.visibility[:, j]
    for k, col in enumerate(TARGETS):
        out[:, 6 * n_marks + k] = frames[col].to_numpy(float) / ANGLE_SCALE_DEG
    return out


@dataclass(frozen=True)
class Applicability:
    """Where the model may be used: the principal subspace of its training inputs.

    A clip whose standardised inputs lie far from that subspace (the median over its
    frames of the distance to it, :meth:`distance`) is unlike anything the model was
    trained on, and the model is not applied to it.
    """

    centre: FloatArray
    basis: FloatArray
    limit: float
    source: str

    def frame_distances(self, standardised: FloatArray) -> FloatArray:
        """Each frame's distance of the inputs from the training subspace."""
        centred = standardised - self.centre
        residual = centred - (centred @ self.basis.T) @ self.basis
        return np.asarray(np.linalg.norm(residual, axis=1))

    def distance(self, standardised: FloatArray) -> float:
        """Median over frames of the distance of the inputs from the training subspace."""
        return float(np.median(self.frame_distances(standardised)))


@dataclass(frozen=True)
class FrameModel:
    """An ensemble of MLPs: standardised features -> angle corrections (degrees / 30)."""

    mean: FloatArray
    std: FloatArray
    layers: tuple[tuple[tuple[FloatArray, FloatArray], ...], ...]
    card: dict[str, Any]
    applicability: Applicability | None = None

    def targets(self, include_unverified: bool) -> tuple[str, ...]:
        """The targets this model corrects: the verified ones, or all on request."""
        if include_unverified:
            return TARGETS
        verified = set(self.card.get("verified_targets", ()))
        return tuple(t for t in TARGETS if t in verified)

    def standardise(self, features: FloatArray) -> FloatArray:
        """Inputs as the networks read them (missing values at the training mean)."""
        x = (features - self.mean) / self.std
        return np.where(np.isfinite(x), x, 0.0)

    def predict(self, features: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Corrections in degrees ``(n, len(TARGETS))`` and their ensemble spread."""
        return self.predict_standardised(self.standardise(features))

    def member_outputs(self, x: FloatArray) -> list[FloatArray]:
        """Each member's raw output ``(n, n_targets)`` for standardised inputs."""
        outs = []
        for member in self.layers:
            h = x
            for k, (w, b) in enumerate(member):
                h = h @ w + b
                if k < len(member) - 1:
                    h = np.tanh(h)
            outs.append(h)
        return outs

    def predict_standardised(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        """:meth:`predict` from inputs already standardised."""
        stack = np.stack(self.member_outputs(x)) * ANGLE_SCALE_DEG
        return stack.mean(axis=0), stack.std(axis=0)


def read_ensemble(path: Path, targets: tuple[str, ...], what: str, writer: str) -> FrameModel:
    """Read an MLP ensemble with its card, standardisation and applicability check.

    Raises
    ------
    ConfigError
        The file is missing, is not such a model, or predicts other targets.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            card = json.loads(str(data["card"]))
            members = []
            for m in range(int(card["n_members"])):
                layers = []
                for k in range(int(card["n_layers"])):
                    layers.append((data[f"m{m}_w{k}"], data[f"m{m}_b{k}"]))
                members.append(tuple(layers))
            mean, std = data["mean"], data["std"]
            applicability = (
                Applicability(
                    centre=data["guard_centre"],
                    basis=data["guard_basis"],
                    limit=float(card["applicability"]["limit"]),
                    source=str(card["applicability"]["source"]),
                )
                if "guard_basis" in data
                else None
            )
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: {what} not found") from exc
    except (KeyError, ValueError, OSError) as exc:
        raise ConfigError(f"{path}: not a {what} written by {writer} ({exc})") from exc
    if tuple(card.get("targets", ())) != targets:
        raise ConfigError(f"{path}: the model's targets {card.get('targets')} are not {targets}")
    return FrameModel(
        mean=mean, std=std, layers=tuple(members), card=card, applicability=applicability
    )


@cached_by_file
def load_frame_model(path: Path) -> FrameModel:
    """Read a model written by ``bench/train_frame_model.py``.

    Raises
    ------
    ConfigError
        The file is missing or not such a model.
    """
    return read_ensemble(path, TARGETS, "frame model", "bench/train_frame_model.py")


def _read_in_chunks(
    model: FrameModel, features: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """The model's corrections and spread (:meth:`FrameModel.predict`) and each frame's
    distance from its training inputs (None without an applicability check), read
    :data:`CHUNK_FRAMES` frames at a time."""
    n = features.shape[0]
    correction, spread = np.empty((n, len(TARGETS))), np.empty((n, len(TARGETS)))
    guard = model.applicability
    distances = np.empty(n)
    for start in range(0, n, CHUNK_FRAMES):
        rows = slice(start, start + CHUNK_FRAMES)
        x = model.standardise(features[rows])
        correction[rows], spread[rows] = model.predict_standardised(x)
        if guard is not None:
            distances[rows] = guard.frame_distances(x)
    return correction, spread, distances if guard is not None else None


def apply_frame_model(
    frames: pd.DataFrame,
    pose: PoseSequence,
    view: str,
    model: FrameModel,
    include_unverified: bool = False,
) -> tuple[pd.DataFrame, dict[str, Any] | None]:
    """Replace the frontal angles by the model's, keeping the geometric ones.

    Parameters
    ----------
    include_unverified
        Also correct the targets not verified on real video (research).

    Returns
    -------
    frames
        A copy: each target column holds the learned value, ``{name}_geometric_deg``
        the geometric one and ``{name}_model_sd_deg`` the ensemble's spread. Unchanged
        when the clip lies outside the model's applicability.
    applied
        The model card's name, version, training data, real-video check and the targets
        corrected (``research_targets``: those among them not verified on real video),
        for the provenance; with ``not_applied`` (the reason, a sentence) when the clip's
        landmarks are unlike the model's training inputs; None when no target is
        corrected.

    Notes
    -----
    The applicability check (:class:`Applicability`) compares the clip's inputs with the
    training inputs' principal subspace: exact joint centres (a stick figure), a camera
    far above or beside the subject, or a body the renders never showed move the inputs
    away from it, and the model's output there is not an estimate of anything.
    """
    chosen = model.targets(include_unverified)
    if not chosen:
        return frames, None
    keys = ("name", "version", "trained_on", "validated_on", "real_video_check")
    info: dict[str, Any] = {k: model.card.get(k) for k in keys}
    correction, spread, distances = _read_in_chunks(model, frame_features(pose, frames, view))
    guard = model.applicability
    if guard is not None and distances is not None:
        distance = float(np.median(distances))
        info["applicability"] = {"distance": round(distance, 3), "limit": guard.limit}
        if not distance <= guard.limit:
            info["targets_corrected"] = []
            info["not_applied"] = (
                "the learned frame model was not applied: this clip's landmarks are unlike "
                f"its training data (distance {distance:.2f}, limit {guard.limit:.2f}); "
                "the angles are the geometric ones"
            )
            return frames, info
    out = frames.copy()
    for k, col in enumerate(TARGETS):
        if col not in chosen:
            continue
        geometric = out[col].to_numpy(float)
        base = col.removesuffix("_deg")
        out[f"{base}_geometric_deg"] = geometric
        out[col] = geometric + correction[:, k]
        out[f"{base}_model_sd_deg"] = np.where(np.isfinite(geometric), spread[:, k], np.nan)
    verified = set(model.targets(include_unverified=False))
    research = [t for t in chosen if t not in verified]
    return out, {**info, "targets_corrected": list(chosen), "research_targets": research}
