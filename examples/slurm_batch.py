"""Run ``screener batch`` on a SLURM cluster with dask-jobqueue.

The batch code is the same as on a laptop: only the Dask client differs. Each SLURM job
starts ``--processes`` Dask worker processes with one thread each (one pose landmarker
per process). The output folder, the videos and the keypoint cache must be on a file
system that every node can read and write (e.g. the cluster's shared home or scratch).

Examples
--------
Print the job script SLURM would run, without submitting anything::

    python examples/slurm_batch.py /shared/videos -o /shared/out --dry-run

Analyse with up to 8 jobs of 4 workers each, on partition ``cpu``::

    python examples/slurm_batch.py /shared/videos -o /shared/out \\
        --queue cpu --account mylab --jobs 8 --processes 4 --memory 16GB \\
        --cache-dir /shared/screener-cache --export trc,mot

Needs ``pip install 'screener[batch,slurm]'`` on the login node and the compute nodes
(the same Python environment, e.g. on the shared file system).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments of the example."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("input", type=Path, help="folder of videos or manifest CSV")
    p.add_argument("-o", "--outdir", type=Path, required=True, help="shared output folder")
    p.add_argument("--queue", default=None, help="SLURM partition")
    p.add_argument("--account", default=None, help="SLURM account")
    p.add_argument("--jobs", type=int, default=4, help="maximum SLURM jobs (adaptive)")
    p.add_argument("--processes", type=int, default=4, help="worker processes per job")
    p.add_argument("--memory", default="16GB", help="memory per job (~1.5 GB per process)")
    p.add_argument("--walltime", default="02:00:00", help="walltime per job")
    p.add_argument("--cache-dir", type=Path, default=None, help="shared keypoint cache")
    p.add_argument("--export", default="", help="per-video exports, e.g. trc,mot")
    p.add_argument("--reuse-keypoints", action="store_true", help="no pose estimation")
    p.add_argument("--dry-run", action="store_true", help="print the job script and stop")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start a SLURM cluster, run the batch on it, close it."""
    from dask_jobqueue import SLURMCluster
    from distributed import Client

    from screener.batch import BatchOptions, discover_videos, read_manifest, run_batch
    from screener.batch.export import parse_exports
    from screener.config import AnalysisConfig

    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    cluster = SLURMCluster(
        queue=args.queue,
        account=args.account,
        cores=args.processes,  # one thread per worker process:
        processes=args.processes,  # cores == processes
        memory=args.memory,
        walltime=args.walltime,
        job_name="screener-batch",
        log_directory=str(args.outdir / "slurm-logs"),
    )
    try:
        if args.dry_run:
            sys.stdout.write(cluster.job_script() + "\n")
            return 0
        cluster.adapt(minimum_jobs=0, maximum_jobs=args.jobs)
        config = AnalysisConfig()
        if args.cache_dir is not None:
            config = config.model_copy(update={"cache_dir": args.cache_dir})
        if args.input.is_dir():
            jobs = discover_videos(args.input, exclude=[args.outdir])
        else:
            jobs = read_manifest(args.input)
        options = BatchOptions(
            outdir=args.outdir,
            config=config,
            exports=parse_exports(args.export),
            reuse_keypoints=args.reuse_keypoints,
        )
        with Client(cluster) as client:
            report = run_batch(jobs, options, client=client, input_description=str(args.input))
    finally:
        cluster.close()
    sys.stdout.write(f"{report.counts}\nresults in {args.outdir}\n")
    return 130 if report.interrupted else (1 if report.counts["failed"] else 0)


if __name__ == "__main__":
    raise SystemExit(main())
