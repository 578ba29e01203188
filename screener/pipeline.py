"""The orchestrator: one video (or one set of landmarks) to one :class:`AnalysisResult`.

``analyze`` decodes the video and estimates the pose (cached), then ``analyze_pose`` runs
every later stage. Each stage is a pure function of its own module; this module only
chains them, checks that what comes out can be trusted, and assembles the summary.
"""

from __future__ import annotations

import logging
import platform
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from screener import __version__
from screener.angles import (
    THIGH_MIN_VISIBLE_FRACTION,
    compute_frame_angles,
    foreshortened_thigh,
)
from screener.cleaning import CleanedPose, clean_pose, mirror_all_labels
from screener.config import AnalysisConfig, SideChoice, TaskChoice, ViewChoice
from screener.corrections import apply_corrections, apply_event_corrections, load_corrections
from screener.errors import NoPersonError, TooFewEventsError, ViewError
from screener.events import (
    Span,
    TaskEstimate,
    detect_sls_reps,
    detect_sls_side,
    detect_stance,
    detect_task,
    stance_spans,
)
from screener.intake import Intake, make_intake
from screener.keypoints import BoolArray, FloatArray, PoseSequence
from screener.landmarks import INDEX, LOWER_BODY, SIDES
from screener.metrics import asymmetry, event_table, side_statistics
from screener.result import AnalysisResult
from screener.view import ViewEstimate, detect_view

log = logging.getLogger(__name__)

#: A clip shorter than this cannot hold a repetition or two steps.
MIN_DURATION_S = 1.0
#: Fraction of frames that must show a person.
MIN_DETECTED_FRACTION = 0.3
#: Fraction of frames with a person in which both feet must be in view.
MIN_FEET_FRACTION = 0.5

ProgressCallback = Callable[[int, int], None]


def analyze(
    video: str | Path,
    *,
    task: TaskChoice = "auto",
    side: SideChoice = "auto",
    view: ViewChoice = "auto",
    intake: Intake | Mapping[str, Any] | None = None,
    pain: float | None = None,
    first_line_done: bool = False,
    sex: str | None = None,
    config: AnalysisConfig | None = None,
    progress: ProgressCallback | None = None,
) -> AnalysisResult:
    """Screen one video: pose, cleaning, events, angles, faults, plan.

    Parameters
    ----------
    video
        Path to an mp4, mov, avi or webm file.
    task
        ``"walk"``, ``"sls"`` (single-leg squat), ``"jog"`` (in place) or ``"auto"``.
    side
        Stance leg of a single-leg squat, or ``"auto"``; ignored for walk and jog.
    view
        ``"anterior"``, ``"posterior"`` or ``"auto"``. Giving it also corrects a model
        that labelled a subject seen from behind as facing the camera.
    intake
        The pain and history answers (:class:`screener.intake.Intake` or a mapping of its
        fields): worst lateral knee pain during or after running in the past week (the
        plan's pain gate), pain at rest, pain onset, weekly volume, first-line care tried
        and for how long, red flags. None: nothing recorded.
    pain
        Older name of ``intake["running_pain"]``: since the intake was added it means the
        worst lateral knee pain during or after running in the past week, 0-10 (it
        used to say "now"). Giving both is an error.
    first_line_done
        Older form of ``intake["first_line_care"]``: first-line care was tried, which
        one not recorded.
    sex
        ``"female"``, ``"male"`` or None: selects sex-specific norms where they exist.
    config
        Settings; the documented defaults if None.
    progress
        Called as ``progress(frames_done, frames_total)`` during pose estimation.

    Returns
    -------
    AnalysisResult
        Tables and summary in memory; nothing is written.

    Raises
    ------
    ScreenerError
        A subclass naming the file, the problem and what to do, whenever the video
        cannot be analysed (not a video, no person, wrong view, too short...).
    """
    from screener.pose import estimate_pose
    from screener.video import probe_video

    config = config or AnalysisConfig()
    path = Path(video)
    info = probe_video(path, min_fps=config.min_fps, max_fps=config.max_fps)
    raw = estimate_pose(path, config.pose, config.cache_dir, progress=progress)
    return analyze_pose(
        raw,
        task=task,
        side=side,
        view=view,
        intake=make_intake(intake, pain=pain, first_line_done=first_line_done),
        sex=sex,
        config=config,
        video_path=path,
        video_info=_jsonable_info(info),
    )


