"""``screener analyze VIDEO``: screen one video and write the spec's files."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from screener.tasks import all_tasks, task_choices

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


def lens_height_cm(value: str) -> float:
    """``--lens-height-cm``, in metres (:func:`screener.config.check_lens_height_cm`)."""
    from screener.config import check_lens_height_cm

    try:
        return check_lens_height_cm(value) / 100.0
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def camera_distance_m(value: str) -> float:
    """``--camera-distance-m`` (:func:`screener.config.check_camera_distance_m`)."""
    from screener.config import check_camera_distance_m

    try:
        return check_camera_distance_m(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def patient_height_cm(value: str) -> float:
    """``--patient-height-cm``, in metres (:func:`screener.config.check_patient_height_cm`)."""
    from screener.config import check_patient_height_cm

    try:
        return check_patient_height_cm(value) / 100.0
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_patient_height_argument(p: argparse.ArgumentParser, used: str) -> None:
    """``--patient-height-cm`` (stored in metres as ``patient_height_m``), its help ending
    with ``used``."""
    p.add_argument(
        "--patient-height-cm",
        dest="patient_height_m",
        type=patient_height_cm,
        default=None,
        metavar="CM",
        help="the patient's height: a single-leg squat of a patient at or under the stature "
        "its errors were measured larger for is judged with the larger error (the video "
        f"does not give it); {used}",
    )


def add_placement_arguments(p: argparse.ArgumentParser, lens_for: str, distance_for: str) -> None:
    """``--lens-height-cm`` (stored in metres as ``lens_height_m``) and
    ``--camera-distance-m``, their helps ending with ``lens_for`` and ``distance_for``."""
    p.add_argument(
        "--lens-height-cm",
        dest="lens_height_m",
        type=lens_height_cm,
        default=None,
        metavar="CM",
        help=f"the phone's lens height above the floor, measured when filming: {lens_for}",
    )
    p.add_argument(
        "--camera-distance-m",
        dest="camera_distance_m",
        type=camera_distance_m,
        default=None,
        metavar="M",
        help=f"the distance from the phone's lens to the patient, measured when filming: "
        f"{distance_for}",
    )


class ProgressBar:
    """A one-line progress bar of pose estimation, redrawn in place on a terminal.

    Parameters
    ----------
    stream
        Where to draw (``sys.stderr``); nothing is drawn unless it is a terminal.
    label
        Text before the bar.

    Notes
    -----
    Redrawn at most 10 times a second; :meth:`close` erases the line, so only the result
    line stays on the terminal.
    """

    WIDTH = 30

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.enabled = bool(getattr(stream, "isatty", lambda: False)())
        self.start: float | None = None
        self.last_draw = 0.0
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        """Show ``done`` of ``total`` frames (the signature of a pose progress callback)."""
        now = time.monotonic()
        if self.start is None:
            self.start = now  # the first frame: model loading is not counted in the rate
        if not self.enabled or (now - self.last_draw < 0.1 and done < total):
            return
        self.last_draw = now
        share = min(1.0, done / total) if total > 0 else 0.0
        filled = round(share * self.WIDTH)
        rate = done / max(now - self.start, 1e-3)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(
            f"\r{self.label} [{bar}] {share:4.0%} {done}/{total} frames, {rate:.0f} fps"
        )
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        """Erase the bar."""
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.drawn = False


def _non_negative(value: str) -> float:
    try:
        number = float(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from exc
    if not number >= 0:
        raise argparse.ArgumentTypeError(f"expected a number 0 or more, got {value}")
    return number


def _choices(allowed: tuple[str, ...]) -> Any:
    def parse(value: str) -> list[str]:
        items = [v.strip().replace("-", "_") for v in value.split(",") if v.strip()]
        bad = [v for v in items if v not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(
                f"unknown value(s) {', '.join(bad)}; choose from {', '.join(allowed)}"
            )
        return items

    return parse


def add_intake_arguments(p: argparse.ArgumentParser) -> None:
    """The pain, history and red-flag answers (see :class:`screener.intake.Intake`)."""
    from screener.intake import FIRST_LINE_LABELS, RED_FLAG_LABELS

    g = p.add_argument_group(
        "pain and history",
        "The plan's pain gate uses --running-pain; the other answers are recorded and shown.",
    )
    g.add_argument("--patient", default="", help="patient code for the chart entry (no name)")
    g.add_argument("--visit-date", default=None, help="visit date, YYYY-MM-DD (default: today)")
    g.add_argument(
        "--running-pain",
        type=_pain,
        default=None,
        help="worst lateral knee pain during or after running in the past week, 0-10",
    )
    g.add_argument(
        "--pain",
        type=_pain,
        default=None,
        help="older name of --running-pain, read as running pain (it used to say 'now'); "
        "a note says so on stderr",
    )
    g.add_argument("--rest-pain", type=_pain, default=None, help="lateral knee pain at rest, 0-10")
    g.add_argument(
        "--pain-onset", default="", help="when the pain starts in a run, e.g. '3 km' or '20 min'"
    )
    g.add_argument("--weekly-km", type=_non_negative, default=None, help="running km per week")
    g.add_argument(
        "--first-line",
        type=_choices(tuple(k for k in FIRST_LINE_LABELS if k != "unspecified")),
        default=[],
        help="first-line care tried, comma-separated: nsaids, activity_reduction, "
        "load_modification, cross_training",
    )
    g.add_argument(
        "--first-line-weeks", type=_non_negative, default=None, help="how long, in weeks"
    )
    g.add_argument(
        "--first-line-done",
        action="store_true",
        help="first-line care was tried, which not recorded (prefer --first-line)",
    )
    g.add_argument(
        "--red-flag",
        type=_choices(tuple(RED_FLAG_LABELS)),
        action="extend",
        default=[],
        help="a positive red-flag answer (refers instead of a plan), comma-separated: "
        + ", ".join(RED_FLAG_LABELS),
    )


def intake_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The intake answers of the parsed options, as a mapping for ``screener.analyze``."""
    if args.pain is not None:
        if args.running_pain is not None:
            raise argparse.ArgumentTypeError("give --running-pain or --pain, not both")
        sys.stderr.write(
            "screener: note: --pain is read as --running-pain (worst lateral knee pain "
            "during or after running in the past week)\n"
        )
    care = list(args.first_line) or (["unspecified"] if args.first_line_done else [])
    return {
        "patient_code": args.patient,
        "visit_date": args.visit_date or date.today().isoformat(),
        "running_pain": args.running_pain if args.running_pain is not None else args.pain,
        "rest_pain": args.rest_pain,
        "pain_onset": args.pain_onset,
        "weekly_volume_km": args.weekly_km,
        "first_line_care": care,
        "first_line_weeks": args.first_line_weeks,
        "red_flags": list(args.red_flag),
    }


