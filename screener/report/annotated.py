"""An annotated copy of the analysed video: faces blurred, skeleton and live angles drawn.

Optional output (``screener analyze --annotated-video``, ``AnalysisResult.write(...,
annotated_video=True)``). Every frame passes through :func:`~screener.report.images.blur_faces`
before anything is drawn, as every image the project writes does.
"""

from __future__ import annotations

import logging
import math
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from screener.fileio import atomic_write
from screener.report.images import Image, blur_faces, draw_label, draw_skeleton
from screener.upright import pose_rotation_cw, rotate_image

if TYPE_CHECKING:
    from screener.result import AnalysisResult

log = logging.getLogger(__name__)

#: Per-frame values shown on the video, with their labels.
LIVE_VALUES: tuple[tuple[str, str], ...] = (
    ("pelvic_obliquity_deg", "pelvic obliquity (+ = L hip low)"),
    ("left_knee_fppa_deg", "L knee FPPA"),
    ("right_knee_fppa_deg", "R knee FPPA"),
    ("left_hip_adduction_deg", "L hip adduction"),
    ("right_hip_adduction_deg", "R hip adduction"),
    ("trunk_lean_deg", "trunk lean (+ = to L)"),
)


def write_annotated_video(
    result: AnalysisResult, path: Path, *, max_height_px: int = 720, crf: int = 23
) -> Path:
    """Write ``path`` (MP4, H.264): the source video with the analysis drawn on it.

    Parameters
    ----------
    result
        An analysis of a video file (``result.video_path`` set).
    path
        The MP4 file to write (atomically).
    max_height_px
        Frames taller than this are scaled down (aspect kept).
    crf
        x264 quality (lower is better and larger).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        The result was computed from landmarks without a video.

    Notes
    -----
    One output frame per analysed frame, at the clip's nominal frame rate (a variable
    frame rate clip plays at its average rate; ``frames.csv`` has the true times). The
    stance leg is drawn thicker; the swinging leg's frontal-plane angles are not shown
    (they mean nothing for a knee flexed in the air); values left empty by the analysis
    show as ``--``.
    """
    from screener.video import iter_frames

    video_path = result.video_path
    if video_path is None:
        raise ValueError("an annotated video needs the analysed video file")
    width, height = result.pose.image_size_px
    turn = pose_rotation_cw(result.raw_pose)
    long_side = max(width, height)
    fps = float(result.summary.get("fps") or 30.0)
    frames = result.frames

    def encode(tmp: Path) -> None:
        import av

        container = av.open(str(tmp), mode="w", format="mp4")
        try:
            stream = None
            for frame in iter_frames(video_path, max_long_side_px=long_side):
                if frame.index >= len(frames):
                    break
                rgb = rotate_image(frame.rgb, turn)  # as for pose estimation
                image = annotate_frame(result, frame.index, rgb)
                image = _fit(image, max_height_px)
                if stream is None:
                    stream = container.add_stream(
                        "libx264", rate=Fraction(fps).limit_denominator(1001)
                    )
                    stream.width, stream.height = image.shape[1], image.shape[0]
                    stream.pix_fmt = "yuv420p"
                    stream.options = {"crf": str(crf), "preset": "veryfast"}
                video_frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                for packet in stream.encode(video_frame):
                    container.mux(packet)
            if stream is not None:
                for packet in stream.encode():
                    container.mux(packet)
        finally:
            container.close()

    atomic_write(path, encode)
    log.info("wrote the annotated video %s", path)
    return path


def annotate_frame(result: AnalysisResult, index: int, rgb: Image) -> Image:
    """One frame with the face blurred, the skeleton and the frame's values drawn."""
    xy = result.pose.image_xy_px[index]
    if rgb.shape[1::-1] != tuple(result.pose.image_size_px):
        sx = rgb.shape[1] / result.pose.image_size_px[0]
        sy = rgb.shape[0] / result.pose.image_size_px[1]
        xy = xy * np.array([sx, sy])
    image = np.ascontiguousarray(blur_faces(rgb, xy))
    row = result.frames.iloc[index]
    stance = None
    for side in ("left", "right"):
        if int(row.get(f"{side}_in_stance", 0) or 0):
            stance = side
    scale = max(1.0, max(image.shape[:2]) / 900)
    draw_skeleton(image, xy, stance, scale)
    lines = [f"t {float(row['time_s']):.2f} s" + (f"  stance: {stance}" if stance else "")]
    for column, label in LIVE_VALUES:
        leg = column.split("_", 1)[0]
        if stance is not None and leg in ("left", "right") and leg != stance:
            lines.append(f"{label} (swing leg)")
            continue
        value = float(row[column]) if column in row else math.nan
        lines.append(f"{label} {value:+.1f} deg" if math.isfinite(value) else f"{label} --")
    step = round(24 * scale)
    for k, text in enumerate(lines):
        draw_label(image, text, (8, step * (k + 1)), scale * 0.8)
    return image


def _fit(image: Image, max_height_px: int) -> Image:
    """Scale down to ``max_height_px`` and crop to even sides (H.264 with yuv420p)."""
    import cv2

    if image.shape[0] > max_height_px:
        f = max_height_px / image.shape[0]
        size = (max(2, int(image.shape[1] * f)), max_height_px)
        image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    return np.ascontiguousarray(image[:h, :w])