def analyze_pose(
    raw: PoseSequence,
    *,
    task: TaskChoice = "auto",
    side: SideChoice = "auto",
    view: ViewChoice = "auto",
    intake: Intake | Mapping[str, Any] | None = None,
    pain: float | None = None,
    first_line_done: bool = False,
    sex: str | None = None,
    config: AnalysisConfig | None = None,
    video_path: Path | None = None,
    video_info: dict[str, Any] | None = None,
) -> AnalysisResult:
    """Screen from landmarks already estimated (e.g. cached keypoints).

    Parameters are those of :func:`analyze`; ``raw`` is the pose as estimated,
    ``video_path`` and ``video_info`` are carried into the report and provenance.

    Returns
    -------
    AnalysisResult
    """
    config = config or AnalysisConfig()
    answers = make_intake(intake, pain=pain, first_line_done=first_line_done)
    name = str(video_path) if video_path else str(raw.source.get("video", "landmarks"))
    _check_person(raw, name)
    warnings: list[str] = []

    first = clean_pose(raw, config.cleaning, config.cutoff_for("walk"))
    view_est = detect_view(first.pose)
    chosen_view, mirrored = _resolve_view(view_est, view, name)
    if mirrored:
        raw = mirror_all_labels(raw)
        first = clean_pose(raw, config.cleaning, config.cutoff_for("walk"))
        facing = "away from" if view == "anterior" else "toward"
        warnings.append(
            f"the pose model labelled the subject as facing {facing} the camera; "
            "left and right were exchanged to match the view you gave"
        )

    task_est = detect_task(first.pose) if task == "auto" else TaskEstimate(task, 1.0, ("given",))
    same_cutoff = config.cutoff_for(task_est.task) == config.cutoff_for("walk")
    cleaned = (
        first if same_cutoff else clean_pose(raw, config.cleaning, config.cutoff_for(task_est.task))
    )
    pose = cleaned.pose
    warnings.extend(cleaned.notes)

    corrections = load_corrections(config.corrections_path) if config.corrections_path else None
    frames, corrections_applied = apply_corrections(
        compute_frame_angles(pose), task_est.task, corrections
    )
    quality, flags = frame_quality(raw, cleaned)
    foreshortened = foreshortened_thigh(pose)
    for s in SIDES:
        if not foreshortened[s].any():
            continue
        for col in (f"{s}_knee_fppa_deg", f"{s}_hip_adduction_deg"):
            frames[col] = np.where(foreshortened[s], np.nan, frames[col].to_numpy(float))
        for i in np.flatnonzero(foreshortened[s]):
            flags[i] = ";".join(f for f in (flags[i], f"{s}_thigh_foreshortened") if f)
    frames.insert(0, "time_s", pose.time_s)
    frames.insert(0, "frame", np.arange(pose.n_frames))
    frames.insert(2, "detected", raw.detected)
    frames.insert(3, "quality", quality)
    frames.insert(4, "quality_flags", flags)
    _blank_untrusted(frames, pose)

    spans, stance_masks, stance_side = _find_events(pose, task_est.task, side, config, name)
    for s in SIDES:
        frames[f"{s}_in_stance"] = stance_masks[s].astype(int)
    events, event_corrections = apply_event_corrections(
        event_table(spans, frames, pose), task_est.task, corrections
    )
    _check_events(events, task_est.task, name, config.events.min_events_per_side)

    sides = side_statistics(events)
    asym = asymmetry(sides)
    fps = float(pose.fps)
    from screener.faults import flag_faults
    from screener.norms import load_norms
    from screener.plan import build_plan

    norms = load_norms(config.norms_path)
    warnings.extend(
        _recording_warnings(task_est.task, fps, sides, raw, norms.task(task_est.task).min_events)
    )
    warnings.extend(_foreshortening_warnings(events, foreshortened))
    depth = _squat_depth(events, stance_side) if task_est.task == "sls" else None
    if depth is not None and depth["reached"] is False:
        warnings.append(depth["note"])
    quality_summary = {
        "detected_fraction": float(raw.detected.mean()),
        "mean_quality": float(np.mean(quality)),
        "frames_swap_repaired": int(cleaned.swapped.sum()),
        "landmark_values_gap_filled": int(cleaned.filled.sum()),
        "landmark_values_masked": int(cleaned.masked.sum()),
        "low_frame_rate": bool(task_est.task == "jog" and fps < 60),
        "warnings": warnings,
    }
    faults = flag_faults(
        task_est.task,
        events,
        sides,
        quality_summary,
        norms,
        sex=sex or config.sex,
        asymmetry=asym,
    )
    plan = build_plan(faults, answers, config.plan_path, dose_overrides=config.dose_overrides)
    summary: dict[str, Any] = {
        "task": task_est.task,
        "task_detection": {
            "given": task != "auto",
            "confidence": task_est.confidence,
            "reasons": list(task_est.reasons),
        },
        "view": chosen_view,
        "view_detection": {
            "given": view != "auto",
            "confidence": view_est.confidence,
            "width_ratio": view_est.width_ratio,
            "labels_mirrored": mirrored,
        },
        "stance_side": stance_side,
        "squat_depth": depth,
        "sex": sex or config.sex,
        "intake": answers.answers(),
        "pain": answers.running_pain,
        "first_line_done": answers.first_line_done,
        "fps": fps,
        "n_frames": pose.n_frames,
        "duration_s": float(pose.time_s[-1] - pose.time_s[0]) if pose.n_frames else 0.0,
        "event_values": (
            "stance: peak of each metric over the stance phase (t_peak_s: peak pelvic drop)"
            if task_est.task != "sls"
            else "repetition: every metric at the deepest point (t_peak_s)"
        ),
        "sides": sides,
        "asymmetry": asym,
        "faults": faults,
        "plan": plan,
        "quality": quality_summary,
        "video": video_info or {},
        "provenance": {
            **_provenance(config, raw, cleaned.cutoff_hz),
            "corrections_file": str(config.corrections_path) if config.corrections_path else None,
            "corrections": corrections_applied + event_corrections,
            "dose_overrides": plan["dose_overrides"],
        },
    }
    return AnalysisResult(
        frames=frames,
        events=events,
        summary=summary,
        pose=pose,
        raw_pose=raw,
        config=config,
        video_path=video_path,
    )


