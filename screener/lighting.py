"""The subject's lighting in the picture: how bright, and against what.

A clinic is not a studio: a dim treatment room makes the phone raise its gain (a dark,
noisy subject), a window behind the patient makes it expose for the window (a subject in
shade against a bright background). :func:`measure_lighting` reads, on the few frames the
second-person search decodes anyway (:mod:`screener.acquire`), two figures the
validated envelope (``models/envelope.toml``, ``[lighting]``) limits:

- ``subject_luma``: the brightness (8-bit luma, BT.601) of the brightest tenth of small
  patches on the body's landmarks (shoulders, hips, knees, ankles): the body's lit
  parts, so that dark clothes in a lit room do not read as a dark room;
- ``background_luma``: the median brightness of the picture outside the subject's box,
  and its ratio to the subject's (a window behind the patient).

The sensor noise of a dim room is not among them: an estimate from the picture
(Immerkær's) read the edges of the subject and the floor's texture more than the noise,
and the renders that set the limits cannot show it (their encoder smooths it away);
docs/capture.md.

Pure NumPy and OpenCV on frames already decoded; no MediaPipe.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from screener.keypoints import PoseSequence
from screener.landmarks import SIDES

log = logging.getLogger(__name__)

#: Landmarks whose patches give the subject's brightness: on the clothes and skin of the
#: trunk and legs, which the angles are measured from.
BODY_LANDMARKS = tuple(
    f"{side}_{part}" for part in ("shoulder", "hip", "knee", "ankle") for side in SIDES
)
#: The subject's brightness is this percentile of its patches' pixels.
SUBJECT_PERCENTILE = 90.0
#: Half-size of a landmark's patch, as a fraction of the body's height in the picture.
PATCH_HALF_FRACTION = 0.02
#: The subject's box is widened by this fraction of its height before the background is
#: read outside it (hands and hair stray beyond the landmarks).
BOX_MARGIN_FRACTION = 0.08


@dataclass(frozen=True)
class Lighting:
    """The subject's lighting over the frames read (medians over frames).

    Attributes
    ----------
    frames
        Frames measured (a frame without the body's landmarks is skipped).
    subject_luma
        8-bit luma of the brightest tenth of the patches' pixels on the body's landmarks
        (their 90th percentile).
    background_luma
        Median 8-bit luma outside the subject's box.
    """

    frames: int
    subject_luma: float
    background_luma: float

    @property
    def backlight_ratio(self) -> float:
        """Background over subject brightness (subject floored at 1 level)."""
        return self.background_luma / max(self.subject_luma, 1.0)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the figures rounded)."""
        return {
            "checked": True,
            "frames": self.frames,
            "subject_luma": round(self.subject_luma, 1),
            "background_luma": round(self.background_luma, 1),
            "backlight_ratio": round(self.backlight_ratio, 2),
            "method": "8-bit luma (BT.601): the 90th percentile of patches on the trunk's "
            "and legs' landmarks, and the median outside the subject's box, on the "
            "second-person search's frames (screener.lighting)",
        }


def luma(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """BT.601 luma (0-255, float32, unrounded) of an RGB uint8 image: OpenCV's grey."""
    import cv2

    return np.asarray(cv2.cvtColor(rgb.astype(np.float32), cv2.COLOR_RGB2GRAY))


def _frame_lighting(
    y: npt.NDArray[np.float32], points_px: npt.NDArray[np.float64]
) -> tuple[float, float] | None:
    """``(subject, background)`` of one frame's luma, with the body's landmarks in
    its pixels; None when the landmarks do not give a box inside the frame."""
    h, w = y.shape
    ok = np.isfinite(points_px).all(axis=1)
    if ok.sum() < 4:
        return None
    pts = points_px[ok]
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    size = max(y1 - y0, x1 - x0)
    if size < 8:
        return None
    half = max(2, round(PATCH_HALF_FRACTION * size))
    patches = []
    for x, yy in pts:
        cx, cy = round(float(x)), round(float(yy))
        if half <= cx < w - half and half <= cy < h - half:
            patches.append(y[cy - half : cy + half + 1, cx - half : cx + half + 1].ravel())
    if not patches:
        return None
    subject = float(np.percentile(np.concatenate(patches), SUBJECT_PERCENTILE))
    m = BOX_MARGIN_FRACTION * size
    bx0, bx1 = max(0, int(x0 - m)), min(w, int(x1 + m) + 1)
    by0, by1 = max(0, int(y0 - m)), min(h, int(y1 + m) + 1)
    outside = np.ones((h, w), dtype=bool)
    outside[by0:by1, bx0:bx1] = False
    background = float(np.median(y[outside])) if outside.any() else float("nan")
    return subject, background


def measure_lighting(
    frames: Mapping[int, npt.NDArray[np.uint8]],
    pose: PoseSequence,
    rotate_cw_deg: int = 0,
) -> Lighting | None:
    """The subject's lighting on a few frames of the video.

    Parameters
    ----------
    frames
        RGB uint8 frames by index, at any size (scaled to the pose's pixels), as read
        from the video (before the turn the pose model's frames were given).
    pose
        The landmarks MediaPipe gave for the video (the tracked subject), in the turned
        frame's pixels.
    rotate_cw_deg
        The turn the pose model's frames were given.

    Returns
    -------
    Lighting or None
        None when no frame shows the body's landmarks.

    Notes
    -----
    Patches are squares of :data:`PATCH_HALF_FRACTION` of the body's size around each
    landmark of :data:`BODY_LANDMARKS`; a patch can straddle the body's edge, which the
    median over all patches' pixels tolerates.
    """
    from screener.upright import frames_as_posed

    rows: list[tuple[float, float]] = []
    points = np.stack([pose.xy(name) for name in BODY_LANDMARKS], axis=1)  # (n, k, 2)
    for index, rgb, scale in frames_as_posed(frames, pose, rotate_cw_deg):
        found = _frame_lighting(luma(rgb), points[index] * scale)
        if found is not None:
            rows.append(found)
    if not rows:
        return None
    table = np.asarray(rows)
    subject, background = (float(np.nanmedian(table[:, k])) for k in range(2))
    log.info(
        "lighting: subject %.0f, background %.0f of 255 (ratio %.2f) over %d frame(s)",
        subject,
        background,
        background / max(subject, 1.0),
        len(rows),
    )
    return Lighting(len(rows), subject, background)


@dataclass(frozen=True)
class LightingLimits:
    """The lighting the measurements were validated in (``[lighting]`` of the envelope
    file, read by :func:`screener.capture.load_envelope`): below ``subject_luma_min`` or
    above ``backlight_ratio_max`` the analysis warns; from ``face_shade_ratio`` a
    refusal for the view names the backlight as a likely cause; ``source`` says where
    the limits come from."""

    subject_luma_min: float
    backlight_ratio_max: float
    face_shade_ratio: float
    source: str


def lighting_warnings(lighting: Lighting | None, limits: LightingLimits) -> list[str]:
    """Sentences for the summary's warnings, each with what to do, when the subject's
    lighting is outside the validated range (none when it was not measured)."""
    if lighting is None:
        return []
    out = []
    if lighting.subject_luma < limits.subject_luma_min:
        out.append(
            f"the patient is dark in the picture (brightness {lighting.subject_luma:.1f} of "
            f"255 on the body; the measurements were validated from "
            f"{limits.subject_luma_min:.0f}): the landmarks may be misplaced. Turn on the "
            "room's lights or film in a brighter room, with the light behind the camera"
        )
    if lighting.backlight_ratio > limits.backlight_ratio_max:
        out.append(
            f"the background is {lighting.backlight_ratio:.2f} times brighter than the "
            f"patient (validated up to {limits.backlight_ratio_max:.1f}), as with a window "
            "or a lamp behind them: the phone exposes for it and the patient is in shade. "
            "Film with the window or lamp behind the camera, not behind the patient"
        )
    return out


def face_shade_note(lighting: Lighting | None, limits: LightingLimits) -> str | None:
    """What to add when the view cannot be told and the background outshines the
    patient (from ``face_shade_ratio``): the face search then misses faces in shade."""
    if lighting is None or lighting.backlight_ratio < limits.face_shade_ratio:
        return None
    return (
        f"the background is {lighting.backlight_ratio:.1f} times brighter than the patient, "
        "so the face may be in shade; next time film with the window or lamp behind the "
        "camera"
    )


#: Frames read, and their size (long side, px), when no person was found at all.
DARK_CHECK_FRAMES, DARK_CHECK_LONG_SIDE_PX = 5, 160


def picture_brightness(path: Path, n_frames_expected: int) -> float | None:
    """The picture's brightness where no body gives one: the median over a few frames
    spread over the clip of each frame's brightest tenth (90th percentile of its luma,
    as the subject's lit parts are read); None when no frame decodes."""
    from screener.video import read_frames, spread_indices

    wanted = spread_indices(max(n_frames_expected, 1), DARK_CHECK_FRAMES)
    frames = read_frames(path, {DARK_CHECK_LONG_SIDE_PX: wanted})[DARK_CHECK_LONG_SIDE_PX]
    if not frames:
        return None
    return float(
        np.median([np.percentile(luma(rgb), SUBJECT_PERCENTILE) for rgb in frames.values()])
    )


def dark_picture_note(brightness: float | None, limits: LightingLimits) -> str | None:
    """What to add to "no person was found" when the picture is darker than the
    subject's validated brightness even at its brightest tenth."""
    if brightness is None or brightness >= limits.subject_luma_min:
        return None
    return (
        f"the picture is dark (its brightest tenth at {brightness:.1f} of 255; a lit patient "
        f"reads {limits.subject_luma_min:.0f} or more): turn on the room's lights"
    )
