"""Drawing for the report stills: faces blurred, the skeleton and the angles drawn.

Every image the report writes passes through :func:`blur_faces` first (the stills are
cut by :mod:`screener.report.stills`). Drawing uses OpenCV (``cv2``, installed with
mediapipe), imported inside the functions.
"""

from __future__ import annotations

import itertools
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from screener.landmarks import FACE, INDEX

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]

#: Colours (RGB) of the subject's left and right side.
SIDE_RGB: dict[str, tuple[int, int, int]] = {"left": (31, 119, 180), "right": (230, 120, 20)}
ANGLE_RGB = (220, 20, 60)
REFERENCE_RGB = (255, 255, 255)

_BONES: tuple[tuple[str, str], ...] = (
    ("left_shoulder", "right_shoulder"),
    ("left_hip", "right_hip"),
    ("left_shoulder", "left_hip"),
    ("right_shoulder", "right_hip"),
)
_LEG: tuple[str, ...] = ("hip", "knee", "ankle", "heel", "foot_index")


def read_video_frame(path: Path, index: int) -> Image | None:
    """One upright RGB frame of a video, or None (logged) if it cannot be read."""
    from screener.errors import VideoError
    from screener.video import read_frame

    try:
        return np.asarray(read_frame(path, index), dtype=np.uint8)
    except (VideoError, OSError, IndexError) as exc:
        log.warning("%s: cannot read frame %d for the report (%s)", path, index, exc)
        return None


def blank_frame(size_px: tuple[int, int]) -> Image:
    """A neutral grey canvas of ``(width, height)``, used when no video frame is at hand."""
    width, height = size_px
    return np.full((height, width, 3), 60, dtype=np.uint8)


