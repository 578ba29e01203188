"""H.264 encoding with imageio-ffmpeg's bundled ffmpeg, optionally with rotation metadata."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterable
from pathlib import Path

import numpy as np

LOGGER = logging.getLogger(__name__)


def ffmpeg_exe() -> str:
    """Path of imageio-ffmpeg's bundled ffmpeg binary."""
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def write_h264(
    path: Path,
    frames: Iterable[np.ndarray],
    fps: float,
    size: tuple[int, int],
    crf: int = 29,
    store_rotated: bool = False,
) -> None:
    """Encode RGB frames to H.264 (yuv420p, faststart).

    Parameters
    ----------
    path
        Output ``.mp4``/``.mov``.
    frames
        Upright RGB uint8 frames ``(height, width, 3)``.
    fps
        Frame rate (constant).
    size
        Upright ``(width, height)``.
    crf
        x264 constant rate factor (higher = smaller).
    store_rotated
        Store each frame turned 90° clockwise (a landscape stream for a portrait
        picture) and tag the stream with a display matrix of 90° counter-clockwise, as a
        phone does: players, ffmpeg and PyAV-based readers that honour the metadata show
        the upright frame. The clockwise rotation a reader must apply is then 270°.
    """
    import imageio_ffmpeg

    width, height = size
    stored = (height, width) if store_rotated else (width, height)
    target = path.with_suffix(".tmp" + path.suffix) if store_rotated else path
    writer = imageio_ffmpeg.write_frames(
        str(target),
        stored,
        fps=fps,
        codec="libx264",
        pix_fmt_out="yuv420p",
        quality=None,
        macro_block_size=2,
        output_params=[
            "-crf",
            str(crf),
            "-preset",
            "medium",
            "-movflags",
            "+faststart",
            "-threads",
            "1",
        ],
        ffmpeg_log_level="error",
    )
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(np.rot90(frame, k=-1) if store_rotated else frame))
    writer.close()
    if store_rotated:
        cmd = [
            ffmpeg_exe(),
            "-y",
            "-loglevel",
            "error",
            "-display_rotation",
            "90",
            "-i",
            str(target),
            "-c",
            "copy",
            "-movflags",
            "+faststart",
            str(path),
        ]
        subprocess.run(cmd, check=True)
        target.unlink()
    LOGGER.info("wrote %s (%.0f kB)", path, path.stat().st_size / 1024)