def frame_quality(raw: PoseSequence, cleaned: CleanedPose) -> tuple[FloatArray, list[str]]:
    """How much each frame's lower-body landmarks can be trusted, and why not.

    Returns
    -------
    quality
        0-1 per frame: the mean raw visibility of the lower-body landmarks, times the
        share of them present after cleaning, times 0.8 if any was interpolated and 0.8
        if the legs' labels were repaired.
    flags
        Per frame, ``;``-joined reasons: ``not_detected``, ``low_visibility``,
        ``gap_filled``, ``swap_repaired``, ``missing_landmarks``; empty when all is well.
    """
    cols = [INDEX[n] for n in LOWER_BODY]
    vis = np.where(raw.detected[:, None], raw.visibility[:, cols], 0.0)
    present = np.isfinite(cleaned.pose.image_xy_px[:, cols, 0]).mean(axis=1)
    filled = cleaned.filled[:, cols].any(axis=1)
    masked = cleaned.masked[:, cols].any(axis=1)
    quality = vis.mean(axis=1) * present
    quality = quality * np.where(filled, 0.8, 1.0) * np.where(cleaned.swapped, 0.8, 1.0)
    flags = []
    for i in range(raw.n_frames):
        reasons = []
        if not raw.detected[i]:
            reasons.append("not_detected")
        else:
            if masked[i]:
                reasons.append("low_visibility")
            if present[i] < 1.0:
                reasons.append("missing_landmarks")
        if filled[i]:
            reasons.append("gap_filled")
        if cleaned.swapped[i]:
            reasons.append("swap_repaired")
        flags.append(";".join(reasons))
    return np.clip(quality, 0.0, 1.0), flags


def _blank_untrusted(frames: pd.DataFrame, pose: PoseSequence) -> None:
    """Leave angle values empty in frames without a pose (never invented)."""
    undetected = ~np.isfinite(pose.xy("left_hip")[:, 0]) | ~np.isfinite(pose.xy("right_hip")[:, 0])
    angle_cols = [c for c in frames.columns if c.endswith("_deg")]
    frames.loc[undetected, angle_cols] = np.nan