def face_box(
    xy: npt.NDArray[np.float64], shape: tuple[int, int]
) -> tuple[int, int, int, int] | None:
    """Box ``(x0, y0, x1, y1)`` to blur over the head of one frame's landmarks.

    Parameters
    ----------
    xy
        Image landmarks of one frame, ``(33, 2)``.
    shape
        ``(height, width)`` of the image.

    Returns
    -------
    tuple or None
        The box clipped to the image; None when neither face nor shoulder landmarks exist.

    Notes
    -----
    From the face landmarks (nose, eyes, ears, mouth) padded generously; when they are
    missing (e.g. seen from behind), from the shoulders: a head-sized box above them.
    """
    face = xy[[INDEX[n] for n in FACE]]
    face = face[np.isfinite(face).all(axis=1)]
    shoulders = xy[[INDEX["left_shoulder"], INDEX["right_shoulder"]]]
    sw = float(np.linalg.norm(shoulders[0] - shoulders[1])) if np.isfinite(shoulders).all() else 0.0
    if len(face):
        lo, hi = face.min(axis=0), face.max(axis=0)
        pad = max(0.6 * float(np.max(hi - lo)), 0.35 * sw, 20.0)
        lo, hi = lo - pad, hi + pad
    elif sw > 0:
        centre = shoulders.mean(axis=0) - np.array([0.0, 0.75 * sw])
        lo, hi = centre - 0.6 * sw, centre + 0.6 * sw
    else:
        return None
    height, width = shape
    x0, y0 = int(max(0, math.floor(lo[0]))), int(max(0, math.floor(lo[1])))
    x1, y1 = int(min(width, math.ceil(hi[0]))), int(min(height, math.ceil(hi[1])))
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def blur_faces(
    image: Image, xy: npt.NDArray[np.float64] | None, *, in_place: bool = False
) -> Image:
    """Return the image with the head region pixelated and blurred beyond recognition.

    Parameters
    ----------
    image
        RGB image.
    xy
        The frame's image landmarks ``(33, 2)``; None or no usable landmark blurs the
        whole image (nothing identifiable is ever written).
    in_place
        Blur ``image`` itself (a caller that owns a full-size frame saves a copy of it);
        False returns a blurred copy and leaves ``image`` as it was.
    """
    import cv2

    out = image if in_place else image.copy()
    box = face_box(xy, (image.shape[0], image.shape[1])) if xy is not None else None
    if box is None:
        out[...] = cv2.GaussianBlur(out, (0, 0), 25)
        return out
    x0, y0, x1, y1 = box
    roi = out[y0:y1, x0:x1]
    h, w = roi.shape[:2]
    small = cv2.resize(roi, (max(1, w // 12), max(1, h // 12)), interpolation=cv2.INTER_AREA)
    out[y0:y1, x0:x1] = smooth_blocks(np.asarray(small, dtype=np.uint8), (w, h), max(3.0, w / 10))
    return out


#: :func:`smooth_blocks` blurs at a scale where the Gaussian's sigma is at least this.
SMOOTH_SCALE_SIGMA_PX = 4.0


def smooth_blocks(small: Image, size: tuple[int, int], sigma: float) -> Image:
    """``small`` enlarged to ``size`` in blocks (nearest neighbour) and blurred by a
    Gaussian of ``sigma`` pixels of ``size``.

    Notes
    -----
    A large sigma is applied at a reduced scale, where it is :data:`SMOOTH_SCALE_SIGMA_PX`
    or more: the blocks are area-averaged down to that scale, blurred, and enlarged
    linearly. The blur leaves nothing finer than a few of those pixels, so the look is
    that of the full-size blur for a fraction of the work. Measured on the face boxes
    (about 272 x 234 px, sigma 27) of three frames of the 1080x1920 benchmark clip
    (December 2026): 3 ms instead of 95 ms; within the box the pixels differ from the
    full-size blur's by 0.4-0.6 grey levels on average (99th percentile 4, at most 7),
    before the stills shrink them. With sigma below twice that bound the blur is the
    full-size one.
    """
    import cv2

    width, height = size
    blocks = cv2.resize(small, size, interpolation=cv2.INTER_NEAREST)
    factor = max(1, int(sigma // SMOOTH_SCALE_SIGMA_PX))
    reduced = (max(1, round(width / factor)), max(1, round(height / factor)))
    if reduced == size:
        return np.asarray(cv2.GaussianBlur(blocks, (0, 0), sigma), dtype=np.uint8)
    coarse = cv2.resize(blocks, reduced, interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(coarse, (0, 0), sigma * reduced[0] / width)
    return np.asarray(cv2.resize(blurred, size, interpolation=cv2.INTER_LINEAR), dtype=np.uint8)


def _pt(xy: npt.NDArray[np.float64], name: str) -> tuple[int, int] | None:
    p = xy[INDEX[name]]
    return (round(p[0]), round(p[1])) if np.isfinite(p).all() else None


def _line(
    img: Image, a: tuple[int, int] | None, b: tuple[int, int] | None, rgb: Any, w: int
) -> None:
    import cv2

    if a is not None and b is not None:
        cv2.line(img, a, b, rgb, w, cv2.LINE_AA)


def draw_skeleton(
    image: Image, xy: npt.NDArray[np.float64], stance: str | None, scale: float
) -> None:
    """Draw trunk, pelvis and both legs in place; the stance leg thicker."""
    import cv2

    w = max(2, round(3 * scale))
    for a, b in _BONES:
        _line(image, _pt(xy, a), _pt(xy, b), (230, 230, 230), w)
    for side, rgb in SIDE_RGB.items():
        width = 2 * w if side == stance else w
        for a, b in itertools.pairwise(_LEG):
            _line(image, _pt(xy, f"{side}_{a}"), _pt(xy, f"{side}_{b}"), rgb, width)
        for part in _LEG:
            p = _pt(xy, f"{side}_{part}")
            if p is not None:
                cv2.circle(image, p, w + 2, rgb, -1, cv2.LINE_AA)


def draw_label(image: Image, text: str, at: tuple[int, int], scale: float) -> None:
    """Write ``text`` in place on a black box with its baseline near ``at``, kept inside."""
    import cv2

    font, size, thick = cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, max(1, round(1.5 * scale))
    (tw, th), base = cv2.getTextSize(text, font, size, thick)
    x = int(min(max(0, at[0]), image.shape[1] - tw - 6))
    y = int(min(max(th + 6, at[1]), image.shape[0] - base - 2))
    cv2.rectangle(image, (x - 3, y - th - 5), (x + tw + 3, y + base + 2), (0, 0, 0), -1)
    cv2.putText(image, text, (x, y), font, size, (255, 230, 80), thick, cv2.LINE_AA)


def draw_angle(
    image: Image, xy: npt.NDArray[np.float64], metric: str, side: str, value: float, scale: float
) -> None:
    """Draw the lines that define ``metric`` for the ``side`` stance leg and label its value."""
    import cv2

    w = max(2, round(2 * scale))
    text = f"{metric_short(metric)} {value:.1f} deg"
    if metric == "knee_fppa_deg":
        hip, knee = xy[INDEX[f"{side}_hip"]], xy[INDEX[f"{side}_knee"]]
        if np.isfinite(hip).all() and np.isfinite(knee).all():
            ext = knee + 0.6 * (knee - hip)
            _dashed(image, knee, ext, REFERENCE_RGB, w)
            _line(image, _pt(xy, f"{side}_knee"), _pt(xy, f"{side}_ankle"), ANGLE_RGB, w + 1)
            draw_label(image, text, (int(knee[0]) + 12, int(knee[1])), scale)
            return
    if metric == "pelvic_drop_deg":
        lh, rh = xy[INDEX["left_hip"]], xy[INDEX["right_hip"]]
        if np.isfinite(lh).all() and np.isfinite(rh).all():
            anchor = lh if side == "left" else rh
            other = rh if side == "left" else lh
            level = np.array([other[0], anchor[1]])
            _dashed(image, anchor, level, REFERENCE_RGB, w)
            _line(image, _pt(xy, "left_hip"), _pt(xy, "right_hip"), ANGLE_RGB, w + 1)
            top = int(min(lh[1], rh[1])) - 20
            draw_label(image, text, (int(min(lh[0], rh[0])), top), scale)
            return
    if metric == "trunk_lean_deg":
        mid_hip = 0.5 * (xy[INDEX["left_hip"]] + xy[INDEX["right_hip"]])
        mid_sh = 0.5 * (xy[INDEX["left_shoulder"]] + xy[INDEX["right_shoulder"]])
        if np.isfinite(mid_hip).all() and np.isfinite(mid_sh).all():
            length = float(np.linalg.norm(mid_sh - mid_hip))
            _dashed(image, mid_hip, mid_hip - np.array([0.0, length]), REFERENCE_RGB, w)
            a, b = tuple(int(v) for v in mid_hip), tuple(int(v) for v in mid_sh)
            cv2.line(image, a, b, ANGLE_RGB, w + 1, cv2.LINE_AA)
            draw_label(image, text, (int(mid_sh[0]) + 12, int(mid_sh[1])), scale)
            return
    hip = xy[INDEX[f"{side}_hip"]]
    at = (int(hip[0]) + 12, int(hip[1])) if np.isfinite(hip).all() else (10, 30)
    draw_label(image, text, at, scale)


def _dashed(image: Image, a: Any, b: Any, rgb: Any, w: int, dash_px: float = 10.0) -> None:
    import cv2

    a, b = np.asarray(a, float), np.asarray(b, float)
    length = float(np.linalg.norm(b - a))
    n = max(1, int(length // dash_px))
    for k in range(0, n, 2):
        p = a + (b - a) * k / n
        q = a + (b - a) * min(k + 1, n) / n
        cv2.line(image, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), rgb, w, cv2.LINE_AA)


def metric_short(metric: str) -> str:
    """Short label of a metric for image annotations."""
    return {
        "knee_fppa_deg": "FPPA",
        "pelvic_drop_deg": "pelvic drop",
        "trunk_lean_deg": "trunk lean",
        "hip_adduction_deg": "hip adduction",
        "femoral_ir_deg": "femoral IR",
        "step_width_hip_ratio": "step width ratio",
    }.get(metric, metric)


def person_box(
    xy: npt.NDArray[np.float64], shape: tuple[int, int], margin: float = 0.15
) -> tuple[int, int, int, int]:
    """Box ``(x0, y0, x1, y1)`` around the landmarks with a margin, at least 3:4 wide.

    The whole image when no landmark is finite.
    """
    height, width = shape
    pts = xy[np.isfinite(xy).all(axis=1)]
    if len(pts) == 0:
        return 0, 0, width, height
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = margin * float(np.max(hi - lo)) + 20
    lo, hi = lo - pad, hi + pad
    min_w = 0.75 * (hi[1] - lo[1])
    if hi[0] - lo[0] < min_w:
        cx = 0.5 * (lo[0] + hi[0])
        lo[0], hi[0] = cx - min_w / 2, cx + min_w / 2
    x0, y0 = int(max(0, lo[0])), int(max(0, lo[1]))
    x1, y1 = int(min(width, hi[0])), int(min(height, hi[1]))
    if x1 - x0 < 10 or y1 - y0 < 10:
        return 0, 0, width, height
    return x0, y0, x1, y1
