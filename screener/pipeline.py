"""The orchestrator: one video (or one set of landmarks) to one :class:`AnalysisResult`.

``analyze`` decodes the video and estimates the pose (cached), then ``analyze_pose`` runs
every later stage. Each stage is a pure function of its own module; this module only
chains them, checks that what comes out can be trusted, and assembles the summary.
"""

from __future__ import annotations

import logging
import math
import platform
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from screener import __version__
from screener.acquire import ProgressCallback, VideoPose, estimate_video_pose
from screener.angles import (
    compute_frame_angles,
    foot_below_picture,
    foreshortened_thigh,
    squat_depth_in_image,
)
from screener.capture import (
    CameraEstimate,
    EnvelopeCheck,
    OtherPeople,
    body_height_px,
    check_envelope,
    correct_roll,
    estimate_camera,
    load_envelope,
    roll_correction_deg,
    with_learned_yaw,
    with_scene_tilt,
)
from screener.cleaning import (
    CleanedPose,
    filter_cleaned,
    mirror_all_labels,
    mirror_cleaned,
    prepare_pose,
    swap_leg_labels,
)
from screener.clothing import Clothing, ClothingLimits
from screener.config import (
    CAMERA_DISTANCE_RANGE_M,
    LENS_HEIGHT_RANGE_M,
    PATIENT_HEIGHT_RANGE_M,
    AnalysisConfig,
    ChecksConfig,
    SideChoice,
    TaskChoice,
    ViewChoice,
)
from screener.corrections import (
    Corrections,
    apply_corrections,
    apply_event_corrections,
    load_corrections,
)
from screener.errors import ConfigError, NoPersonError, TooFewEventsError, ViewError
from screener.events import TaskEstimate, detect_task
from screener.intake import Intake, make_intake
from screener.keypoints import BoolArray, FloatArray, PoseSequence
from screener.landmarks import INDEX, LOWER_BODY, SIDES
from screener.lighting import (
    Lighting,
    face_shade_note,
    lighting_warnings,
)
from screener.metrics import asymmetry, event_table, side_statistics
from screener.result import AnalysisResult
from screener.scene import SceneTilt
from screener.segments import keep_one_squatting_leg, keep_one_walking_direction
from screener.tasks import FoundEvents, TaskSpec, get_task, task_names
from screener.threads import blas_single_threaded
from screener.upright import check_upright, pose_rotation_cw, pose_settings
from screener.view import (
    FaceEvidence,
    ViewEstimate,
    decide_view,
    detect_view,
    mirror_labels_in,
    walking_view,
)

if TYPE_CHECKING:
    from screener.norms import Norms

log = logging.getLogger(__name__)