def _check_person(raw: PoseSequence, name: str) -> None:
    duration = float(raw.time_s[-1] - raw.time_s[0]) if raw.n_frames > 1 else 0.0
    if raw.n_frames < 2 or duration < MIN_DURATION_S:
        raise TooFewEventsError(
            f"the clip is {duration:.1f} s long ({raw.n_frames} frames); at least "
            f"{MIN_DURATION_S:.0f} s is needed",
            path=name,
            remedy="Record the whole task: 3+ squats, or 5+ s of walking or jogging.",
        )
    detected = float(raw.detected.mean())
    if detected == 0.0:
        raise NoPersonError(
            "no person was found in any frame",
            path=name,
            remedy="Film the whole body, well lit, with one person in view.",
        )
    if detected < MIN_DETECTED_FRACTION:
        raise NoPersonError(
            f"a person was found in only {detected:.0%} of frames",
            path=name,
            remedy="Keep the whole body in view for the whole clip, well lit.",
        )
    width, height = raw.image_size_px
    per_side = []
    for s in SIDES:
        cols = [INDEX[f"{s}_{p}"] for p in ("ankle", "heel", "foot_index")]
        xy = raw.image_xy_px[raw.detected][:, cols]
        with np.errstate(invalid="ignore"):
            inside = (xy[..., 1] <= 1.02 * height) & (xy[..., 0] >= -0.02 * width)
            inside &= xy[..., 0] <= 1.02 * width
        seen = (raw.visibility[raw.detected][:, cols] >= 0.3) & inside
        per_side.append(seen.any(axis=1))
    seen = np.column_stack(per_side)
    feet_fraction = float(seen.all(axis=1).mean())
    if feet_fraction < MIN_FEET_FRACTION:
        raise NoPersonError(
            f"both feet are in view in only {feet_fraction:.0%} of the frames with a person",
            path=name,
            remedy="Frame the subject from head to feet, with some floor below the feet.",
        )


def _resolve_view(estimate: ViewEstimate, given: ViewChoice, name: str) -> tuple[str, bool]:
    """The view to report and whether every left/right label must be exchanged."""
    if estimate.view == "sagittal":
        raise ViewError(
            f"this is a side (sagittal) view (shoulder/hip width {estimate.width_ratio:.2f} of "
            "torso length); pelvic drop, knee valgus and hip adduction need a frontal view",
            path=name,
            remedy="Film from the front or from behind, the camera square to the subject.",
        )
    if given == "auto":
        return estimate.view, False
    return given, given != estimate.view


def _find_events(
    pose: PoseSequence, task: str, side: SideChoice, config: AnalysisConfig, name: str
) -> tuple[list[Span], dict[str, BoolArray], str | None]:
    if task == "sls":
        detected_side, lift = detect_sls_side(pose)
        stance_side = detected_side if side == "auto" else side
        if side != "auto" and side != detected_side and lift > 0.1:
            log.warning(
                "%s: the %s foot looks lifted but --side %s was given; using %s",
                name,
                side,
                side,
                side,
            )
        spans = detect_sls_reps(pose, stance_side, config.events)
        masks = {s: np.full(pose.n_frames, s == stance_side) for s in SIDES}
        return spans, masks, stance_side
    masks = detect_stance(pose, task, config.events)
    return stance_spans(masks, pose.time_s, config.events), masks, None


def _check_events(events: pd.DataFrame, task: str, name: str, minimum: int) -> None:
    counts = events["side"].value_counts() if len(events) else pd.Series(dtype=int)
    if len(events) == 0:
        what = "repetition of the single-leg squat" if task == "sls" else f"stance phase ({task})"
        raise TooFewEventsError(
            f"no complete {what} was found",
            path=name,
            remedy="Record the whole task; check --task and that the feet stay in view.",
        )
    if task != "sls" and counts.max() < minimum:
        raise TooFewEventsError(
            f"only {counts.max()} stance phase(s) per side were found",
            path=name,
            remedy="Record more steps (at least 7 per side for running).",
        )


