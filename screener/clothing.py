"""Whether the patient's top covers the hips, read from the colours of the clothes.

A loose top over the hips hides the hip joints the pose model has to place; on the
project's development renders a single-leg squat filmed from the front then read knee
valgus (FPPA) about 2° worse, though not on the hold-outs rendered after this check
(``models/envelope.toml``, ``[clothing]``; docs/capture.md, "Clothing"). The capture
guide asks for a fitted top, tucked in or ending above the hips; :func:`measure_clothing`
checks it on the few frames the second-person search decodes anyway (:mod:`screener.acquire`):

- a **chest** patch on the trunk's midline, 40 % of the way from the shoulders' midpoint
  to the hips';
- a **hip** patch: the median of three, just below the hip line (the hips' midpoint and
  each hip, 10-12 % of the way to the knees);
- a **thigh** patch: the mean of the two mid-thighs (55 % of the way to the knees).

Under a top that ends above the hips the hip patch shows the shorts or trousers, unlike
the chest; under a top over the hips it shows the top, like the chest. The colours are
compared in CIELAB (lightness at half weight, so that shading counts less than hue);
:class:`ClothingLimits` decides, and says "cannot tell" when the chest and the thighs
are alike (an outfit of one colour).

Pure NumPy on frames already decoded; no MediaPipe.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from screener.keypoints import PoseSequence
from screener.landmarks import SIDES

log = logging.getLogger(__name__)

#: Half-size of a patch, as a fraction of the trunk's length in the picture (shoulders'
#: midpoint to hips').
PATCH_HALF_FRACTION = 0.05
#: Where the chest patch lies, from the shoulders' midpoint toward the hips' (fraction).
CHEST_AT = 0.40
#: Where the hip patches lie, from the hips toward the knees (midline, each side).
HIP_MID_AT, HIP_SIDE_AT = 0.10, 0.12
#: Where the thigh patches lie, from each hip toward its knee.
THIGH_AT = 0.55
#: Weights of CIELAB's L, a and b in a colour distance (OpenCV's 8-bit scale).
LAB_WEIGHTS = np.array([0.5, 1.0, 1.0])

_PARTS = ("shoulder", "hip", "knee")


@dataclass(frozen=True)
class Clothing:
    """Colour distances between the clothes' patches (medians over the frames read).

    Attributes
    ----------
    frames
        Frames measured (a frame without shoulders, hips and knees inside the picture is
        skipped).
    hip_chest
        Distance between the hip and chest patches' colours (weighted CIELAB, OpenCV's
        8-bit scale).
    hip_thigh
        Between the hip and thigh patches.
    chest_thigh
        Between the chest and thigh patches: how well the top and the legs' clothes can
        be told apart at all.
    """

    frames: int
    hip_chest: float
    hip_thigh: float
    chest_thigh: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures (rounded)."""
        return {
            "frames": self.frames,
            "hip_chest_colour_distance": round(self.hip_chest, 1),
            "hip_thigh_colour_distance": round(self.hip_thigh, 1),
            "chest_thigh_colour_distance": round(self.chest_thigh, 1),
        }


@dataclass(frozen=True)
class ClothingLimits:
    """The clothing the measurements were validated in (``[clothing]`` of the envelope
    file, read by :func:`screener.capture.load_envelope`).

    Attributes
    ----------
    contrast_min
        Below this chest-to-thigh distance the top and the legs' clothes look alike and
        the check cannot tell.
    hip_chest_ratio_max
        The top is taken to cover the hips when the hip-to-chest distance is below this
        fraction of the chest-to-thigh distance.
    squat_front_fppa_rmse_covered_deg, squat_front_fppa_rmse_other_deg
        Knee FPPA RMSE ranges (low, high) of single-leg squats filmed from the front with
        the top found over the hips, and otherwise.
    source
        Where the limits and errors come from.
    """

    contrast_min: float
    hip_chest_ratio_max: float
    squat_front_fppa_rmse_covered_deg: tuple[float, float]
    squat_front_fppa_rmse_other_deg: tuple[float, float]
    source: str

    def covers_hips(self, clothing: Clothing | None) -> bool | None:
        """True when the top covers the hips, False when it does not, None when the
        check was not made or cannot tell (chest and thighs alike)."""
        if clothing is None or not np.isfinite(clothing.chest_thigh):
            return None
        if clothing.chest_thigh < self.contrast_min:
            return None
        return bool(clothing.hip_chest < self.hip_chest_ratio_max * clothing.chest_thigh)


