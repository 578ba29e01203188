"""The camera's yaw read by a learned model from the landmarks (capture checks).

The geometric yaw of :mod:`screener.capture` reads the lens' azimuth from the body's hip
and shoulder lines (and a walk's walking line); it scatters 4-7° and is biased from
behind. This model reads the same azimuth from all the landmarks the frame model uses
(image and world coordinates, visibility, the geometric angles), trained on rendered
clips with the lens placed at random (``bench/train_camera_model.py``, model card
``screener/models/camera_yaw_model.md``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from screener.angles import compute_frame_angles
from screener.config import AngleConfig
from screener.fileio import cached_by_file
from screener.frame_model import FrameModel, frame_features, read_ensemble
from screener.keypoints import PoseSequence

log = logging.getLogger(__name__)

#: What the model predicts.
YAW_TARGETS = ("camera_yaw_deg",)

#: At most this many frames, evenly spaced, are read (the clip's median needs no more; the
#: training clips have fewer, so their readings are unchanged): a 10-minute clip's
#: features would otherwise hold tens of megabytes.
MAX_FRAMES = 900


def _evenly_spaced(pose: PoseSequence, n_max: int) -> PoseSequence:
    """At most ``n_max`` frames of ``pose``, evenly spaced over the clip."""
    if pose.n_frames <= n_max:
        return pose
    idx = np.unique(np.linspace(0, pose.n_frames - 1, n_max).round().astype(int))
    return pose.take(idx)


@dataclass(frozen=True)
class LearnedYaw:
    """A clip's yaw from the learned model.

    Attributes
    ----------
    yaw_deg
        The lens' azimuth around the subject, degrees, signed as
        :attr:`screener.capture.CameraEstimate.yaw_deg` (positive toward the subject's
        left); the median over the clip's frames. NaN when not applicable.
    spread_deg
        The ensemble members' spread (standard deviation), median over frames.
    distance, limit
        The clip's applicability distance and the model's limit
        (:class:`screener.frame_model.Applicability`).
    """

    yaw_deg: float
    spread_deg: float
    distance: float
    limit: float

    @property
    def applicable(self) -> bool:
        """Whether the clip's landmarks are like the model's training inputs."""
        return bool(self.distance <= self.limit)


@cached_by_file
def load_yaw_model(path: Path) -> FrameModel:
    """Read a model written by ``bench/train_camera_model.py``.

    Raises
    ------
    ConfigError
        The file is missing or not such a model.
    """
    return read_ensemble(path, YAW_TARGETS, "camera yaw model", "bench/train_camera_model.py")


def estimate_learned_yaw(
    pose: PoseSequence, view: str, model: FrameModel, angles: AngleConfig
) -> LearnedYaw:
    """The lens' azimuth around the subject from the learned model.

    Parameters
    ----------
    pose
        Cleaned landmarks, upright (the roll corrected as the analysis will correct it).
    view
        ``"anterior"`` or ``"posterior"``.
    model
        :func:`load_yaw_model`.
    angles
        The angle settings (the model's inputs include the geometric angles).

    Returns
    -------
    LearnedYaw

    Notes
    -----
    The inputs of a back view are mirrored (as the frame model's), so the model's
    output is negated for it. A clip longer than :data:`MAX_FRAMES` is read on that many
    evenly spaced frames. Frames with no landmarks give NaN inputs, read at the
    training mean; the median over frames resists a few of them.
    """
    pose = _evenly_spaced(pose, MAX_FRAMES)
    features = frame_features(pose, compute_frame_angles(pose, angles), view)
    x = model.standardise(features)
    guard = model.applicability
    distance = guard.distance(x) if guard is not None else 0.0
    limit = guard.limit if guard is not None else float("inf")
    usable = np.isfinite(features).any(axis=1)
    if not usable.any():
        return LearnedYaw(float("nan"), float("nan"), distance, limit)
    sign = -1.0 if view == "posterior" else 1.0
    mean, spread = model.predict_standardised(x[usable])
    yaw = sign * float(np.median(mean[:, 0]))
    sd = float(np.median(spread[:, 0]))
    log.info("learned yaw %.1f deg (ensemble spread %.1f), applicability %.2f of %.2f",
             yaw, sd, distance, limit)  # fmt: skip
    if not distance <= limit:
        return LearnedYaw(float("nan"), sd, distance, limit)
    return LearnedYaw(yaw, sd, distance, limit)
