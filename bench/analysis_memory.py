"""Peak memory of the analysis stage on a long clip, without decoding a long video.

Prints figures; asserts nothing. ``bench/whole_process.py --only-long`` measures a whole
``screener analyze`` over a looped 10-minute video, which takes about an hour here; the
analysis after the pose pass only needs landmarks, so this builds them instead:

1. The keypoints of a sample video (``--source``, cached in ``--cache-dir``) tiled end
   to end to ``--minutes`` of clip (frame times continued; the same jumps at each joint
   as in a looped video).
2. In a child process set up as ``screener analyze`` is (glibc's mmap threshold, the
   analysis libraries imported first): resident memory after loading (the baseline),
   then ``analyze_pose`` and ``AnalysisResult.write`` without the report, while a thread
   samples resident memory every 5 ms and records the main thread's stack at the
   highest sample. Printed: the baseline, the peak, peak minus baseline, the stack at
   the peak, wall and CPU seconds.
3. With ``--tracemalloc``: also Python's traced allocations at their peak, by line (a
   snapshot whenever the traced total passes its highest value by 2 MiB; tracing slows
   the run several times).

Usage::

    python -m bench.analysis_memory [--minutes 10] [--source VIDEO] [--tracemalloc]
                                    [--outdir DIR]

``--outdir`` keeps the tables: ``bench/sample_outputs.py compare`` then compares two
versions of the code on the long clip. The script imports nothing from ``bench``, so
``PYTHONPATH=OTHER_CHECKOUT python bench/analysis_memory.py`` runs it on other code.

Notes
-----
A 60 fps clip of 10 minutes is 36,000 frames; one copy of its landmarks (33 landmarks,
image x y, world x y z and visibility in float64) is 57 MiB; the raw pose holds its
world landmarks in float32, as MediaPipe gives them (43 MiB), the cleaned copy in float64.
Measured 2 December 2026 (session 7, machine loaded by other jobs, memory unaffected),
alternating the trees before (6c0e4a1) and after, 3 runs each: peak 341-349 -> 306-311
MiB, +98-106 -> +77-81 MiB over the memory held before the analysis (229 MiB after,
243 before: the raw world landmarks in float32), the peak moving from writing
``frames.parquet`` (PyArrow's mimalloc kept 15-18 MiB) and ``frames.csv`` (13 MiB of
strings at a time) and the roll correction's temporaries (+87 MiB) to the steady
analysis (+65 MiB: the cleaned landmarks and the frame table) and the table writes
(about +77 MiB).

Measured 5 December 2026 (session 25, 3 runs each, alternating the trees before,
bc8f5ff, and after): peak 408-413 -> 327-332 MiB over 229-230 MiB held before (+179-183
-> +98-102), CPU 8.7-9.0 -> 6.2-7.0 s (the machine busier after). The peak had moved
(session 15's stance model, session 13's frame model) to the models' inputs: both feet's
gap-filled stance inputs held together, each 2,000-frame chunk's inputs with their
applicability check (about 70 MB at once), and the frame model's features, standardised
features and hidden layers for every frame at once. Since: one foot's inputs at a time,
written into one array, 500-frame chunks for both models, the frame features written
landmark by landmark, and BLAS on one thread during the analysis
(:mod:`screener.threads`; OpenBLAS's second thread cost the networks 7.8 CPU s instead
of 0.7). ``frames.csv`` and ``events.csv`` of the 10-minute clip byte-identical before
and after.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO / "sample_videos" / "jog_normal_ant_60fps.mp4"
MIB = 1024.0 * 1024.0


def rss_mib() -> float:
    """Resident memory of this process now."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB


def tiled(raw: Any, n_frames: int) -> Any:
    """``raw``'s frames repeated end to end until ``n_frames``, times continued."""
    import numpy as np

    reps = -(-n_frames // raw.n_frames)
    dt = float(np.median(np.diff(raw.time_s)))
    span = float(raw.time_s[-1] - raw.time_s[0]) + dt
    time_s = (raw.time_s[None, :] + span * np.arange(reps)[:, None]).reshape(-1)[:n_frames]

    def rep(a: Any) -> Any:
        return np.concatenate([a] * reps)[:n_frames]

    return raw.with_arrays(
        time_s=time_s,
        image_xy_px=rep(raw.image_xy_px),
        world_xyz_m=rep(raw.world_xyz_m),
        visibility=rep(raw.visibility),
        detected=rep(raw.detected),
    )


class PeakSampler(threading.Thread):
    """Samples resident memory; keeps the main thread's stack at the highest sample."""

    def __init__(self, period_s: float = 0.005, trace_step_mib: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.period_s = period_s
        self.peak = 0.0
        self.stack: list[str] = []
        self.trace_peak = 0.0
        self.trace_step = trace_step_mib * MIB
        self.trace_snapshot: Any = None
        self._stop_event = threading.Event()
        self._main = threading.main_thread().ident

    def run(self) -> None:
        import tracemalloc

        while not self._stop_event.is_set():
            now = rss_mib()
            if now > self.peak:
                self.peak = now
                frame = sys._current_frames().get(self._main or 0)
                self.stack = traceback.format_stack(frame)[-8:] if frame else []
            if tracemalloc.is_tracing():
                current = tracemalloc.get_traced_memory()[0]
                if current > self.trace_peak + self.trace_step:
                    self.trace_peak = current
                    self.trace_snapshot = tracemalloc.take_snapshot()
            time.sleep(self.period_s)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def measure(
    source: Path, minutes: float, cache_dir: Path, trace: bool, outdir: Path | None = None
) -> None:
    """Child: build the long keypoints, analyse them, print the figures."""
    from screener.cli import return_freed_memory_promptly

    return_freed_memory_promptly()
    from screener.acquire import estimate_video_pose
    from screener.config import AnalysisConfig

    config = AnalysisConfig(cache_dir=cache_dir)
    acquired = estimate_video_pose(source, config, release_pose_model=True)
    import gc

    import pandas  # noqa: F401  (loaded by the analysis; counted in the baseline)
    import pyarrow  # noqa: F401
    import scipy.signal  # noqa: F401

    from screener.pipeline import analyze_pose
    from screener.pose import release_landmarker

    release_landmarker()
    n_frames = round(minutes * 60 * acquired.raw.fps)
    raw = tiled(acquired.raw, n_frames)
    gc.collect()
    base = rss_mib()
    if trace:
        import tracemalloc

        tracemalloc.start(12)
    sampler = PeakSampler()
    sampler.start()
    t0, c0 = time.perf_counter(), time.process_time()
    result = analyze_pose(
        raw,
        config=acquired.config,
        video_info=acquired.video_info,
        other_people=acquired.other_people,
        faces=acquired.faces,
    )
    del raw
    with tempfile.TemporaryDirectory() as tmp:
        result.write(outdir or Path(tmp) / "out", report=False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    sampler.stop()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    out = sys.stdout
    out.write(
        f"{source.name} tiled to {n_frames} frames ({minutes:g} min at "
        f"{acquired.raw.fps:.0f} fps): {len(result.events)} events\n"
        f"resident before the analysis {base:.0f} MiB; peak {sampler.peak:.0f} MiB "
        f"(+{sampler.peak - base:.0f}); process ru_maxrss {maxrss:.0f} MiB\n"
        f"wall {wall:.1f} s, CPU {cpu:.1f} s\nstack at the peak:\n{''.join(sampler.stack)}"
    )
    if trace and sampler.trace_snapshot is not None:
        out.write(f"traced Python allocations at their peak: {sampler.trace_peak / MIB:.0f} MiB\n")
        for stat in sampler.trace_snapshot.statistics("traceback")[:8]:
            out.write(f"  {stat.size / MIB:6.1f} MiB in {stat.count} block(s)\n")
            for line in stat.traceback.format(limit=4, most_recent_first=True):
                out.write(f"    {line}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument(
        "--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "screener-bench-cache"
    )
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--outdir", type=Path, help="keep the tables written here")
    args = parser.parse_args(argv)
    measure(args.source, args.minutes, args.cache_dir, args.tracemalloc, args.outdir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