__all__ = ["ProgressCallback", "VideoPose", "analyze", "analyze_pose", "estimate_video_pose"]


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
    lens_height_m: float | None = None,
    camera_distance_m: float | None = None,
    patient_height_m: float | None = None,
    config: AnalysisConfig | None = None,
    progress: ProgressCallback | None = None,
) -> AnalysisResult:
    """Screen one video: pose, cleaning, events, angles, faults, plan.

    Parameters
    ----------
    video
        Path to an mp4, mov, avi or webm file.
    task
        A registered task (:mod:`screener.tasks`: ``walk``, ``sls`` for the single-leg
        squat, ``jog`` for jogging in place, or one registered by the caller) or
        ``"auto"`` (detects a built-in task).
    side
        Stance leg of a task done on one leg (single-leg squat), or ``"auto"``; ignored
        for the others.
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
    lens_height_m
        The phone's lens height above the floor as measured at the recording (a tape, the
        tripod's scale), metres; None: not given. The video gives it only when the
        patient walks toward or away from the camera: given, it is checked against the
        envelope instead (:func:`screener.capture.check_envelope`).
    camera_distance_m
        The distance from the phone's lens to the patient as measured at the recording,
        metres; None: not given. The video does not give it; a single-leg squat filmed
        from the front is checked on it (closer than the envelope's distance warns), and
        without it the check says it was not made.
    patient_height_m
        The patient's height (stature), metres; None: not given. The video does not give
        it; a single-leg squat of a patient at or under the envelope's stature
        (``[squat_stature_m]``) has its knee FPPA judged with the larger error measured
        for such squats, and without it the check says it was not taken into account.
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
    check_task_name(task, video)
    check_placement(lens_height_m, camera_distance_m, video, patient_height_m)
    acquired = estimate_video_pose(video, config or AnalysisConfig(), progress)
    return analyze_pose(
        acquired.raw,
        task=task,
        side=side,
        view=view,
        intake=make_intake(intake, pain=pain, first_line_done=first_line_done),
        sex=sex,
        lens_height_m=lens_height_m,
        camera_distance_m=camera_distance_m,
        patient_height_m=patient_height_m,
        config=acquired.config,
        video_path=Path(video),
        video_info=acquired.video_info,
        other_people=acquired.other_people,
        faces=acquired.faces,
        scene_tilt=acquired.scene_tilt,
        lighting=acquired.lighting,
        clothing=acquired.clothing,
    )


@blas_single_threaded()
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
    lens_height_m: float | None = None,
    camera_distance_m: float | None = None,
    patient_height_m: float | None = None,
    config: AnalysisConfig | None = None,
    video_path: Path | None = None,
    video_info: dict[str, Any] | None = None,
    other_people: OtherPeople | None = None,
    faces: FaceEvidence | None = None,
    scene_tilt: SceneTilt | None = None,
    lighting: Lighting | None = None,
    clothing: Clothing | None = None,
) -> AnalysisResult:
    """Screen from landmarks already estimated (e.g. cached keypoints).

    Parameters are those of :func:`analyze`; ``raw`` is the pose as estimated,
    ``video_path`` and ``video_info`` are carried into the report and provenance,
    ``other_people`` is the search for a second person in the video, ``faces`` the
    search for the subject's face, ``scene_tilt`` the picture's tilt read from the
    room's vertical lines, ``lighting`` the subject's lighting in the picture and
    ``clothing`` the colours of the patient's clothes (None: not searched).

    Returns
    -------
    AnalysisResult

    Notes
    -----
    Runs with the BLAS libraries on one thread (:func:`screener.threads.
    blas_single_threaded`): their thread pools only cost CPU on the analysis's small
    matrices.
    """
    config = config or AnalysisConfig()
    answers = make_intake(intake, pain=pain, first_line_done=first_line_done)
    name = str(video_path) if video_path else str(raw.source.get("video", "landmarks"))
    check_task_name(task, name)
    check_placement(lens_height_m, camera_distance_m, name, patient_height_m)
    hidden_foot = _check_person(raw, name, config)
    warnings = _upright_warnings(raw, name, config)
    if hidden_foot is not None:
        warnings.append(hidden_foot)
    warnings.extend(other_people_warnings(other_people, raw, name))
    shade_note = None
    envelope = load_envelope(config.capture.envelope_path)
    if lighting is not None:
        warnings.extend(lighting_warnings(lighting, envelope.lighting))
        shade_note = face_shade_note(lighting, envelope.lighting)
    walk_hz = config.cutoff_for("walk")
    raw, turn = keep_one_walking_direction(raw, task, view, config)
    if turn is not None:
        warnings.append(turn.note)
    orient = _orient(
        raw, turn.view if turn else view, faces, config, name, warnings, shade_note, task
    )
    raw, cleaning, chosen_view = orient.raw, orient.cleaning, orient.view
    settled_by_walking = orient.settled_by_walking
    view_detection = orient.summary(given=view != "auto", faces=faces)
    view_detection["walking_turn"] = turn.as_dict() if turn else None
    del orient  # holds landmarks replaced below

    raw, other_leg, legs_doubt = keep_one_squatting_leg(
        cleaning.at(walk_hz).pose, raw, task, side, config, name
    )
    if legs_doubt is not None:
        warnings.append(legs_doubt)
    if other_leg is not None:
        cleaning.reclean(raw)
        warnings.append(other_leg.note)
        side = other_leg.leg  # type: ignore[assignment]
    task_est = _choose_task(cleaning, task, config)
    if settled_by_walking is not None and task_est.task != "walk":
        raise unsettled_view_error(settled_by_walking, name, shade_note)
    require_confident_task(task_est, name, config.checks.min_task_confidence)
    warnings.extend(weak_task_warnings(task_est, config.checks.sure_task_confidence))
    camera, capture = check_capture(
        cleaning.at(walk_hz).pose,
        task_est.task,
        chosen_view,
        config,
        name,
        scene_tilt,
        lens_height_m=lens_height_m,
        camera_distance_m=camera_distance_m,
        patient_height_m=patient_height_m,
        clothing=clothing,
    )
    warnings.extend(capture.warnings)
    in_picture = raw  # the picture's own pixels: where its bottom edge is
    if capture.roll_correction_deg:
        raw = correct_roll(raw, -capture.roll_correction_deg)
        cleaning.reclean(raw)
    cleaned = cleaning.at(config.cutoff_for(task_est.task))
    warnings.extend(cleaned.notes)

    corrections = load_corrections(config.corrections_path) if config.corrections_path else None
    frames, corrections_applied, withheld, frame_model = _frame_table(
        raw, cleaned, task_est.task, chosen_view, config, corrections, in_picture
    )
    del in_picture
    if frame_model is not None and "not_applied" in frame_model:
        warnings.append(frame_model["not_applied"])
    events, found, event_corrections = _event_table(
        frames, cleaned.pose, task_est.task, chosen_view, side, config, corrections, name
    )
    stance_side = found.stance_side
    if found.timing is not None and "not_applied" in found.timing:
        warnings.append(found.timing["not_applied"])
    if found.side_detection is not None and found.side_detection.note:
        warnings.append(found.side_detection.note)
    spec = get_task(task_est.task)
    depth = _squat_depth(events, cleaned.pose, stance_side, spec.name) if spec.check_depth else None
    if depth is not None and depth["reached"] is False:
        warnings.append(depth["note"])
    errors = _measurement_error_files(config, frame_model, task_est.task)
    sides, asym, quality_summary, faults, not_shown = _assess(
        raw, cleaned, frames, events, withheld, task_est.task, chosen_view, sex, config,
        warnings, errors, capture.error_floors,
    )  # fmt: skip
    from screener.plan import build_plan

    plan = build_plan(faults, answers, config.plan_path, dose_overrides=config.dose_overrides)
    summary: dict[str, Any] = {
        "task": task_est.task,
        "task_detection": {
            "given": task != "auto",
            "confidence": task_est.confidence,
            "reasons": list(task_est.reasons),
        },
        "view": chosen_view,
        "view_detection": view_detection,
        "stance_side": stance_side,
        "stance_side_detection": (
            found.side_detection.as_dict() if found.side_detection is not None else None
        ),
        "other_leg_left_out": other_leg.as_dict() if other_leg else None,
        "squat_depth": depth,
        "capture": {
            **camera.as_dict(),
            "camera_height_stated_m": lens_height_m,
            "camera_distance_stated_m": camera_distance_m,
            "patient_height_stated_m": patient_height_m,
            "unchecked": list(capture.unchecked),
            "other_people": other_people.as_dict() if other_people else {"checked": False},
            "scene_tilt": scene_tilt.as_dict() if scene_tilt else {"checked": False},
            "lighting": lighting.as_dict() if lighting else {"checked": False},
            "clothing": _clothing_summary(clothing, envelope.clothing),
        },
        "sex": sex or config.sex,
        "intake": answers.answers(),
        "pain": answers.running_pain,
        "first_line_done": answers.first_line_done,
        **_timing(cleaned.pose),
        "event_values": spec.event_values,
        "sides": sides,
        "asymmetry": asym,
        "faults": faults,
        "values_not_shown": not_shown,
        "plan": plan,
        "quality": quality_summary,
        "video": video_info or {},
        "provenance": {
            **_provenance(config, raw, cleaned.cutoff_hz),
            "corrections_file": str(config.corrections_path) if config.corrections_path else None,
            "corrections": corrections_applied + event_corrections,
            "frame_model": frame_model,
            "event_model": found.timing,
            "measurement_errors_file": str(errors.default) if errors.default else None,
            "measurement_errors_file_by_metric": {m: str(p) for m, p in errors.by_metric.items()},
            "roll_correction": {
                "applied_deg": capture.roll_correction_deg,
                "estimated_roll_deg": camera.as_dict()["roll_deg"],
                "source": camera.roll_source,
                "method": "image landmarks rotated about the image centre before any angle",
            },
            "envelope_file": str(config.capture.envelope_path),
            "dose_overrides": plan["dose_overrides"],
        },
    }
    pose = cleaned.pose
    if capture.roll_correction_deg:
        # the stored landmarks stay in the video's pixels (report stills, annotated video)
        pose = correct_roll(pose, capture.roll_correction_deg)
        raw = correct_roll(raw, capture.roll_correction_deg)
    if config.silhouette_model_path is not None:
        summary["provenance"]["silhouette_model"] = _silhouette_column(
            events,
            frames,
            pose,
            (task_est.task, chosen_view),
            video_path,
            (config.silhouette_model_path, config.pose.max_long_side_px),
            warnings,
        )
    return AnalysisResult(
        frames=frames,
        events=events,
        summary=summary,
        pose=pose,
        raw_pose=raw,
        config=config,
        video_path=video_path,
    )


def _silhouette_column(
    events: pd.DataFrame,
    frames: pd.DataFrame,
    pose: PoseSequence,
    task_view: tuple[str, str],
    video_path: Path | None,
    model_and_size: tuple[Path, int | None],
    warnings: list[str],
) -> dict[str, Any]:
    """Add the research column of :mod:`screener.silhouette` to ``events`` where its model
    (file, with the pose pass's frame size) covers the clip and the video is at hand; say
    why not otherwise. Its provenance."""
    from screener import silhouette

    model_path, size = model_and_size
    model = silhouette.load_silhouette_model(model_path)
    task, view = task_view
    if task != model.task or view not in model.views:
        why_not = f"its model covers {model.task} filmed {' or '.join(model.views)} only"
    elif video_path is None or not Path(video_path).is_file():
        why_not = "it needs the video (re-analyse from the video, not from cached landmarks)"
    else:
        masks = silhouette.person_masks(Path(video_path), pose, size)
        readings = silhouette.clip_readings(masks, pose, silhouette.mask_scale(pose, size))
        events[silhouette.EVENT_COLUMN] = silhouette.silhouette_fppa(
            events, frames, readings, view, model
        )
        return {**model.provenance(), "applied": True, "column": silhouette.EVENT_COLUMN}
    warnings.append(f"Knee FPPA from the body's outline (research) not read: {why_not}.")
    return {**model.provenance(), "applied": False, "reason": why_not}


@dataclass
class _Orientation:
    """The landmarks with their left/right labels settled and the view chosen."""

    raw: PoseSequence
    cleaning: _Cleaning
    view: str
    estimate: ViewEstimate
    confidence: float
    mirrored: bool
    frames_relabelled: int
    #: What contradicted what when the walking direction chose the view (the clip must
    #: then be a walk), else None.
    settled_by_walking: str | None = None

    def summary(self, *, given: bool, faces: FaceEvidence | None) -> dict[str, Any]:
        """``summary.json``'s ``view_detection``."""
        return {
            "given": given,
            "confidence": self.confidence,
            "width_ratio": self.estimate.width_ratio,
            "labels_facing_fraction": self.estimate.facing_fraction,
            "face_frames": (
                {"checked": faces.frames_checked, "with_face": faces.frames_with_face}
                if faces
                else None
            ),
            "frames_relabelled": self.frames_relabelled,
            "labels_mirrored": self.mirrored,
            "from_walking_direction": self.settled_by_walking is not None,
        }


def _orient(
    raw: PoseSequence,
    view: ViewChoice,
    faces: FaceEvidence | None,
    config: AnalysisConfig,
    name: str,
    warnings: list[str],
    shade_note: str | None = None,
    task: TaskChoice | None = None,
) -> _Orientation:
    """Settle the leg labels (majority relabelling, then the view's mirror checks) and
    choose the view; each change is added to ``warnings``. ``shade_note`` (the lighting's
    :func:`~screener.lighting.face_shade_note`) is added to a refusal for the view. With
    ``task`` a walk or ``"auto"``, labels and face that cannot settle the view give way to
    the walking direction (:func:`screener.view.walking_view`); the caller must refuse the
    clip if it then turns out not to be a walk (``settled_by_walking``)."""
    walk_hz = config.cutoff_for("walk")
    cleaning = _Cleaning(raw, config)
    raw, relabelled = relabel_legs_by_majority(raw, cleaning.at(walk_hz).swapped)
    if relabelled:
        cleaning.reclean(raw)
        warnings.append(
            f"the pose model's leg labels disagreed with most of the clip in {relabelled} "
            "frame(s) at its start; those frames were relabelled to match the rest"
        )
    view_est = detect_view(cleaning.at(walk_hz).pose)
    checks = config.checks

    def walking() -> str | None:
        return walking_view(
            cleaning.at(walk_hz).pose,
            min_rate_per_s=checks.turn_min_rate_per_s,
            min_duration_s=checks.turn_min_run_s,
            min_size_ratio=checks.turn_min_size_ratio,
        )

    chosen = choose_view(
        cleaning.at(walk_hz).pose,
        view_est,
        view,
        faces,
        name,
        shade_note,
        walking=walking if view == "auto" and task in ("walk", "auto") else None,
    )
    chosen_view, mirrored, mirror_frames = chosen.view, chosen.mirrored, chosen.mirror_frames
    if chosen.note:
        warnings.append(chosen.note)
    if mirror_frames.any():
        raw = mirror_labels_in(raw, mirror_frames)
        cleaning.reclean(raw)
        warnings.append(
            f"the pose model's left/right labels contradicted the {chosen_view} view (a face "
            f"was {'seen' if chosen_view == 'anterior' else 'not seen'}) in "
            f"{int(mirror_frames.sum())} frame(s); their labels were exchanged"
        )
    if mirrored:
        cleaning.mirror()
        raw = cleaning.raw
    if chosen.settled_by_walking is not None:
        way = "toward" if chosen_view == "anterior" else "away from"
        warnings.append(
            f"the view was read from the walking direction (the patient walks {way} the "
            f"camera): {chosen.settled_by_walking}"
            + ("; left and right were exchanged to match" if mirrored else "")
        )
    elif mirrored:
        facing = "away from" if view == "anterior" else "toward"
        warnings.append(
            f"the pose model labelled the subject as facing {facing} the camera; "
            "left and right were exchanged to match the view you gave"
        )

    return _Orientation(
        raw=raw,
        cleaning=cleaning,
        view=chosen_view,
        estimate=view_est,
        confidence=chosen.confidence,
        mirrored=mirrored,
        frames_relabelled=int(mirror_frames.sum()),
        settled_by_walking=chosen.settled_by_walking,
    )


def _assess(
    raw: PoseSequence,
    cleaned: CleanedPose,
    frames: pd.DataFrame,
    events: pd.DataFrame,
    withheld: WithheldAngles,
    task: str,
    view: str,
    sex: str | None,
    config: AnalysisConfig,
    warnings: list[str],
    errors: ErrorFiles,
    error_floors: Mapping[str, tuple[float, str]],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """Per-side statistics, asymmetry, the quality record (with every warning), the
    fault flags against the norms, judged with the measured errors of ``errors`` (raised
    to ``error_floors``, the errors of the conditions filmed in), and the
    metrics whose values the clinical views leave out (their measured error is beyond the
    error files' limit, or their readings followed the truth too weakly:
    :func:`screener.faults.values_not_shown`).

    Returns
    -------
    sides, asymmetry, quality, faults, values_not_shown
    """
    from screener.asymmetry import annotate_asymmetry, load_asymmetry_errors
    from screener.faults import flag_faults, values_not_shown
    from screener.norms import load_norms

    sides = side_statistics(events)
    asym = asymmetry(sides)
    norms = load_norms(config.norms_path)
    fps = float(cleaned.pose.fps)
    warnings.extend(_recording_warnings(task, fps, sides, raw, norms.task(task).min_events, config))
    warnings.extend(
        _foreshortening_warnings(
            events, withheld.foreshortened, config.angles.thigh_min_visible_fraction
        )
    )
    warnings.extend(_deep_squat_warnings(events, withheld))
    warnings.extend(_foot_below_picture_warnings(events, withheld.foot_below_picture))
    warnings.extend(implausible_reading_warnings(sides, norms, task))
    decode = decode_quality(raw)
    warnings[:0] = decode_warnings(decode)
    quality = {
        "detected_fraction": float(raw.detected.mean()),
        "mean_quality": float(np.mean(frames["quality"].to_numpy(float))),
        "frames_swap_repaired": int(cleaned.swapped.sum()),
        "landmark_values_gap_filled": int(cleaned.filled.sum()),
        "landmark_values_masked": int(cleaned.masked.sum()),
        "low_frame_rate": bool(get_task(task).fast and fps < config.checks.jog_min_fps),
        "decode": decode,
        "warnings": warnings,
    }
    rules = _measured_error_rules(errors, task, view, error_floors)
    faults = flag_faults(
        task, events, sides, quality, norms, sex=sex or config.sex, asymmetry=asym, **rules
    )
    asym_errors = (
        load_asymmetry_errors(config.asymmetry_errors_path)
        if config.asymmetry_errors_path is not None
        else None
    )
    faults = annotate_asymmetry(faults, asym_errors, task, view)
    not_shown = values_not_shown(
        rules.get("measured_errors"),
        rules.get("max_error", math.inf),
        rules.get("errors_files"),
        min_tracking_r=rules.get("min_tracking_r", -1.0),
        hide_untracked=rules.get("hide_untracked", False),
    )
    return sides, asym, quality, faults, not_shown


class _Cleaning:
    """A clip's landmarks cleaned, low-pass filtered at the cut-off last asked for.

    The view and task are detected at walking's cut-off and the task's own cut-off may
    differ. Only the landmarks at the last cut-off asked for are kept (on a long clip
    each copy is tens of MiB): another cut-off cleans the raw landmarks again, reusing
    the swap repair's frames (the costly step), and filters them in place. Mirroring
    the labels (a view given against the model's) mirrors the cleaned data instead of
    cleaning again (:func:`screener.cleaning.mirror_cleaned`).
    """

    def __init__(self, raw: PoseSequence, config: AnalysisConfig) -> None:
        self.raw = raw
        self._config = config.cleaning
        self._swapped: BoolArray | None = None
        self._cutoff_hz = float("nan")
        self._cleaned: CleanedPose | None = None

    def reclean(self, raw: PoseSequence) -> None:
        """Clean other landmarks of the clip (relabelled, rotated) from now on."""
        self.raw = raw
        self._swapped = None
        self._cleaned = None

    def at(self, cutoff_hz: float) -> CleanedPose:
        """The cleaned landmarks, filtered at ``cutoff_hz``."""
        if self._cleaned is None or cutoff_hz != self._cutoff_hz:
            self._cleaned = None  # dropped before the next copy is made
            prepared = prepare_pose(self.raw, self._config, swapped=self._swapped)
            self._swapped = prepared.swapped
            self._cleaned = filter_cleaned(
                prepared, cutoff_hz, self._config.filter_order, in_place=True
            )
            self._cutoff_hz = cutoff_hz
        return self._cleaned

    def mirror(self) -> None:
        """Exchange every left/right label, raw and cleaned."""
        self.raw = mirror_all_labels(self.raw)
        if self._cleaned is not None:
            self._cleaned = mirror_cleaned(self._cleaned)


def check_placement(
    lens_height_m: float | None,
    camera_distance_m: float | None,
    name: str | Path,
    patient_height_m: float | None = None,
) -> None:
    """Refuse a stated lens height no phone stand gives, a camera distance no room gives,
    or a patient's height no adult has (a typing or unit error); None is not given.

    Raises
    ------
    ConfigError
        Not a number, or outside :data:`screener.config.LENS_HEIGHT_RANGE_M`,
        :data:`screener.config.CAMERA_DISTANCE_RANGE_M` or
        :data:`screener.config.PATIENT_HEIGHT_RANGE_M`.
    """
    stated = (
        ("lens height", lens_height_m, LENS_HEIGHT_RANGE_M, "the phone's lens height above "
         "the floor", "0.6 for a lens at knee height"),
        ("camera distance", camera_distance_m, CAMERA_DISTANCE_RANGE_M, "the distance from "
         "the phone's lens to the patient", "2.5"),
        ("patient's height", patient_height_m, PATIENT_HEIGHT_RANGE_M, "the patient's "
         "height", "1.65"),
    )  # fmt: skip
    for what, value, (low, high), meaning, example in stated:
        if value is None:
            continue
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not (number and low <= value <= high):
            raise ConfigError(
                f"a {what} of {value!r} m was given",
                path=name,
                remedy=f"Give {meaning} in metres, {low:g}-{high:g} (e.g. {example}), or "
                "leave it out.",
            )


def check_task_name(task: str, name: str | Path) -> None:
    """Refuse a task that is neither ``"auto"`` nor registered (:mod:`screener.tasks`).

    Raises
    ------
    ConfigError
        Unknown task; the message lists the known ones.
    """
    if task != "auto" and task not in task_names():
        raise ConfigError(
            f"unknown task {task!r}",
            path=name,
            remedy=f"Give one of {', '.join(task_names())} or auto.",
        )


def _choose_task(cleaning: _Cleaning, given: TaskChoice, config: AnalysisConfig) -> TaskEstimate:
    """The task given, or the one detected (at walking's cut-off)."""
    if given != "auto":
        return TaskEstimate(given, 1.0, ("given",))
    return detect_task(cleaning.at(config.cutoff_for("walk")).pose, config.events)


def _frame_table(
    raw: PoseSequence,
    cleaned: CleanedPose,
    task: str,
    view: str,
    config: AnalysisConfig,
    corrections: Corrections | None,
    in_picture: PoseSequence,
) -> tuple[pd.DataFrame, list[dict[str, Any]], WithheldAngles, dict[str, Any] | None]:
    """The spec's per-frame table (without stance columns), its corrections, the frames
    where frontal-plane angles were left empty (:class:`WithheldAngles`), and the frame
    model applied (None: none). ``in_picture`` is ``raw`` in the picture's own pixels
    (before any roll correction), for where the feet lie against its bottom edge."""
    pose = cleaned.pose
    frames, frame_model = _learned_angles(
        compute_frame_angles(pose, config.angles), pose, task, view, config
    )
    frames, corrections_applied = apply_corrections(
        frames, task, corrections, view, config.corrections_include_unverified
    )
    quality, flags = frame_quality(raw, cleaned)
    foreshortened = foreshortened_thigh(pose, config.angles)
    _leave_empty(
        frames, flags, foreshortened, ("knee_fppa", "hip_adduction"), "thigh_foreshortened"
    )
    deep = _deep_squat_from_behind(pose, task, view, config.angles.posterior_squat_max_depth)
    _leave_empty(frames, flags, deep, ("knee_fppa",), "deep_squat_from_behind")
    below = foot_below_picture(in_picture, cleaned.swapped, config.angles)
    _leave_empty(frames, flags, below, ("knee_fppa",), "foot_below_picture")
    # Trunk lean is empty (never 0) where the hips overlap in the image: say why.
    with np.errstate(invalid="ignore"):
        _add_flag(flags, pose.xy("left_hip")[:, 0] == pose.xy("right_hip")[:, 0], "hips_overlap")
    frames.insert(0, "time_s", pose.time_s)
    frames.insert(0, "frame", np.arange(pose.n_frames))
    frames.insert(2, "detected", raw.detected)
    frames.insert(3, "quality", quality)
    frames.insert(4, "quality_flags", flags)
    _blank_untrusted(frames, pose)
    withheld = WithheldAngles(foreshortened, deep, below)
    return frames, corrections_applied, withheld, frame_model


def _leave_empty(
    frames: pd.DataFrame,
    flags: list[str],
    where: dict[str, BoolArray],
    angles: tuple[str, ...],
    flag: str,
) -> None:
    """Per side, empty the ``{side}_{angle}_deg`` columns where ``where[side]``, and flag
    those frames ``{side}_{flag}``."""
    for s in SIDES:
        if not where[s].any():
            continue
        for angle in angles:
            col = f"{s}_{angle}_deg"
            frames[col] = np.where(where[s], np.nan, frames[col].to_numpy(float))
        _add_flag(flags, where[s], f"{s}_{flag}")


@dataclass(frozen=True)
class WithheldAngles:
    """Frames where frontal-plane angles were left empty, per side: the thigh too
    foreshortened (knee FPPA and hip adduction), a squat filmed from behind too deep for
    knee FPPA, and the foot below the picture's bottom edge (knee FPPA)."""

    foreshortened: dict[str, BoolArray]
    deep_from_behind: dict[str, BoolArray]
    foot_below_picture: dict[str, BoolArray]


def _deep_squat_from_behind(
    pose: PoseSequence, task: str, view: str, max_depth: float
) -> dict[str, BoolArray]:
    """Per side, the frames of a squat filmed from behind where the squat is deeper in
    the image than ``max_depth`` (:func:`screener.angles.squat_depth_in_image`); none in
    another task or view."""
    if view != "posterior" or not get_task(task).check_depth:
        return {s: np.zeros(pose.n_frames, dtype=bool) for s in SIDES}
    out = {}
    for s in SIDES:
        with np.errstate(invalid="ignore"):
            out[s] = np.asarray(squat_depth_in_image(pose, s) > max_depth)
    return out


def _add_flag(flags: list[str], where: BoolArray, flag: str) -> None:
    for i in np.flatnonzero(where):
        flags[i] = ";".join(f for f in (flags[i], flag) if f)


def _event_table(
    frames: pd.DataFrame,
    pose: PoseSequence,
    task: str,
    view: str,
    side: SideChoice,
    config: AnalysisConfig,
    corrections: Corrections | None,
    name: str,
) -> tuple[pd.DataFrame, FoundEvents, list[dict[str, Any]]]:
    """Find the events, add the stance columns to ``frames``, tabulate and check them.

    Returns
    -------
    events, found, event_corrections
    """
    spec = get_task(task)
    found = _find_events(pose, spec, side, view, config, name)
    for s in SIDES:
        frames[f"{s}_in_stance"] = found.stance_masks[s].astype(int)
    events, event_corrections = apply_event_corrections(
        event_table(found.spans, frames, pose),
        task,
        corrections,
        view,
        config.corrections_include_unverified,
    )
    _check_events(events, spec, name, config.events.min_events_per_side)
    return events, found, event_corrections


def _clothing_summary(clothing: Clothing | None, limits: ClothingLimits | None) -> dict[str, Any]:
    """The summary's ``capture.clothing``: the colour figures and the decision."""
    if clothing is None:
        return {"checked": False}
    covers = limits.covers_hips(clothing) if limits is not None else None
    return {
        "checked": True,
        **clothing.as_dict(),
        "top_over_hips": covers,
        "method": "weighted CIELAB distances between a chest patch, a patch just below "
        "the hip line and the mid-thighs, on the second-person search's frames "
        "(screener.clothing); the rule and its source: envelope file, [clothing]",
    }


def _timing(pose: PoseSequence) -> dict[str, Any]:
    return {
        "fps": float(pose.fps),
        "n_frames": pose.n_frames,
        "duration_s": float(pose.time_s[-1] - pose.time_s[0]) if pose.n_frames else 0.0,
    }


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


def _upright_warnings(raw: PoseSequence, name: str, config: AnalysisConfig) -> list[str]:
    """Refuse landmarks of a subject who is not upright; say so when the frames were turned."""
    estimate = check_upright(raw, name, config.checks.upright_max_tilt_deg)
    if estimate.rotate_cw_deg:
        raise ViewError(
            f"the subject is not upright in these landmarks (head toward {estimate.axis_deg:.0f}° "
            "from the image's up direction); they were estimated from frames not turned upright",
            path=name,
            remedy="Analyse the video itself (screener analyze), which turns such clips "
            "upright, or rotate the video to upright first.",
        )
    warnings = []
    turned = pose_rotation_cw(raw)
    if turned:
        warnings.append(
            f"the subject was {'upside down' if turned == 180 else 'lying on the side'} in "
            f"the video as stored (no rotation tag says so); its frames were turned {turned}° "
            "clockwise before pose estimation. Check in the stills that the subject is "
            "upright and that left and right are right"
        )
    if pose_settings(raw).get("square_crop_x_fraction") is not None:
        note = raw.source.get("square_crop", {})
        whole = note.get("whole_picture_detected_fraction") if isinstance(note, dict) else None
        found = "" if whole is None else f" in only {whole:.0%} of its frames"
        warnings.append(
            f"the pose model found the patient{found} in the whole landscape picture, the "
            "body being small in it; it was shown a square of the picture around the patient "
            f"instead, which found them in {raw.detected.mean():.0%} of the frames. Next "
            "time film in portrait, or closer, so that head to feet span at least 30% of "
            "the picture's long side throughout"
        )
    return warnings


def _few_detections_remedy(raw: PoseSequence, checks: ChecksConfig) -> str:
    """What to do when too few frames show a person: film bigger if, where the person
    was found, the body was small in the picture (MediaPipe misses small bodies), or if it
    was found only at one end of the clip while not much bigger (a walk that began or
    ended too far away)."""
    size = body_height_px(raw)[raw.detected] / max(raw.image_size_px)
    size = size[np.isfinite(size)]
    if not size.size:
        return "Keep the whole body in view for the whole clip, well lit."
    low, high = float(size.min()), float(size.max())
    small = checks.small_body_long_side_fraction
    film_bigger = (
        f"film in portrait, or closer, so that head to feet span at least {small:.0%} of "
        "the picture's long side throughout."
    )
    if low < small:
        return (
            f"Where found, the patient was only {low:.0%}-{high:.0%} of the picture's long "
            f"side, and smaller they are missed: {film_bigger}"
        )
    found = np.flatnonzero(raw.detected)
    share = (found[-1] - found[0] + 1) / raw.n_frames
    at_end = found[0] >= raw.n_frames / 2
    at_start = found[-1] < raw.n_frames / 2
    if (at_end or at_start) and low < checks.small_body_at_one_end_long_side_fraction:
        where = "last" if at_end else "first"
        return (
            f"The patient was found only in the {where} {share:.0%} of the clip, at "
            f"{low:.0%}-{high:.0%} of the picture's long side, and was probably too small to "
            f"be found farther from the camera: {film_bigger}"
        )
    return "Keep the whole body in view for the whole clip, well lit."


def _check_person(raw: PoseSequence, name: str, config: AnalysisConfig) -> str | None:
    """Refuse a clip with too little of a person or of their feet in view.

    Returns
    -------
    str or None
        A warning when the feet were in view often enough only because one of them,
        unseen, lay well inside the picture (``ChecksConfig.hidden_foot_edge_fraction``):
        hidden behind the body, which in a squat filmed from the front comes with a camera
        above knee height or close to the patient.
    """
    checks = config.checks
    duration = float(raw.time_s[-1] - raw.time_s[0]) if raw.n_frames > 1 else 0.0
    if raw.n_frames < 2 or duration < checks.min_duration_s:
        raise TooFewEventsError(
            f"the clip is {duration:.1f} s long ({raw.n_frames} frames); at least "
            f"{checks.min_duration_s:.0f} s is needed",
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
    if detected < checks.min_detected_fraction:
        raise NoPersonError(
            f"a person was found in only {detected:.0%} of frames",
            path=name,
            remedy=_few_detections_remedy(raw, checks),
        )
    width, height = raw.image_size_px
    margin = config.cleaning.image_margin_fraction
    visible_sides, hidden_sides = [], []
    bottom = (1 - checks.hidden_foot_edge_fraction) * height
    for s in SIDES:
        cols = [INDEX[f"{s}_{p}"] for p in ("ankle", "heel", "foot_index")]
        xy = raw.image_xy_px[raw.detected][:, cols]
        with np.errstate(invalid="ignore"):
            inside = (xy[..., 1] <= (1 + margin) * height) & (xy[..., 0] >= -margin * width)
            inside &= xy[..., 0] <= (1 + margin) * width
            within = (xy[..., 1] >= 0) & (xy[..., 1] <= bottom)
            within &= (xy[..., 0] >= 0) & (xy[..., 0] <= width)
        seen = (raw.visibility[raw.detected][:, cols] >= checks.feet_visibility_min) & inside
        visible_sides.append(seen.any(axis=1))
        hidden_sides.append(within.all(axis=1))
    visible, hidden = np.column_stack(visible_sides), np.column_stack(hidden_sides)
    # both feet seen; or one seen and the other, unseen, placed well inside the picture:
    # hidden behind the body (a squat's lifted foot), not cut off by the frame's edge
    in_view = visible.all(axis=1) | (visible.any(axis=1) & (visible | hidden).all(axis=1))
    feet_fraction = float(in_view.mean())
    if feet_fraction < checks.min_feet_fraction:
        raise NoPersonError(
            f"both feet are in view in only {feet_fraction:.0%} of the frames with a person",
            path=name,
            remedy="Frame the subject from head to feet, with some floor below the feet.",
        )
    both_seen = visible.all(axis=1)
    if float(both_seen.mean()) >= checks.min_feet_fraction:
        return None
    return (
        f"one foot was hidden behind the body in {float((in_view & ~both_seen).mean()):.0%} "
        "of the frames (inside the picture, not cut off by it): filmed from the front, a "
        "single-leg squat's lifted foot disappears like this when the camera looks down from "
        "above knee height or stands close. Place the lens at the patient's knee height, far "
        "enough back that head and feet fill about three quarters of the frame"
    )


@dataclass(frozen=True)
class ChosenView:
    """The view to report, whether every left/right label must be exchanged
    (``mirrored``), the frames whose labels must be exchanged, the view's confidence, what
    the walking direction settled (None if it did not choose the view), and a note for the
    warnings on evidence set aside (:class:`screener.view.ViewDecision`)."""

    view: str
    mirrored: bool
    mirror_frames: BoolArray
    confidence: float
    settled_by_walking: str | None = None
    note: str | None = None


#: The view's confidence when the walking direction chose it (it read the true view of
#: every stored rendered walk with a run; :func:`screener.view.walking_view`).
WALKING_VIEW_CONFIDENCE = 0.9


def choose_view(
    pose: PoseSequence,
    estimate: ViewEstimate,
    given: ViewChoice,
    faces: FaceEvidence | None,
    name: str,
    shade_note: str | None = None,
    *,
    walking: Callable[[], str | None] | None = None,
) -> ChosenView:
    """The view to report and how the labels must change to match it.

    ``walking`` reads the view of the walking direction (:func:`screener.view.walking_view`;
    called only when the labels and the face leave the view in doubt), or is None: where
    the labels and the face cannot settle the view, or a weak face was set aside for labels
    that the walking direction contradicts, it chooses, and every label is exchanged if the
    labels say the other view.

    Raises
    ------
    ViewError
        A side view; or, with ``view="auto"`` and no ``walking``, labels and face that
        contradict each other or are both unclear (the message asks for ``--view``, and
        adds ``shade_note`` when the lighting may have hidden the face).
    """
    if estimate.view == "sagittal":
        raise ViewError(
            f"this is a side (sagittal) view (shoulder/hip width {estimate.width_ratio:.2f} of "
            "torso length); pelvic drop, knee valgus and hip adduction need a frontal view",
            path=name,
            remedy="Film from the front or from behind, the camera square to the subject.",
        )
    none = np.zeros(pose.n_frames, dtype=bool)
    if given != "auto":
        return ChosenView(given, given != estimate.view, none, 1.0)
    decision = decide_view(pose, estimate, faces)
    way = walking() if walking is not None and (decision.problem or decision.set_aside) else None
    unsettled = decision.problem or (decision.set_aside if way != decision.view else None)
    if unsettled and way is not None:
        return ChosenView(
            way,
            way != estimate.view,
            none,
            WALKING_VIEW_CONFIDENCE,
            settled_by_walking=unsettled,
        )
    if decision.problem:
        raise unsettled_view_error(decision.problem, name, shade_note)
    return ChosenView(
        decision.view, False, decision.mirror_frames, decision.confidence, note=decision.note
    )


def unsettled_view_error(problem: str, name: str, shade_note: str | None = None) -> ViewError:
    """The refusal of a clip whose view the labels and the face cannot settle: what
    contradicts what, and the ``--view`` to give."""
    return ViewError(
        f"could not tell whether the subject faces the camera or turns their back to it: "
        f"{problem}" + (f"; {shade_note}" if shade_note else ""),
        path=name,
        remedy="Give the view: --view anterior (filmed from the front) or --view posterior "
        "(from behind).",
    )


def _find_events(
    pose: PoseSequence,
    spec: TaskSpec,
    side: SideChoice,
    view: str,
    config: AnalysisConfig,
    name: str,
) -> FoundEvents:
    """The task's events, by its registered detector (:mod:`screener.tasks`)."""
    return spec.detect_events(pose, side, view, config, name)


def _check_events(events: pd.DataFrame, spec: TaskSpec, name: str, minimum: int) -> None:
    counts = events["side"].value_counts() if len(events) else pd.Series(dtype=int)
    if len(events) == 0:
        raise TooFewEventsError(
            f"no complete {spec.missing_event} was found",
            path=name,
            remedy="Record the whole task; check --task and that the feet stay in view.",
        )
    if not spec.unilateral and counts.max() < minimum:
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
    config: AnalysisConfig,
) -> list[str]:
    """Warnings on how the clip was recorded: frame rate, events per side (fewer than the
    norms file's ``min_events`` for the task), another person in view."""
    out = []
    spec = get_task(task)
    min_fps = config.checks.jog_min_fps
    if spec.fast and fps < min_fps:
        out.append(
            f"{spec.activity} filmed at {fps:.0f} fps: fast movement is blurred and under-sampled "
            f"below {min_fps:.0f} fps; clinical running video guidance asks for 120 fps or more"
        )
    kind = spec.event_noun
    for s in SIDES:
        n = sides[s]["n_events"]
        assert isinstance(n, int)
        if spec.unilateral and n == 0:
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


def decode_quality(raw: PoseSequence) -> dict[str, Any]:
    """What decoding the video found: truncation, frame counts, repaired timestamps.

    Read from ``raw.source["decode"]`` (filled by :func:`screener.pose.estimate_pose`);
    landmarks without that record (e.g. made in a test) give ``known: False``.
    """
    decode = raw.source.get("decode")
    if not isinstance(decode, dict):
        return {"known": False, "truncated": False}
    return {
        "known": True,
        "truncated": bool(decode.get("truncated", False)),
        "error": str(decode.get("error", "")),
        "frames_decoded": int(decode.get("n_decoded", raw.n_frames)),
        "frames_in_header": int(decode.get("n_frames_header", 0)),
        "timestamps_repaired": int(decode.get("n_times_repaired", 0)),
        "notes": [str(n) for n in decode.get("notes", [])],
    }


def decode_warnings(decode: dict[str, Any]) -> list[str]:
    """Warnings for the summary and the report from :func:`decode_quality`."""
    out = []
    if decode.get("truncated"):
        header = decode.get("frames_in_header", 0)
        of_header = f" of the {header} the file announces" if header else ""
        out.append(
            f"the video file is truncated or damaged: only {decode['frames_decoded']} "
            f"frames{of_header} could be decoded ({decode.get('error') or 'decoding stopped'}); "
            "the analysis covers only that part, so steps or repetitions after it are "
            "missing. Export or copy the original recording again"
        )
    repaired = decode.get("timestamps_repaired", 0)
    if repaired:
        out.append(
            f"{repaired} frame timestamp(s) were missing, repeated or went backwards and "
            "were replaced by the nominal frame interval; event times near them are less exact"
        )
    return out


def _squat_depth(
    events: pd.DataFrame, pose: PoseSequence, stance_side: str | None, task: str
) -> dict[str, Any]:
    """Depth of a squat against the task's capture guide (see screener.capture_guide)."""
    from screener.capture_guide import (
        CAPTURE_PATH,
        load_capture_guides,
        repetition_depths_deg,
        squat_depth,
    )

    depths = repetition_depths_deg(events, pose, stance_side).to_numpy(float)
    return squat_depth(depths, load_capture_guides(CAPTURE_PATH)[task])


def implausible_reading_warnings(
    sides: dict[str, dict[str, Any]], norms: Norms, task: str
) -> list[str]:
    """Warn where a side's median reading lies beyond what people show in the task.

    Parameters
    ----------
    sides
        :func:`screener.metrics.side_statistics` of the events.
    norms, task
        The norms and the task; a metric of the task with ``plausible_min`` is checked
        against it.

    Returns
    -------
    list of str
        One warning per side and metric whose median over the events is below the
        metric's ``plausible_min`` (norms file, with its source and basis).

    Notes
    -----
    The limit comes from the norms' population figures, not from the renders (the
    single-leg squat's knee FPPA: four SDs below the controls' mean, ``norms.toml``). The
    values stay in the tables; the warning says that the camera, not the knee, is the
    likelier cause, and what to do.
    """
    out = []
    for metric, mnorm in norms.task(task).metrics.items():
        if mnorm.plausible_min is None:
            continue
        source = norms.sources[str(mnorm.plausible_source)]
        cited = f"doi:{source.doi}" if source.doi else str(mnorm.plausible_source)
        for side in SIDES:
            stats = sides.get(side, {}).get(metric)
            if not isinstance(stats, dict) or not stats.get("n"):
                continue
            median = float(stats["median"])
            if median < mnorm.plausible_min:
                out.append(
                    f"{side} {mnorm.label[0].lower()}{mnorm.label[1:]}: the median of "
                    f"{stats['n']} event(s) reads {median:.0f}°, under the norms file's floor "
                    f"of {mnorm.plausible_min:.0f}° for this task (after {cited}), which "
                    "people are not expected to reach. A camera off to the patient's side is "
                    "the likelier cause: place the phone square to the patient, lens at knee "
                    "height, and film again; a reading that stays there is for the clinician "
                    "to judge"
                )
    return out


def _events_at(
    events: pd.DataFrame, where: dict[str, BoolArray], *, whole_event: bool = False
) -> dict[str, tuple[int, int]]:
    """Per side with events: how many of its events ``where`` marks at the peak frame (or,
    with ``whole_event``, at any frame from start to end), of how many events."""
    out = {}
    for s in SIDES:
        side = events.loc[events["side"] == s]
        if side.empty:
            continue
        if whole_event:
            spans = side[["frame_start", "frame_end"]].to_numpy(dtype=int)
            marked = sum(bool(where[s][a : b + 1].any()) for a, b in spans)
        else:
            marked = int(where[s][side["frame_peak"].to_numpy(dtype=int)].sum())
        out[s] = (marked, len(side))
    return out


def _empty_at_warnings(
    events: pd.DataFrame, where: dict[str, BoolArray], text: str, *, whole_event: bool = False
) -> list[str]:
    """One warning per side whose events ``where`` marks (:func:`_events_at`): ``text``
    with ``{side}``, ``{n}`` (events marked) and ``{total}`` (the side's events) filled in."""
    return [
        text.format(side=s, n=n, total=total)
        for s, (n, total) in _events_at(events, where, whole_event=whole_event).items()
        if n
    ]


def _foreshortening_warnings(
    events: pd.DataFrame, foreshortened: dict[str, BoolArray], min_fraction: float
) -> list[str]:
    """Say where the knee and hip frontal-plane angles were left empty, and why."""
    return _empty_at_warnings(
        events,
        foreshortened,
        "{side} thigh foreshortened at {n} of {total} event(s) (under "
        f"{min_fraction:.0%} of its standing length in the image): "
        "knee valgus (FPPA) and hip adduction are left empty there. The camera is "
        "probably above knee height or close to the subject; film square to the "
        "subject with the lens at knee height",
    )


def _foot_below_picture_warnings(events: pd.DataFrame, below: dict[str, BoolArray]) -> list[str]:
    """Say during how many of a side's events its foot reached below the picture's bottom
    edge (knee FPPA left empty in those frames), and what to do."""
    return _empty_at_warnings(
        events,
        below,
        "the {side} foot reached below the picture's bottom edge during {n} of {total} "
        "event(s) (cut off by the frame; its landmarks are guesses): knee valgus (FPPA) was "
        "not read in those frames, since on test renders a cut-off foot moved it by up to "
        "18°. Film again with the whole foot and some floor below it in view: the phone "
        "level, its lens at the patient's knee height, and far enough back that head and "
        "feet fill about three quarters of the frame",
        whole_event=True,
    )


def _deep_squat_warnings(events: pd.DataFrame, withheld: WithheldAngles) -> list[str]:
    """Say where knee FPPA of a squat filmed from behind was left empty, and what to do
    (where the thigh's foreshortening has not already said so)."""
    only_deep = {s: withheld.deep_from_behind[s] & ~withheld.foreshortened[s] for s in SIDES}
    return _empty_at_warnings(
        events,
        only_deep,
        "{side} knee valgus (FPPA) not measured at {n} of {total} repetition(s): "
        "in a deep squat filmed from behind it was read up to 10-17° off the truth "
        "on test renders (large valgus read too small). To measure it, film the "
        "squat from the front, the phone upright at the patient's knee height",
    )


def other_people_warnings(others: OtherPeople | None, raw: PoseSequence, name: str) -> list[str]:
    """A warning when someone else is in view; a refusal when the tracking switched.

    Raises
    ------
    NoPersonError
        Another person is in view and the tracked body jumped between frames: the pose
        model followed one person, then another.
    """
    if others is None or not others.found:
        return []
    jumps = _count_person_jumps(raw)
    if jumps:
        raise NoPersonError(
            f"another person is in view and the tracked body jumped {jumps} time(s): the "
            "pose model switched from one person to another",
            path=name,
            remedy="Film the patient alone, with nobody else in the frame.",
        )
    return [
        f"another person was seen in {len(others.frames_with_other)} of "
        f"{len(others.frames_checked)} checked frames (frames "
        f"{', '.join(str(i) for i in others.frames_with_other[:5])}): the pose model "
        "follows one person; check in the stills that the patient was the one measured, "
        "and film the patient alone next time"
    ]


def relabel_legs_by_majority(raw: PoseSequence, swapped: BoolArray) -> tuple[PoseSequence, int]:
    """Keep the pose model's leg labels where most frames have them.

    The swap repair makes every frame agree with the first frames whose legs are seen.
    If it had to exchange the legs in most frames, the first frames were the mislabelled
    ones (e.g. a squat whose first frames had the legs' labels exchanged, after which
    the whole clip was read as the other leg's squat): the frames it left alone are
    relabelled instead, so that the majority's labels win.

    Returns
    -------
    raw
        The landmarks, relabelled if needed.
    n_relabelled
        Frames whose leg labels were exchanged (0: nothing done).
    """
    seen = raw.detected
    if not seen.any() or swapped[seen].mean() <= 0.5:
        return raw, 0
    frames = seen & ~swapped
    return swap_leg_labels(raw, frames), int(frames.sum())


def require_confident_task(estimate: TaskEstimate, name: str, minimum: float) -> None:
    """Refuse to guess the task when the evidence is too weak (confidence below
    ``minimum``).

    Raises
    ------
    TooFewEventsError
        The task could not be told (e.g. the subject stands still); the message asks
        for ``--task``.
    """
    if estimate.confidence >= minimum:
        return
    raise TooFewEventsError(
        f"could not tell which task this clip shows: {'; '.join(estimate.reasons)}",
        path=name,
        remedy="Record the task (walking toward the camera, single-leg squats or jogging "
        f"in place), or give it with {task_flags(task_names())}.",
    )


def task_flags(names: tuple[str, ...] | list[str]) -> str:
    """``--task a, --task b or --task c``: the options that give these tasks."""
    flags = [f"--task {name}" for name in names]
    return ", ".join(flags[:-1]) + f" or {flags[-1]}" if len(flags) > 1 else "".join(flags)


def weak_task_warnings(estimate: TaskEstimate, sure: float) -> list[str]:
    """A warning when the task was guessed from weak evidence (confidence below ``sure``),
    naming the evidence and how to give the task; none for a task read surely (a task
    given has confidence 1).
    """
    if estimate.confidence >= sure:
        return []
    label = get_task(estimate.task).label.lower()
    others = [t for t in task_names() if t != estimate.task]
    return [
        f"the task was read as {label} on weak evidence (confidence "
        f"{estimate.confidence:.2f}: {'; '.join(estimate.reasons)}); if the clip shows "
        f"another task, analyse it again with {task_flags(others)}"
    ]


def oriented_pose(
    raw: PoseSequence,
    view: ViewChoice = "auto",
    config: AnalysisConfig | None = None,
    faces: FaceEvidence | None = None,
) -> tuple[PoseSequence, str]:
    """The landmarks the capture check reads: leg labels settled, the view chosen, cleaned
    at walking's cut-off (as :func:`analyze_pose` does before :func:`check_capture`).

    Returns
    -------
    pose, view
        The cleaned landmarks and the view chosen.

    Raises
    ------
    ViewError
        The view cannot be told (see :func:`choose_view`).
    """
    config = config or AnalysisConfig()
    orient = _orient(raw, view, faces, config, str(raw.source.get("video", "landmarks")), [])
    return orient.cleaning.at(config.cutoff_for("walk")).pose, orient.view


def estimate_capture(
    pose: PoseSequence,
    task: str | None,
    view: str,
    config: AnalysisConfig,
    scene_tilt: SceneTilt | None = None,
    *,
    lens_height_m: float | None = None,
    camera_distance_m: float | None = None,
    clothing: Clothing | None = None,
    patient_height_m: float | None = None,
) -> tuple[CameraEstimate, EnvelopeCheck]:
    """Estimate the camera's placement and compare it with the validated envelope.

    The roll is the room's verticals' where ``scene_tilt`` was read, else the subject's
    long axis' (:func:`screener.capture.with_scene_tilt`). Where a learned yaw model is
    configured and the view is told, it reads the yaw on the landmarks with their roll
    corrected as the analysis will correct it (:func:`screener.capture.with_learned_yaw`).
    A refusal is only reported (``check.refusal``); :func:`check_capture` raises it.
    ``lens_height_m``, the lens height measured at the recording, is checked instead of
    the one read from the video; ``camera_distance_m``, the distance measured, is checked
    where the envelope limits it (a single-leg squat filmed from the front), as is
    ``clothing``, the clothes' colours read from the video, and ``patient_height_m``,
    the patient's height entered (a single-leg squat).
    """
    camera = estimate_camera(
        pose,
        task,
        long_side_fov_deg=config.capture.assumed_long_side_fov_deg,
        fov_sensitivity_deg=config.capture.fov_sensitivity_deg,
    )
    camera = with_scene_tilt(camera, scene_tilt)
    envelope = load_envelope(config.capture.envelope_path)
    correct = config.capture.correct_roll
    path = config.capture.yaw_model_path
    if path is not None and view in ("anterior", "posterior"):
        from screener.camera_model import estimate_learned_yaw, load_yaw_model

        turn = roll_correction_deg(camera.roll_deg, envelope, correct=correct)
        upright = correct_roll(pose, -turn) if turn else pose
        learned = estimate_learned_yaw(upright, view, load_yaw_model(path), config.angles)
        camera = with_learned_yaw(camera, learned)
    check = check_envelope(
        camera,
        envelope,
        view,
        float(pose.fps),
        correct=correct,
        stated_height_m=lens_height_m,
        stated_distance_m=camera_distance_m,
        task=task,
        clothing=clothing,
        stated_stature_m=patient_height_m,
    )
    return camera, check


def check_capture(
    pose: PoseSequence,
    task: str,
    view: str,
    config: AnalysisConfig,
    name: str,
    scene_tilt: SceneTilt | None = None,
    *,
    lens_height_m: float | None = None,
    camera_distance_m: float | None = None,
    clothing: Clothing | None = None,
    patient_height_m: float | None = None,
) -> tuple[CameraEstimate, EnvelopeCheck]:
    """:func:`estimate_capture`, refusing a camera outside the envelope.

    Raises
    ------
    ViewError
        The camera is too far outside the envelope to measure (tilted beyond the
        correctable roll, far off the frontal axis, subject too small).
    """
    camera, check = estimate_capture(
        pose,
        task,
        view,
        config,
        scene_tilt,
        lens_height_m=lens_height_m,
        camera_distance_m=camera_distance_m,
        clothing=clothing,
        patient_height_m=patient_height_m,
    )
    if check.refusal:
        raise ViewError(
            f"the camera is outside the range the screener was validated for: {check.refusal}",
            path=name,
            remedy="Record again as described (docs/capture.md gives the validated range).",
        )
    return camera, check


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


def _learned_angles(
    frames: pd.DataFrame, pose: PoseSequence, task: str, view: str, config: AnalysisConfig
) -> tuple[pd.DataFrame, dict[str, Any] | None]:
    """The frame model's angles where one ships and may be applied (else unchanged): the
    task's own model (``frame_model_by_task``) where it has one, while the frame model is
    on at all (``frame_model_path``)."""
    chosen = config.frame_model_for(task)
    if chosen is None:
        return frames, None
    from screener.frame_model import apply_frame_model, load_frame_model

    model = load_frame_model(chosen.model_path)
    return apply_frame_model(frames, pose, view, model, config.frame_model_include_unverified)


@dataclass(frozen=True)
class ErrorFiles:
    """The measured-error files a clip's verdicts use: ``default`` for every metric but
    those in ``by_metric``, whose values the frame model corrected in this clip."""

    default: Path | None
    by_metric: dict[str, Path] = field(default_factory=dict)

    def path_for(self, metric: str) -> Path | None:
        return self.by_metric.get(metric, self.default)


def _measurement_error_files(
    config: AnalysisConfig, frame_model: dict[str, Any] | None, task: str
) -> ErrorFiles:
    """The measured-error files the verdicts use: the frame model's own (the task's model's,
    where the task has one) for the event metrics whose angles it corrected in this clip
    (all of the metric's targets), the default's for the rest (the geometric angles)."""
    from screener.frame_model import EVENT_METRIC_TARGETS

    chosen = config.frame_model_for(task)
    own = None if chosen is None else chosen.measurement_errors_path
    if frame_model is None or "not_applied" in frame_model or own is None:
        return ErrorFiles(config.measurement_errors_path)
    corrected = set(frame_model.get("targets_corrected", ()))
    return ErrorFiles(
        config.measurement_errors_path,
        {m: own for m, targets in EVENT_METRIC_TARGETS.items() if set(targets) <= corrected},
    )


def _measured_error_rules(
    errors: ErrorFiles,
    task: str,
    view: str,
    floors: Mapping[str, tuple[float, str]] | None = None,
) -> dict[str, Any]:
    """The screener's own measured errors (each metric from its file in ``errors``, raised
    to its entry in ``floors``: RMSE and source, from the capture check) and the verdict
    rules that use them (the default file's; the frame model's own where no default file
    is set)."""
    from screener.accuracy import load_measured_errors

    files = {p: load_measured_errors(p) for p in {errors.default, *errors.by_metric.values()} if p}
    if not files:
        return {}
    rules_from = files[errors.default] if errors.default else next(iter(files.values()))
    where = {"anterior": "from the front", "posterior": "from behind"}
    title = get_task(task).title.lower()
    measured: dict[str, Any] = {}
    advice: dict[str, str] = {}
    names: dict[str, str] = {}
    for path, table in files.items():
        for metric, err in table.for_task(task, view).items():
            if errors.path_for(metric) == path:
                measured[metric] = err
                names[metric] = path.name
        for metric, (other, err) in table.better_views(task, view).items():
            if errors.path_for(metric) != path:
                continue
            tracking = (
                f" and its side means followed the truth with r = {err.side_r:.2f}"
                if err.side_r is not None
                else ""
            )
            advice[metric] = (
                f"Filmed {where.get(other, other)}, this measurement's error was "
                f"{err.rmse_deg:.1f}°{tracking}: record the {title} {where.get(other, other)} "
                "to have it judged."
            )
    for metric, (rmse_deg, source) in (floors or {}).items():
        if metric in measured and rmse_deg > measured[metric].rmse_deg:
            measured[metric] = measured[metric].model_copy(update={"rmse_deg": rmse_deg})
            names[metric] = source
    return {
        "measured_errors": measured,
        "max_error": rules_from.max_reportable_error_deg,
        "rule_out_z": rules_from.rule_out_z,
        "min_tracking_r": rules_from.min_tracking_r,
        "hide_untracked": rules_from.hide_untracked_values,
        "advice": advice,
        "errors_files": names,
    }


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
