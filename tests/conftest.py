"""Shared fixtures: where the videos are, and a factory of small generated videos.

* ``sample_videos_dir``: the repository's committed sample videos (the real-video fixtures).
* ``real_videos_dir``: ``../shared/real_videos`` beside the repository; tests using it have
  ``real_videos`` in their name and carry ``@pytest.mark.real_videos``. They run by
  default (CI has the folder beside its clone) and are skipped, with that reason, where
  the folder is absent (a user's machine); ``-m 'not real_videos'`` leaves them out.
* ``make_video``: writes a small synthetic video with known frame times, size, codec,
  container and rotation metadata (PyAV), for the decoding tests.
* ``slice_video``: re-encodes the first seconds of a video into a short test clip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO_DIR = Path(__file__).resolve().parents[1]
SAMPLE_VIDEOS_DIR = REPO_DIR / "sample_videos"
REAL_VIDEOS_DIR = REPO_DIR.parent / "shared" / "real_videos"
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".webm", ".mkv")


@pytest.fixture(scope="session")
def sample_videos_dir() -> Path:
    """The committed sample videos folder (``sample_videos/``)."""
    return SAMPLE_VIDEOS_DIR


@pytest.fixture(scope="session")
def sample_videos(sample_videos_dir: Path) -> list[Path]:
    """The committed sample video files, sorted by name."""
    return sorted(p for p in sample_videos_dir.glob("*") if p.suffix.lower() in VIDEO_SUFFIXES)


#: The real clips of ``../shared/real_videos`` the capture readings are checked on: the
#: Pose2Sim lab's four calibrated cameras and the Sports2D street clip.
REAL_CLIPS = (
    "pose2sim_multiperson/cam01.mp4",
    "pose2sim_multiperson/cam02.mp4",
    "pose2sim_multiperson/cam03.mp4",
    "pose2sim_multiperson/cam04.mp4",
    "sports2d_demo/demo.mp4",
)


@pytest.fixture(scope="session")
def real_videos_dir() -> Path:
    """``../shared/real_videos``; skips the test where it is absent (outside this machine)."""
    if not REAL_VIDEOS_DIR.is_dir():
        pytest.skip(f"real_videos: {REAL_VIDEOS_DIR} is absent")
    return REAL_VIDEOS_DIR


def orientation_pattern(height: int, width: int, index: int) -> np.ndarray:
    """A frame whose orientation can be read back: red band on TOP, green band on the LEFT,
    a white square that moves with the frame index."""
    img = np.full((height, width, 3), 40, np.uint8)
    img[: max(2, height // 5), :, :] = (230, 20, 20)
    img[:, : max(2, width // 8), :] = (20, 230, 20)
    size = max(4, min(height, width) // 8)
    x = (index * 3) % max(1, width - size)
    y = height // 2
    img[y : y + size, x : x + size] = 255
    return img


def write_video(
    path: Path,
    *,
    times_s: Sequence[float] | None = None,
    n_frames: int = 30,
    fps: float = 30.0,
    size: tuple[int, int] = (160, 96),
    codec: str = "libx264",
    container_format: str | None = None,
    display_rotation_ccw: int = 0,
    time_base: Fraction = Fraction(1, 1000),
    frame_fn: Callable[[int, int, int], np.ndarray] = orientation_pattern,
    options: dict[str, str] | None = None,
    pix_fmt: str = "yuv420p",
) -> Path:
    """Write a video whose frames, times and rotation are known.

    Parameters
    ----------
    path
        Output file (the suffix picks the container unless ``container_format`` is given).
    times_s
        Presentation time of each frame (variable frame rate); default ``i / fps``.
    size
        ``(width, height)`` of the STORED frames.
    display_rotation_ccw
        Display-matrix rotation, degrees counter-clockwise, as a phone writes it; the
        stored frame is ``frame_fn``'s UPRIGHT picture rotated the other way, so a correct
        reader shows ``frame_fn``'s picture.
    frame_fn
        ``(height, width, index) -> RGB uint8`` picture of the upright frame.
    pix_fmt
        The pixel format the frames are stored in (e.g. ``yuvj420p``, ``yuv444p``,
        ``yuv420p10le`` with ``libx265``).
    """
    import av

    width, height = size
    times = list(times_s) if times_s is not None else [i / fps for i in range(n_frames)]
    k = (display_rotation_ccw // 90) % 4
    upright_h, upright_w = (width, height) if k % 2 else (height, width)
    with av.open(str(path), "w", format=container_format, options=options or {}) as out:
        stream: Any = out.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = width, height
        stream.pix_fmt = pix_fmt
        if codec in ("libx264", "libvpx-vp9", "libvpx"):
            # keyframe every 10 frames (seeking is exercised); B-frames only at a constant
            # rate: with uneven gaps the muxer can get non-increasing decode stamps.
            stream.options = {"g": "10"} if times_s is None else {"g": "10", "bf": "0"}
        stream.time_base = time_base
        stream.codec_context.time_base = time_base  # else pts are rounded to 1 / rate
        if display_rotation_ccw:
            stream.set_display_rotation(display_rotation_ccw)
        for i, t in enumerate(times):
            upright = frame_fn(upright_h, upright_w, i)
            stored = np.ascontiguousarray(np.rot90(upright, k=-k))
            frame = av.VideoFrame.from_ndarray(stored, format="rgb24")
            frame.pts = round(t / time_base)
            frame.time_base = time_base
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


@pytest.fixture()
def make_video(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``make_video("name.mp4", **write_video_kwargs) -> Path`` in ``tmp_path``."""

    def factory(name: str, **kwargs: Any) -> Path:
        return write_video(tmp_path / name, **kwargs)

    return factory