#: sRGB (D65) to CIE XYZ, and the D65 white point: the constants OpenCV's colour
#: conversion uses, so that the distances are on the scale the limits were chosen on.
_SRGB_TO_XYZ = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)
_WHITE_XYZ = np.array([0.950456, 1.0, 1.088754])


def rgb_to_lab8(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """CIELAB colours of sRGB pixels, on OpenCV's 8-bit scale (unrounded).

    Parameters
    ----------
    rgb
        ``(..., 3)`` uint8 sRGB pixels.

    Returns
    -------
    numpy.ndarray
        ``(..., 3)``: L scaled to 0-255 (``L * 255 / 100``), a and b offset by 128, as
        ``cv2.cvtColor(..., cv2.COLOR_RGB2LAB)`` gives them for uint8 images.

    Notes
    -----
    Computed in floating point from the CIE formulas with OpenCV's constants. OpenCV's
    8-bit conversion (fixed-point tables, rounded) agrees within 0.3 units on average
    (largest difference 2.3 units of a, over 200,000 random colours); building its tables
    costs about 0.1 CPU s on the first call, more than this reading's whole cost on the
    few patches it converts. On the videos of hold-outs 36-56 (1,120 clips) the clothing
    read changed by at most 0.9 units and the decision on 4 clips (0.4 %), each within
    0.04 of a limit's ratio: two tops over the hips (one found, one lost) and two others
    (one found, one "cannot tell"), none on the clips that checked the rule (47-53).
    """
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _SRGB_TO_XYZ.T / _WHITE_XYZ
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
    y = xyz[..., 1]
    lightness = np.where(y > 0.008856, 116.0 * f[..., 1] - 16.0, 903.3 * y)
    a = 500.0 * (f[..., 0] - f[..., 1])
    b = 200.0 * (f[..., 1] - f[..., 2])
    return np.stack([lightness * 255.0 / 100.0, a + 128.0, b + 128.0], axis=-1)


def _patch_lab(rgb: npt.NDArray[np.uint8], point: npt.NDArray[np.float64], half: int) -> Any:
    """Median CIELAB colour of the square patch around ``point``; None off the picture."""
    h, w = rgb.shape[:2]
    x, y = round(float(point[0])), round(float(point[1]))
    if not (half <= x < w - half and half <= y < h - half):
        return None
    patch = rgb[y - half : y + half + 1, x - half : x + half + 1].reshape(-1, 3)
    return np.median(rgb_to_lab8(patch), axis=0)


def _distance(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    return float(np.linalg.norm((a - b) * LAB_WEIGHTS))


def _frame_distances(
    rgb: npt.NDArray[np.uint8], points: Mapping[str, npt.NDArray[np.float64]]
) -> tuple[float, float, float] | None:
    """``(hip_chest, hip_thigh, chest_thigh)`` of one frame, landmarks in its pixels."""
    if not all(np.isfinite(p).all() for p in points.values()):
        return None
    mid = {part: 0.5 * (points[f"left_{part}"] + points[f"right_{part}"]) for part in _PARTS}
    trunk = float(np.linalg.norm(mid["hip"] - mid["shoulder"]))
    half = max(1, round(PATCH_HALF_FRACTION * trunk))
    chest = _patch_lab(rgb, mid["shoulder"] + CHEST_AT * (mid["hip"] - mid["shoulder"]), half)
    hips = [_patch_lab(rgb, mid["hip"] + HIP_MID_AT * (mid["knee"] - mid["hip"]), half)]
    thighs = []
    for s in SIDES:
        hip, knee = points[f"{s}_hip"], points[f"{s}_knee"]
        hips.append(_patch_lab(rgb, hip + HIP_SIDE_AT * (knee - hip), half))
        thighs.append(_patch_lab(rgb, hip + THIGH_AT * (knee - hip), half))
    if chest is None or any(p is None for p in hips + thighs):
        return None
    hip_colour = np.median(np.stack(hips), axis=0)
    thigh_colour = np.mean(np.stack(thighs), axis=0)
    return (
        _distance(hip_colour, chest),
        _distance(hip_colour, thigh_colour),
        _distance(chest, thigh_colour),
    )


def measure_clothing(
    frames: Mapping[int, npt.NDArray[np.uint8]],
    pose: PoseSequence,
    rotate_cw_deg: int = 0,
) -> Clothing | None:
    """The clothes' colours at the chest, hips and thighs on a few frames of the video.

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
    Clothing or None
        None when no frame shows the shoulders, hips and knees inside the picture.

    Notes
    -----
    Chosen on the videos of hold-outs 36-46 (533 rendered clips, every task and view, a
    quarter with a top over the hips) and checked on those of hold-outs 47-53 (473
    clips), which chose nothing: the rule of the envelope file found 89 % of the tops
    over the hips and 2.4 % of the others (docs/capture.md, "Clothing"). The renders'
    tops are flat colours; a patterned top is where the check can miss. A top of the
    shorts' colour ending above the hips reads as a top over them (most of the false
    finds on those videos: 9 of 13), and the warning says so.
    """
    from screener.upright import frames_as_posed

    names = [f"{s}_{part}" for part in _PARTS for s in SIDES]
    xy = {name: pose.xy(name) for name in names}
    rows = []
    for index, rgb, scale in frames_as_posed(frames, pose, rotate_cw_deg):
        found = _frame_distances(rgb, {name: xy[name][index] * scale for name in names})
        if found is not None:
            rows.append(found)
    if not rows:
        return None
    hip_chest, hip_thigh, chest_thigh = (float(v) for v in np.median(np.asarray(rows), axis=0))
    log.info(
        "clothing: hip-chest %.1f, hip-thigh %.1f, chest-thigh %.1f over %d frame(s)",
        hip_chest,
        hip_thigh,
        chest_thigh,
        len(rows),
    )
    return Clothing(len(rows), hip_chest, hip_thigh, chest_thigh)


def clothing_warnings(
    clothing: Clothing | None, limits: ClothingLimits, task: str, view: str, envelope_name: str
) -> tuple[list[str], dict[str, tuple[float, str]]]:
    """The warning, and the knee FPPA error the verdicts use, of a single-leg squat filmed
    from the front in a top over the hips.

    Returns
    -------
    warnings, error_floors
        Both empty unless the task is ``"sls"``, the view ``"anterior"`` and the top was
        found over the hips: the only task and view where the renders showed it to
        matter for a reported angle (docs/capture.md, "Clothing").
    """
    if task != "sls" or view != "anterior" or not limits.covers_hips(clothing):
        return [], {}
    covered, other = (
        limits.squat_front_fppa_rmse_covered_deg,
        limits.squat_front_fppa_rmse_other_deg,
    )
    text = (
        "the patient's top seems to cover the hips (its colour continues below the hip "
        "joints; a top and shorts of one colour look the same to this check), which can hide "
        "the hips from the pose model: on test renders, single-leg squats filmed from the "
        f"front in such a top read knee valgus (FPPA) {covered[0]:.1f}-{covered[1]:.1f}° off "
        f"(RMSE), {other[0]:.1f}-{other[1]:.1f}° otherwise. Have the patient tuck the top in, "
        "or wear a fitted top ending above the hips in a colour other than the shorts', and "
        "film again"
    )
    floor = (
        max(covered),
        f"{envelope_name}, [clothing]: a single-leg squat filmed from the front with the "
        "top over the hips",
    )
    return [text], {"knee_fppa_deg": floor}