def register(subparsers: Any) -> None:
    """Add the ``analyze`` sub-command."""
    p = subparsers.add_parser(
        "analyze",
        help="screen one video",
        description="Screen one video: pose, angles, events, fault flags, plan, report.",
    )
    p.add_argument("video", type=Path, help="mp4, mov, avi or webm file")
    p.add_argument(
        "--task",
        choices=task_choices(),
        default="auto",
        help="; ".join(f"{t.name}: {t.help}" for t in all_tasks()) + "; auto: detect",
    )
    p.add_argument(
        "--side",
        choices=["left", "right", "auto"],
        default="auto",
        help="stance leg of a single-leg squat (a clip with squats on both legs is analysed "
        "for this leg; auto: the leg stood on longest)",
    )
    p.add_argument(
        "--view",
        choices=["anterior", "posterior", "auto"],
        default="auto",
        help="anterior: filmed from the front; posterior: from behind; auto: detect (a walk "
        "away from the camera and back is analysed the way of this view; auto: the longer)",
    )
    add_intake_arguments(p)
    p.add_argument(
        "--sex",
        choices=["female", "male"],
        default=None,
        help="selects sex-specific norms where the literature has them",
    )
    add_placement_arguments(
        p,
        "checked against the validated range (the video gives it only for a walk toward or "
        "away from the camera)",
        "checked for a single-leg squat filmed from the front (the video does not give it)",
    )
    add_patient_height_argument(p, "e.g. 165")
    p.add_argument(
        "-o",
        "--outdir",
        type=Path,
        default=None,
        help="output folder (default: ./screener-results/<video name>)",
    )
    p.add_argument(
        "--pdf", action="store_true", help="also write report.pdf and handout.pdf (WeasyPrint)"
    )
    p.add_argument(
        "--annotated-video",
        action="store_true",
        help="also write annotated.mp4 (faces blurred, skeleton and live angles drawn)",
    )
    p.add_argument("--no-report", action="store_true", help="skip report.html")
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help="JSON or TOML file of settings (see screener.config.AnalysisConfig)",
    )
    p.add_argument("--no-cache", action="store_true", help="do not read or write cached keypoints")
    frame_model = p.add_mutually_exclusive_group()
    frame_model.add_argument(
        "--geometric-angles",
        action="store_true",
        help="report the frontal angles as read from the landmarks, without the learned "
        "frame models' correction (models/frame_model.md; the single-leg squat's own, "
        "models/frame_model_sls.md), e.g. to compare with earlier "
        "versions; the corrected angles are the default",
    )
    frame_model.add_argument(
        "--research-frame-model",
        action="store_true",
        help="research: let the learned frame model also correct the angles its real-video "
        "check did not verify (pelvic obliquity and hip adduction since session 16, "
        "models/frame_model.md); the report labels them research values",
    )
    p.add_argument(
        "--rule-events",
        action="store_true",
        help="time walking and jogging stance phases with the stance rule (a foot still in "
        "the image) instead of the learned event model, the default (models/event_model.md)",
    )
    p.add_argument(
        "--research-rep-model",
        action="store_true",
        help="research: re-time the start and end of squat repetitions with the learned "
        "repetition model, which is not checked on real video (models/event_model.md); "
        "the report says so",
    )
    p.add_argument(
        "--research-silhouette",
        action="store_true",
        help="research: read a jog's knee FPPA again with the body's outline (a second pose "
        "pass with MediaPipe's segmentation) into the events column "
        "knee_fppa_silhouette_deg; checked on renders only (models/silhouette_fppa.md), "
        "never used by the report, flags or plan",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``screener analyze``."""
    from screener.cli import collection_paused, frame_memory_reused, return_freed_memory_promptly
    from screener.config import REP_MODEL_PATH, SILHOUETTE_MODEL_PATH, load_config
    from screener.fileio import check_output_dir
    from screener.pose import release_landmarker
    from screener.result import OUTPUT_FILES, OUTPUT_FOLDERS

    # One video per process: its peak memory is what counts.
    heap_thresholds_set = return_freed_memory_promptly()
    config = load_config(args.config)
    if args.no_cache:
        config = config.model_copy(update={"cache_dir": None})
    if args.geometric_angles:
        config = config.model_copy(update={"frame_model_path": None})
    if args.research_frame_model:
        config = config.model_copy(update={"frame_model_include_unverified": True})
    if args.research_silhouette:
        config = config.model_copy(update={"silhouette_model_path": SILHOUETTE_MODEL_PATH})
    if args.rule_events or args.research_rep_model:
        update: dict[str, Path | None] = {}
        if args.rule_events:
            update["event_model_path"] = None
        if args.research_rep_model:
            update["rep_model_path"] = REP_MODEL_PATH
        config = config.model_copy(update={"events": config.events.model_copy(update=update)})
    outdir = args.outdir or Path("screener-results") / args.video.stem
    try:
        intake = intake_from_args(args)
    except argparse.ArgumentTypeError as exc:
        sys.stderr.write(f"screener: error: {exc}\n")
        return 2
    # Where the results go is checked before the (long) analysis, not after it.
    check_output_dir(outdir, OUTPUT_FILES, OUTPUT_FOLDERS)
    quiet = bool(getattr(args, "quiet", False)) or bool(getattr(args, "verbose", 0))
    bar = ProgressBar(sys.stderr, f"{args.video.name}: pose")
    bar.enabled = bar.enabled and not quiet
    from screener.acquire import estimate_video_pose

    try:
        # One video per process: only the video stage's libraries are loaded while the
        # pose is estimated; MediaPipe's landmarker is released before the searches, and
        # the analysis and report libraries load after them (screener.analyze would hold
        # them all at once).
        acquired = estimate_video_pose(
            args.video,
            config,
            progress=bar,
            release_pose_model=True,
            pose_pass=lambda: frame_memory_reused(heap_thresholds_set),
        )
    finally:
        bar.close()
    release_landmarker()  # and the searches' detector

    with collection_paused():  # the analysis libraries (pandas, SciPy) load here
        from screener.pipeline import analyze_pose

    result = analyze_pose(
        acquired.raw,
        task=args.task,
        side=args.side,
        view=args.view,
        intake=intake,
        sex=args.sex,
        lens_height_m=args.lens_height_m,
        camera_distance_m=args.camera_distance_m,
        patient_height_m=args.patient_height_m,
        config=acquired.config,
        video_path=args.video,
        video_info=acquired.video_info,
        other_people=acquired.other_people,
        faces=acquired.faces,
        scene_tilt=acquired.scene_tilt,
        lighting=acquired.lighting,
        clothing=acquired.clothing,
    )
    result.write(
        outdir, report=not args.no_report, pdf=args.pdf, annotated_video=args.annotated_video
    )
    from screener.faults import describe_verdicts

    summary = result.summary
    sys.stdout.write(
        f"{args.video}: {summary['task']} ({summary['view']} view), "
        f"{len(result.events)} events, measures {describe_verdicts(summary['faults'])} "
        f"(see the report); results in {outdir.resolve()}\n"
    )
    return 0