def _recording_warnings(
    task: str,
    fps: float,
    sides: dict[str, dict[str, object]],
    raw: PoseSequence,
    min_events: int,
) -> list[str]:
    """Warnings on how the clip was recorded: frame rate, events per side (fewer than the
    norms file's ``min_events`` for the task), another person in view."""
    out = []
    if task == "jog" and fps < 60:
        out.append(
            f"jogging filmed at {fps:.0f} fps: fast movement is blurred and under-sampled "
            "below 60 fps; clinical running video guidance asks for 120 fps or more"
        )
    kind = "repetition(s)" if task == "sls" else "stance phase(s)"
    for s in SIDES:
        n = sides[s]["n_events"]
        assert isinstance(n, int)
        if task == "sls" and n == 0:
            continue  # the free leg of a squat has no repetitions
        if n < min_events:
            out.append(
                f"{n} {s} {kind}: fewer than the {min_events} a confident call needs "
                "(norms file); record a longer clip, the values are less repeatable"
            )
    jumps = _count_person_jumps(raw)
    if jumps:
        out.append(
            f"the tracked body jumped {jumps} time(s) between frames: another person may "
            "be in view (the pose model follows one person); check the stills"
        )
    return out


def _squat_depth(events: pd.DataFrame, stance_side: str | None) -> dict[str, Any]:
    """Depth of the single-leg squat against the capture guide (see screener.capture)."""
    from screener.capture import CAPTURE_PATH, load_capture_guides, squat_depth

    return squat_depth(
        events[events["side"] == stance_side], load_capture_guides(CAPTURE_PATH)["sls"]
    )


def _foreshortening_warnings(
    events: pd.DataFrame, foreshortened: dict[str, BoolArray]
) -> list[str]:
    """Say where the knee and hip frontal-plane angles were left empty, and why."""
    out = []
    for s in SIDES:
        sel = events[events["side"] == s]
        if sel.empty:
            continue
        n = int(foreshortened[s][sel["frame_peak"].to_numpy(dtype=int)].sum())
        if n:
            out.append(
                f"{s} thigh foreshortened at {n} of {len(sel)} event(s) (under "
                f"{THIGH_MIN_VISIBLE_FRACTION:.0%} of its standing length in the image): "
                "knee valgus (FPPA) and hip adduction are left empty there. The camera is "
                "probably above knee height or close to the subject; film square to the "
                "subject with the lens at knee height"
            )
    return out


def _count_person_jumps(raw: PoseSequence) -> int:
    """Frames where the pelvis moves more than half a torso length from one frame to the next."""
    mid_hip = 0.5 * (raw.xy("left_hip") + raw.xy("right_hip"))
    mid_sh = 0.5 * (raw.xy("left_shoulder") + raw.xy("right_shoulder"))
    with np.errstate(invalid="ignore"):
        torso = np.nanmedian(np.linalg.norm(mid_sh - mid_hip, axis=1))
        step = np.linalg.norm(np.diff(mid_hip, axis=0), axis=1)
    if not np.isfinite(torso) or torso <= 0:
        return 0
    return int(np.sum(step > 0.5 * torso))


def _provenance(config: AnalysisConfig, raw: PoseSequence, cutoff_hz: float) -> dict[str, Any]:
    pose_source = raw.source.get("pose", {}) if isinstance(raw.source.get("pose"), dict) else {}
    return {
        "screener": __version__,
        "pose_model": pose_source.get("pose_model", raw.source.get("pose_model", "unknown")),
        "mediapipe": pose_source.get("mediapipe", raw.source.get("mediapipe", "unknown")),
        "opencv": pose_source.get("opencv", raw.source.get("opencv", "unknown")),
        "video_sha256": raw.source.get("video_sha256"),
        "config_sha256": config.sha256(),
        "config": config.analysis_dict(),
        "lowpass_cutoff_hz": cutoff_hz,
        "filter": f"Butterworth order {config.cleaning.filter_order} forward-backward "
        f"(effective order {2 * config.cleaning.filter_order}, zero lag)",
        "norms_file": str(config.norms_path),
        "plan_file": str(config.plan_path),
        "python": platform.python_version(),
        "analysed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _jsonable_info(info: Any) -> dict[str, Any]:
    from dataclasses import asdict, is_dataclass

    if is_dataclass(info) and not isinstance(info, type):
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(info).items()}
    return {}