def encode_frames(dst: Path, frames: Iterable[tuple[float, np.ndarray]], crf: int = 18) -> Path:
    """Encode ``(time_s, rgb)`` frames to an H.264 mp4 at their times (odd sizes cropped)."""
    import av

    with av.open(str(dst), "w") as out:
        stream: Any = None
        for time_s, rgb in frames:
            if stream is None:
                h, w = rgb.shape[:2]
                stream = out.add_stream("libx264", rate=30)
                stream.width, stream.height = w - w % 2, h - h % 2
                stream.pix_fmt = "yuv420p"
                stream.options = {"preset": "veryfast", "crf": str(crf)}
                stream.time_base = Fraction(1, 1000)
                stream.codec_context.time_base = Fraction(1, 1000)
            vf = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(rgb[: stream.height, : stream.width]), format="rgb24"
            )
            vf.pts = round(time_s * 1000)
            vf.time_base = Fraction(1, 1000)
            for packet in stream.encode(vf):
                out.mux(packet)
        if stream is not None:
            for packet in stream.encode():
                out.mux(packet)
    return dst


def transform_video(src: Path, dst: Path, transform: Callable[[np.ndarray], np.ndarray]) -> Path:
    """Re-encode ``src`` (upright, full size) with ``transform`` applied to every RGB frame."""
    from screener.video import iter_frames

    return encode_frames(dst, ((f.time_s, transform(f.rgb)) for f in iter_frames(src)))


def slice_to_clip(
    src: Path,
    dst: Path,
    *,
    seconds: float,
    long_side_px: int = 640,
) -> Path:
    """Re-encode the first ``seconds`` of ``src`` (upright, scaled) to an H.264 mp4."""
    from screener.video import iter_frames

    frames = []
    for frame in iter_frames(src, max_long_side_px=long_side_px):
        if frame.time_s >= seconds:
            break
        frames.append((frame.time_s, frame.rgb))
    return encode_frames(dst, frames, crf=20)


def remux_with_rotation(src: Path, dst: Path, display_rotation_ccw: int) -> Path:
    """Copy ``src``'s video packets unchanged into ``dst`` with a display-matrix rotation."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        in_stream = inp.streams.video[0]
        out_stream = out.add_stream_from_template(in_stream)
        out_stream.set_display_rotation(display_rotation_ccw)
        for packet in inp.demux(in_stream):
            if packet.dts is None:
                continue
            packet.stream = out_stream
            out.mux(packet)
    return dst


@pytest.fixture(scope="session")
def sample_clip(sample_videos: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 1.5 s of the first committed sample video (short MediaPipe runs)."""
    if not sample_videos:
        pytest.skip(f"no sample videos committed in {SAMPLE_VIDEOS_DIR} yet")
    dst = tmp_path_factory.mktemp("sample_clip") / "sample_clip.mp4"
    return slice_to_clip(sample_videos[0], dst, seconds=1.5)


@pytest.fixture(scope="session")
def real_videos_clip(real_videos_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 1.5 s of ``sports2d_demo/demo.mp4`` from ``../shared/real_videos``."""
    src = real_videos_dir / "sports2d_demo" / "demo.mp4"
    if not src.is_file():
        pytest.skip(f"real_videos: {src} is absent")
    dst = tmp_path_factory.mktemp("real_videos_clip") / "demo_clip.mp4"
    return slice_to_clip(src, dst, seconds=1.5)
