"""Batch throughput: videos per minute with 1 and 2 workers, and re-analysis from keypoints.

Prints figures, asserts nothing. Targets (issue 5): 2 workers >= 1.8x the videos per
minute of 1 worker on 2 cores; re-analysis from cached keypoints >= 50x faster than the
first run.

Usage::

    python bench/batch_throughput.py [FOLDER] [--limit N] [--copies K]

FOLDER defaults to ``sample_videos/``. ``--copies K`` runs each video K times (under
different ids, with the keypoint cache off, so each copy really runs pose estimation) to
have enough tasks for two workers. Cluster start-up is timed separately and left out of
the rates.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from screener.batch import BatchOptions, discover_videos, make_client, run_batch
from screener.batch.inputs import VideoJob
from screener.config import AnalysisConfig

ROOT = Path(__file__).resolve().parents[1]


def _jobs(folder: Path, limit: int | None, copies: int) -> list[VideoJob]:
    jobs = [j for j in discover_videos(folder) if j.path.suffix.lower() in (".mp4", ".mov")]
    jobs = jobs[:limit] if limit else jobs
    return [replace(j, video_id=f"{j.video_id}-copy{k}") for k in range(copies) for j in jobs]


def _timed_run(jobs: list[VideoJob], options: BatchOptions, workers: int) -> dict[str, float]:
    t0 = time.perf_counter()
    client, cluster = make_client(workers=workers)
    started = time.perf_counter()
    try:
        report = run_batch(jobs, options, client=client, progress=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    elapsed = time.perf_counter() - started
    return {
        "startup_s": started - t0,
        "elapsed_s": elapsed,
        "analysed": report.counts["analysed"],
        "failed": report.counts["failed"],
        "per_min": 60.0 * len(jobs) / elapsed,
    }


def main() -> None:
    """Run the benchmark and print the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", type=Path, nargs="?", default=ROOT / "sample_videos")
    p.add_argument("--limit", type=int, default=None, help="use the first N videos")
    p.add_argument("--copies", type=int, default=1, help="run each video K times")
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    jobs = _jobs(args.folder, args.limit, args.copies)
    print(f"{len(jobs)} video task(s) from {args.folder}")
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        no_cache = AnalysisConfig(cache_dir=None)
        rates = {}
        for workers in (1, 2):
            out = work / f"w{workers}"
            r = _timed_run(jobs, BatchOptions(outdir=out, config=no_cache), workers)
            rates[workers] = r["per_min"]
            print(
                f"{workers} worker(s): {r['per_min']:.2f} videos/min "
                f"({r['elapsed_s']:.1f} s for {len(jobs)}, {r['analysed']:.0f} analysed, "
                f"{r['failed']:.0f} failed; cluster start-up {r['startup_s']:.1f} s)"
            )
        print(f"speed-up 2 vs 1 worker: {rates[2] / rates[1]:.2f}x (target >= 1.8x)")

        # re-analysis with a new cut-off from the keypoints saved by the 1-worker run
        first = work / "w1"
        cleaning = no_cache.cleaning.model_copy(
            update={"cutoff_hz": {"walk": 5.0, "sls": 5.0, "jog": 8.0}}
        )
        reuse = BatchOptions(
            outdir=first,
            config=no_cache.model_copy(update={"cleaning": cleaning}),
            reuse_keypoints=True,
        )
        r1 = 60.0 * len(jobs) / rates[1]
        r = _timed_run(jobs, reuse, 1)
        print(
            f"re-analysis from keypoints (1 worker): {r['elapsed_s']:.2f} s vs first run "
            f"{r1:.1f} s: {r1 / r['elapsed_s']:.1f}x faster (target >= 50x); "
            f"{r['analysed']:.0f} analysed, {r['failed']:.0f} failed"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
