"""Throughput and peak memory of the screener against a bare MediaPipe loop.

Prints figures; asserts nothing. On the same clip, in the same run:

* decoding alone: ``screener.video.iter_frames`` and ``cv2.VideoCapture`` read + cvtColor;
* (a) a bare MediaPipe loop over the clip's frames (cv2 read + cvtColor + pose.process);
* ``screener.pose.estimate_pose`` without cache, then a cache hit;
* (b) the full ``screener.analyze(path, config=AnalysisConfig(cache_dir=None))``;
* the ratio of (b)'s throughput to (a)'s (target >= 0.9, issue 2);
* peak resident memory (``VmHWM`` of a fresh child process) of the full analysis on the clip
  and on a 10x longer clip made by looping it (packets copied, no re-encoding).

Usage::

    python bench/throughput.py [VIDEO] [--repeat N] [--loops 10] [--no-memory]

Without VIDEO: the first committed sample video, else
``../shared/real_videos/pose2sim_multiperson/cam01.mp4``.

Notes
-----
The machine may be shared: run with ``--repeat 2`` or more; the best time of each is used.
The child processes pay the MediaPipe import and model load, so short-clip memory
includes the model (the flat part).
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FALLBACK = REPO.parent / "shared" / "real_videos" / "pose2sim_multiperson" / "cam01.mp4"


def default_video() -> Path:
    """First committed sample video, else the shared real clip."""
    samples = sorted(
        p for p in (REPO / "sample_videos").glob("*") if p.suffix.lower() in (".mp4", ".mov")
    )
    return samples[0] if samples else FALLBACK


def time_decode_screener(path: Path) -> tuple[int, float]:
    from screener.video import iter_frames

    start = time.perf_counter()
    n = sum(1 for _ in iter_frames(path))
    return n, time.perf_counter() - start


def time_decode_cv2(path: Path) -> tuple[int, float]:
    import cv2

    start = time.perf_counter()
    cap = cv2.VideoCapture(str(path))
    n = 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        n += 1
    cap.release()
    return n, time.perf_counter() - start


def time_bare_mediapipe(path: Path) -> tuple[int, float]:
    """(a) cv2 read + cvtColor + pose.process, model construction included."""
    import cv2
    import mediapipe as mp

    start = time.perf_counter()
    pose = mp.solutions.pose.Pose(model_complexity=1)
    cap = cv2.VideoCapture(str(path))
    n = 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        pose.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        n += 1
    cap.release()
    pose.close()
    return n, time.perf_counter() - start


def time_estimate_pose(path: Path, cache_dir: Path | None) -> tuple[int, float]:
    from screener.config import PoseConfig
    from screener.pose import estimate_pose

    start = time.perf_counter()
    seq = estimate_pose(path, PoseConfig(), cache_dir)
    return seq.n_frames, time.perf_counter() - start


def time_analyze(path: Path) -> tuple[int, float]:
    """(b) the full analysis, nothing cached."""
    import screener
    from screener.config import AnalysisConfig

    start = time.perf_counter()
    result = screener.analyze(path, config=AnalysisConfig(cache_dir=None))
    return len(result.frames), time.perf_counter() - start


def loop_video(src: Path, dst: Path, times: int) -> Path:
    """``src`` played ``times`` times in a row, packets copied (no re-encoding)."""
    import av

    with av.open(str(src)) as inp:
        stream = inp.streams.video[0]
        stamps = [int(p.pts) for p in inp.demux(stream) if p.pts is not None and p.size]
        step = round(1 / (float(stream.average_rate or 30) * float(stream.time_base or 1)))
        span = max(stamps) - min(stamps) + step
    with av.open(str(dst), "w") as out:
        out_stream = None
        for r in range(times):  # demux again each time: a muxed packet gives up its data
            with av.open(str(src)) as inp:
                stream = inp.streams.video[0]
                if out_stream is None:
                    out_stream = out.add_stream_from_template(stream)
                for packet in inp.demux(stream):
                    if packet.dts is None or not packet.size:
                        continue
                    packet.stream = out_stream
                    packet.dts = int(packet.dts) + r * span
                    if packet.pts is not None:
                        packet.pts = int(packet.pts) + r * span
                    out.mux(packet)
    return dst


def peak_rss_mb(path: Path, stage: str) -> tuple[float, int]:
    """Peak RSS (MB) and frame count of ``stage`` run on ``path`` in a fresh process."""
    proc = subprocess.run(
        [sys.executable, __file__, "--child", stage, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return float(data["peak_rss_mb"]), int(data["frames"])


def child(stage: str, path: Path) -> None:
    """Run one stage and print its peak RSS as JSON (used by :func:`peak_rss_mb`)."""
    runners = {"analyze": time_analyze, "bare": time_bare_mediapipe}
    n, _ = runners[stage](path)
    print(json.dumps({"peak_rss_mb": peak_rss_kb() / 1024.0, "frames": n}))


def peak_rss_kb() -> float:
    """This process's peak resident set size, kB.

    ``VmHWM`` from ``/proc/self/status`` on Linux: unlike ``ru_maxrss``, which Linux
    carries over ``execve`` from the forking parent (a child of a 570 MB parent would
    report at least 570 MB), it belongs to the new process image alone.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def row(name: str, n: int, seconds: float, note: str = "") -> str:
    fps = n / seconds if seconds > 0 else float("nan")
    return f"{name:<40} {n:>7} {seconds:>9.2f} {fps:>9.1f}  {note}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=1, help="alternate (a)/(b) N times")
    parser.add_argument("--loops", type=int, default=10, help="length factor for memory")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("STAGE", "VIDEO"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0

    import mediapipe  # noqa: F401  (import once, outside every timed run)

    from screener.video import probe_video

    path = args.video or default_video()
    info = probe_video(path)
    print(
        f"clip: {path}\n  {info.width_px}x{info.height_px} upright (rotation {info.rotation_deg}), "
        f"{info.fps_nominal:.2f} fps, {info.n_frames_header} frames, {info.codec}, "
        f"{info.size_bytes / 1e6:.1f} MB\n"
    )
    print(f"{'stage':<40} {'frames':>7} {'seconds':>9} {'fps':>9}")
    lines: list[str] = []

    def show(line: str) -> None:
        lines.append(line)
        print(line, flush=True)

    show(row("decode: screener.video.iter_frames", *time_decode_screener(path)))
    show(row("decode: cv2 read + cvtColor", *time_decode_cv2(path)))

    bare: list[tuple[int, float]] = []
    full: list[tuple[int, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        n, t_miss = time_estimate_pose(path, cache)
        show(row("estimate_pose (cache miss, writes npz)", n, t_miss))
        n, t_hit = time_estimate_pose(path, cache)
        show(row("estimate_pose (cache hit)", n, t_hit, f"{t_hit * 1000:.0f} ms"))
    for i in range(args.repeat):
        bare.append(time_bare_mediapipe(path))
        show(row(f"(a) bare MediaPipe loop #{i + 1}", *bare[-1]))
        full.append(time_analyze(path))
        show(row(f"(b) screener.analyze #{i + 1}", *full[-1]))
    n_a, t_a = min(bare, key=lambda r: r[1])
    n_b, t_b = min(full, key=lambda r: r[1])
    ratio = (n_b / t_b) / (n_a / t_a)
    print(
        f"\nthroughput ratio analyze / bare loop: {ratio:.2f} "
        f"(best of {args.repeat}; target >= 0.9)"
    )

    if not args.no_memory:
        with tempfile.TemporaryDirectory() as tmp:
            longer = loop_video(path, Path(tmp) / f"looped{args.loops}x{path.suffix}", args.loops)
            print("\npeak memory (fresh child process, VmHWM)")
            print(f"{'run':<40} {'frames':>7} {'peak MB':>9}")
            results: dict[str, float] = {}
            for label, clip in (("short clip", path), (f"{args.loops}x longer clip", longer)):
                for stage in ("bare", "analyze"):
                    mb, frames = peak_rss_mb(clip, stage)
                    results[f"{stage} {label}"] = mb
                    print(f"{stage + ' / ' + label:<40} {frames:>7} {mb:>9.0f}", flush=True)
            growth = results[f"analyze {args.loops}x longer clip"] - results["analyze short clip"]
            print(f"analyze peak growth for {args.loops}x the frames: {growth:+.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
