"""``screener batch INPUT -o OUTDIR``: analyse a folder of videos or a manifest CSV."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from screener.cli_analyze import add_patient_height_argument, add_placement_arguments
from screener.tasks import task_choices

log = logging.getLogger(__name__)


def _pain(value: str) -> float:
    try:
        pain = float(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"pain must be a number from 0 to 10, got {value!r}"
        ) from exc
    if not 0 <= pain <= 10:
        raise argparse.ArgumentTypeError(f"pain must be from 0 to 10, got {value}")
    return pain


def _exports(value: str) -> tuple[str, ...]:
    from screener.batch.export import parse_exports

    try:
        return parse_exports(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _workers(value: str) -> int:
    try:
        n = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--workers must be a whole number, got {value!r}"
        ) from exc
    if n < 1:
        raise argparse.ArgumentTypeError(f"--workers must be at least 1, got {n}")
    return n


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {value!r}") from exc
    if seconds < 0:
        raise argparse.ArgumentTypeError(f"a time-out cannot be negative, got {value}")
    return seconds


def register(subparsers: Any) -> None:
    """Add the ``batch`` sub-command."""
    p = subparsers.add_parser(
        "batch",
        help="analyse a folder of videos or a manifest CSV (Dask: local, cluster, SLURM)",
        description=(
            "Analyse many videos into per-video result folders and combined tidy tables "
            "(events, summary, faults, videos, failures). Re-runs skip unchanged videos; a "
            "failing video is recorded in failures.csv and never stops the batch. "
            "See docs/batch.md."
        ),
    )
    p.add_argument(
        "input",
        type=Path,
        help="a folder (searched recursively for mp4, mov, avi, webm, mkv...) or a manifest "
        "CSV with columns path[, id, task, side, view, subject, session, pain, "
        "first_line_done, sex, lens_height_cm, camera_distance_m, patient_height_cm, any other "
        "column carried to the tables]",
    )
    p.add_argument("-o", "--outdir", type=Path, required=True, help="output folder")
    p.add_argument(
        "--workers",
        type=_workers,
        default=None,
        help="worker processes of the local cluster (default: one per core)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="address of a running Dask scheduler (e.g. tcp://10.0.0.1:8786) instead of a "
        "local cluster",
    )
    p.add_argument(
        "--cluster-timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="stop (finished videos kept) when the scheduler is unreachable or the cluster "
        "has no worker for this long (default 300; 0: wait for ever, e.g. SLURM workers "
        "still queued)",
    )
    p.add_argument(
        "--task",
        choices=task_choices(),
        default="auto",
        help="task where the manifest does not say (default: auto-detect)",
    )
    p.add_argument(
        "--side",
        choices=["left", "right", "auto"],
        default="auto",
        help="stance leg of single-leg squats where the manifest does not say",
    )
    p.add_argument(
        "--view",
        choices=["anterior", "posterior", "auto"],
        default="auto",
        help="camera view where the manifest does not say",
    )
    p.add_argument(
        "--pain", type=_pain, default=None, help="pain 0-10 where the manifest does not say"
    )
    p.add_argument(
        "--sex",
        choices=["female", "male"],
        default=None,
        help="sex-specific norms where the manifest does not say",
    )
    add_placement_arguments(
        p,
        "used where the manifest does not say (lens_height_cm)",
        "used where the manifest does not say (camera_distance_m)",
    )
    add_patient_height_argument(p, "used where the manifest does not say (patient_height_cm)")
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help="JSON or TOML settings file (cut-offs, thresholds file, ...; see "
        "screener.config.AnalysisConfig)",
    )
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="keypoint cache folder (default: the settings' cache_dir, ~/.cache/screener)",
    )
    p.add_argument(
        "--reuse-keypoints",
        action="store_true",
        help="re-analyse from keypoints saved by an earlier run (in the result folders or "
        "the cache) without running pose estimation; videos without them fail",
    )
    p.add_argument(
        "--export",
        type=_exports,
        default=(),
        metavar="FORMATS",
        help="per-video exports, comma-separated: trc (keypoints), mot (OpenSim angles), "
        "c3d (keypoints; needs the c3d package)",
    )
    p.add_argument(
        "--trc-coords",
        choices=["world", "image"],
        default="world",
        help="TRC/C3D coordinates: MediaPipe world landmarks in metres, Y up (default) or "
        "image pixels, Y up",
    )
    p.add_argument("--report", action="store_true", help="also write each video's report.html")
    p.add_argument("--force", action="store_true", help="re-analyse every video")
    p.add_argument(
        "--retry-failed",
        action="store_true",
        help="try again videos that failed before with the same file and settings",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``screener batch``; exit code 0, 1 if any video failed, 130 if interrupted."""
    from screener.errors import ConfigError

    try:
        import distributed  # noqa: F401
        import tqdm  # noqa: F401
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"the batch runner needs {exc.name}, which is not installed",
            remedy="pip install 'screener[batch]'",
        ) from exc
    from screener.batch.inputs import JobDefaults, discover_videos, read_manifest
    from screener.batch.runner import CLUSTER_TIMEOUT_S, run_batch
    from screener.batch.worker import BatchOptions
    from screener.config import load_config

    config = load_config(args.config)
    if args.cache_dir is not None:
        config = config.model_copy(update={"cache_dir": args.cache_dir})
    defaults = JobDefaults(
        task=args.task,
        side=args.side,
        view=args.view,
        pain=args.pain,
        sex=args.sex,
        lens_height_m=args.lens_height_m,
        camera_distance_m=args.camera_distance_m,
        patient_height_m=args.patient_height_m,
    )
    source: Path = args.input
    if source.is_dir():
        jobs = discover_videos(source, defaults, exclude=[args.outdir])
    elif source.is_file() and source.suffix.lower() in (".csv", ".tsv", ".txt"):
        jobs = read_manifest(source, defaults)
    elif source.is_file():
        raise ConfigError(
            "is a file but not a manifest CSV",
            path=source,
            remedy="Give a folder of videos or a .csv manifest (use 'screener analyze' for "
            "one video).",
        )
    else:
        raise ConfigError("no such file or folder", path=source)
    if not jobs:
        raise ConfigError(
            "no video files found",
            path=source,
            remedy="Videos must be mp4, mov, avi, webm or mkv files.",
        )
    options = BatchOptions(
        outdir=args.outdir,
        config=config,
        exports=tuple(args.export),
        trc_coords=args.trc_coords,
        report=args.report,
        reuse_keypoints=args.reuse_keypoints,
        force=args.force,
        retry_failed=args.retry_failed,
    )
    report = run_batch(
        jobs,
        options,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.no_progress,
        input_description=str(source),
        cluster_timeout_s=CLUSTER_TIMEOUT_S
        if args.cluster_timeout is None
        else args.cluster_timeout,
    )
    c = report.counts
    sys.stdout.write(
        f"{c['videos']} video(s): {c['analysed']} analysed, {c['skipped']} unchanged, "
        f"{c['failed']} failed"
        + (f", {c['not_run']} not run (interrupted)" if report.interrupted else "")
        + f"\nresults in {report.outdir.resolve()}"
        + (f"; failures in {report.outdir.resolve() / 'failures.csv'}" if c["failed"] else "")
        + "\n"
    )
    if report.interrupted:
        return 130
    return 1 if c["failed"] else 0
