"""Copies of a folder's videos as a messaging app or an e-mail would send them.

Usage::

    python -m bench.reencode SRC DST --short-side 480 --kbps 1000 [--restore-size]

Every ``.mp4``/``.mov`` under ``SRC`` is decoded upright (``screener.video.iter_frames``:
a phone's rotation is applied, as a messaging app bakes it in) and encoded again with
H.264 (PyAV's libx264, ``yuv420p``), its shorter side scaled to ``--short-side`` pixels
(never enlarged) and its bit rate held near ``--kbps`` kilobits per second (one pass,
``maxrate`` 1.5 times that), every frame kept with its time (the stance-timing
labels of ``bench.real_walk_events`` are frame numbers). With ``--restore-size`` the copy
is then scaled back to the original's size almost losslessly (CRF 12), so that benchmarks
that read pixels of the original (a camera calibration, a crop) still apply; the detail
lost stays lost. Every other file is copied, so
the copy of ``../shared`` (or of a rendered set with its truth files) can be given to the
benchmarks as it is: ``bench.real_video_agreement --folder DST/real_videos/...``,
``bench.real_walk_events --shared DST``, ``bench.accuracy DST/...``.

It writes files and asserts nothing.

Notes
-----
What was shared in 2026 is not one format: WhatsApp's default sends about 480 pixels on
the short side at roughly 1 Mbit/s, e-mail and messengers' "HD" 720 pixels at 2-4
Mbit/s. ``--short-side 480 --kbps 1000`` stands for the first, ``360 --kbps 300`` for a
poor connection's. The encoder is x264, not the phone's or the app's, whose artefacts
differ.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from screener.video import iter_frames, probe_video

LOGGER = logging.getLogger("bench.reencode")

VIDEO_SUFFIXES = (".mp4", ".mov")

#: Time base of the copies' timestamps (s): the MPEG clock, fine enough for 240 fps.
TIME_BASE = Fraction(1, 90000)


def scaled_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    """``(width, height)`` with the shorter side at most ``short_side``, both even."""
    scale = min(1.0, short_side / min(width, height))
    return 2 * round(width * scale / 2), 2 * round(height * scale / 2)


def reencode(src: Path, dst: Path, short_side: int, kbps: int, restore_size: bool) -> None:
    """Encode ``src`` again into ``dst`` (see the module's docstring)."""
    info = probe_video(src)
    width, height = info.width_px, info.height_px  # upright, as iter_frames gives them
    size = scaled_size(width, height, short_side)
    small = dst.with_suffix(".small" + dst.suffix) if restore_size else dst
    options = {"maxrate": f"{int(1.5 * kbps)}k", "bufsize": f"{2 * kbps}k"}
    _encode(_resized(src, size), small, size, info.fps_nominal, options, 1000 * kbps)
    if restore_size:
        restored = _resized(small, (width, height))
        _encode(restored, dst, (width, height), info.fps_nominal, {"crf": "12"})
        small.unlink()


def _resized(path: Path, size: tuple[int, int]) -> Iterator[tuple[float, np.ndarray]]:
    """The video's upright frames at ``size``, with their times, one at a time."""
    for frame in iter_frames(path, max_long_side_px=None):
        rgb: np.ndarray = frame.rgb
        if rgb.shape[1::-1] != size:
            shrink = size[0] < rgb.shape[1]
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
        yield frame.time_s, rgb


def _encode(
    frames: Iterator[tuple[float, np.ndarray]],
    dst: Path,
    size: tuple[int, int],
    fps: float,
    options: dict[str, str],
    bit_rate: int | None = None,
) -> None:
    """H.264 ``yuv420p`` of upright RGB frames, each at its own time."""
    with av.open(str(dst), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = TIME_BASE
        stream.options = {"preset": "medium", **options}
        if bit_rate is not None:
            stream.bit_rate = bit_rate
        last = -1
        for time_s, rgb in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts = max(last + 1, round(time_s / TIME_BASE))
            frame.time_base = TIME_BASE
            last = frame.pts
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def main(argv: list[str] | None = None) -> int:
    """Copy ``SRC`` into ``DST`` with its videos encoded again; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    parser.add_argument("--short-side", type=int, default=480, help="pixels (default 480)")
    parser.add_argument("--kbps", type=int, default=1000, help="kbit/s (default 1000)")
    parser.add_argument(
        "--restore-size",
        action="store_true",
        help="scale the copy back to the original's size (for benchmarks that read its pixels)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not args.src.is_dir():
        sys.stderr.write(f"{args.src}: not a folder\n")
        return 2
    count = 0
    for path in sorted(p for p in args.src.rglob("*") if p.is_file()):
        out = args.dst / path.relative_to(args.src)
        out.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() in VIDEO_SUFFIXES:
            reencode(path, out, args.short_side, args.kbps, args.restore_size)
            LOGGER.info(
                "%s: %.0f kB -> %.0f kB",
                path,
                path.stat().st_size / 1024,
                out.stat().st_size / 1024,
            )
            count += 1
        else:
            shutil.copy2(path, out)
    LOGGER.info("%d videos encoded again into %s", count, args.dst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
