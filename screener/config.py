"""Typed, validated settings of one analysis, with their documented defaults.

All tunable numbers of the pipeline live here (and the clinical thresholds in
``models/norms.toml``). A config is hashed into the output's provenance, so a result
always says which settings produced it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from screener.errors import ConfigError
from screener.tasks import task_defaults

#: A task's name (one of :func:`screener.tasks.task_names`, the registry) or ``"auto"``.
TaskChoice = str
Side = Literal["left", "right"]
SideChoice = Literal["left", "right", "auto"]
View = Literal["anterior", "posterior", "sagittal"]
ViewChoice = Literal["anterior", "posterior", "auto"]
Sex = Literal["female", "male"]

MODELS_DIR = Path(__file__).resolve().parent / "models"
#: Lens heights a recording can have had (metres above the floor); outside, a typing or
#: unit error (:func:`screener.pipeline.check_placement`).
LENS_HEIGHT_RANGE_M = (0.1, 3.0)


def _checked_entry(
    value: object, what: str, units: str, low: float, high: float, span: str, example: str
) -> float:
    """``value`` as a number of ``units`` from ``low`` to ``high``, for the entry checks.

    Raises
    ------
    ValueError
        "the {what} must be a number of {units}, got ..." or "the {what} must be {span},
        got ... ({units}: {example})".
    """
    try:
        number = float(str(value))
    except ValueError:
        raise ValueError(f"the {what} must be a number of {units}, got {value!r}") from None
    if not low <= number <= high:
        raise ValueError(f"the {what} must be {span}, got {value} ({units}: {example})")
    return number


def check_lens_height_cm(value: object) -> float:
    """A lens height entered in centimetres (command line, manifest, upload form), checked.

    Raises
    ------
    ValueError
        Not a number, or outside :data:`LENS_HEIGHT_RANGE_M`; the message names the unit.
    """
    low, high = (100.0 * limit for limit in LENS_HEIGHT_RANGE_M)
    return _checked_entry(
        value, "lens height", "centimetres", low, high,
        f"{low:.0f}-{high:.0f} cm above the floor", "60 for a lens at knee height",
    )  # fmt: skip


#: Camera distances a recording can have had (metres, lens to patient); outside, a typing
#: or unit error (:func:`screener.pipeline.check_placement`).
CAMERA_DISTANCE_RANGE_M = (0.3, 20.0)


def check_camera_distance_m(value: object) -> float:
    """A camera distance entered in metres (command line, manifest, upload form), checked.

    Raises
    ------
    ValueError
        Not a number, or outside :data:`CAMERA_DISTANCE_RANGE_M`; the message names the
        unit.
    """
    low, high = CAMERA_DISTANCE_RANGE_M
    return _checked_entry(
        value, "camera distance", "metres", low, high,
        f"{low:g}-{high:g} m from the lens to the patient", "2.5 for a phone 2.5 m away",
    )  # fmt: skip


#: Statures a patient can have (metres); outside, a typing or unit error
#: (:func:`screener.pipeline.check_placement`).
PATIENT_HEIGHT_RANGE_M = (0.9, 2.5)


def check_patient_height_cm(value: object) -> float:
    """A patient's height entered in centimetres (command line, manifest, patient record),
    checked.

    Raises
    ------
    ValueError
        Not a number, or outside :data:`PATIENT_HEIGHT_RANGE_M`; the message names the
        unit.
    """
    low, high = (100.0 * limit for limit in PATIENT_HEIGHT_RANGE_M)
    return _checked_entry(
        value, "patient's height", "centimetres", low, high,
        f"{low:.0f}-{high:.0f} cm", "165 for a patient 1.65 m tall",
    )  # fmt: skip


#: The shipped learned event models (models/event_model.md): stance of walks and jogs (on
#: by default since session 15), and squat repetitions (a research option, off).
EVENT_MODEL_PATH = MODELS_DIR / "event_model.npz"
REP_MODEL_PATH = MODELS_DIR / "rep_model.npz"
#: The research silhouette model (:mod:`screener.silhouette`), off unless asked for.
SILHOUETTE_MODEL_PATH = MODELS_DIR / "silhouette_fppa.toml"


def default_cache_dir() -> Path:
    """Keypoint cache folder: ``$SCREENER_CACHE_DIR`` or ``~/.cache/screener``."""
    env = os.environ.get("SCREENER_CACHE_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "screener"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _per_task(value: object, what: str) -> dict[str, float]:
    """A per-task setting: the given tasks over the defaults of the task registry
    (:mod:`screener.tasks`), unknown tasks refused.

    A settings file that gives only ``walk`` keeps the defaults of the other tasks; it
    never leaves them to a silent fallback.
    """
    defaults = task_defaults(what)
    if value is None:
        return dict(defaults)
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a table of task = value, got {value!r}")
    unknown = sorted(set(value) - set(defaults))
    if unknown:
        raise ValueError(f"{what}: unknown task(s) {unknown}; known: {sorted(defaults)}")
    merged = {**defaults, **value}
    for task, number in merged.items():
        if not isinstance(number, int | float) or isinstance(number, bool) or number <= 0:
            raise ValueError(f"{what} for {task} must be a positive number, got {number!r}")
    return {task: float(number) for task, number in merged.items()}


class PoseConfig(_Frozen):
    """MediaPipe settings. Any change here invalidates the keypoint cache."""

    model_complexity: Literal[1] = Field(
        1,
        description="BlazePose full model, the one shipped inside the mediapipe wheel. "
        "Complexity 0 and 2 download weights at run time and are not offered.",
    )
    min_detection_confidence: float = Field(0.5, ge=0.0, le=1.0)
    min_tracking_confidence: float = Field(0.5, ge=0.0, le=1.0)
    smooth_landmarks: bool = Field(
        True, description="MediaPipe's own landmark smoothing (legacy API only)."
    )
    task_model_path: Path | None = Field(
        None,
        description="Optional user-supplied pose_landmarker .task file (MediaPipe Tasks API). "
        "Never required: by default the bundled legacy full model is used.",
    )
    max_long_side_px: int = Field(
        1280,
        ge=256,
        description="Frames larger than this are downscaled before pose estimation "
        "(MediaPipe works on 256 px crops; this only saves decoding and colour conversion).",
    )
    rotate_cw_deg: Literal[0, 90, 180, 270] = Field(
        0,
        description="Extra clockwise turn of every frame, on top of the file's rotation tag. "
        "Set by the upright check when a clip without a tag shows the subject upside down "
        "or lying (recorded in the summary's warnings); 0 otherwise.",
    )
    square_crop_x_fraction: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Where (as a fraction of the upright frame's width) the centre of a "
        "square of the frame's full height lies that the pose model is shown instead of a "
        "landscape frame. Set when MediaPipe finds the patient in fewer than "
        "ChecksConfig.square_crop_below_detected_fraction of the frames of the whole "
        "landscape picture (a small body: its detector looks at the picture's long side) "
        "and in more of them in the square around the patient (recorded in the summary's "
        "warnings); None: the whole frame.",
    )


class CleaningConfig(_Frozen):
    """Landmark cleaning settings."""

    visibility_min: float = Field(
        0.5, ge=0.0, le=1.0, description="Landmarks below this visibility are masked (NaN)."
    )
    max_gap_s: float = Field(
        0.2, ge=0.0, description="Gaps up to this long are interpolated; longer stay empty."
    )
    repair_swaps: bool = Field(True, description="Detect and undo left/right leg label swaps.")
    filter_order: int = Field(
        2,
        ge=1,
        le=4,
        description="Butterworth design order; applied forward and backward (sosfiltfilt), "
        "so the effective order is twice this (default: 4th-order zero-lag).",
    )
    cutoff_hz: dict[str, float] = Field(
        default_factory=lambda: task_defaults("cutoff_hz"),
        description="Low-pass cut-off per task, Hz. 6 Hz is the field's default for walking; "
        "6-15 Hz for running (see shared clinical evidence). Recorded in provenance. Tasks a "
        "settings file leaves out keep their defaults.",
    )
    image_margin_fraction: float = Field(
        0.02,
        ge=0,
        description="A landmark farther outside the image than this fraction of its size is "
        "masked (the model guesses points it cannot see).",
    )
    swap_max_distance_ratio: float = Field(
        0.5,
        gt=0,
        lt=1,
        description="Leg labels are exchanged only when the exchanged labels fit the last "
        "known frame at least this much closer (swapped distance / kept distance) ...",
    )
    swap_min_separation_fraction: float = Field(
        0.5,
        ge=0,
        description="... and better by at least this fraction of the legs' separation (a "
        "crossover step, where the legs overlap, is never swapped on a whim).",
    )

    @field_validator("cutoff_hz", mode="before")
    @classmethod
    def _cutoffs(cls, value: object) -> dict[str, float]:
        return _per_task(value, "cutoff_hz")


class EventConfig(_Frozen):
    """Event detection settings."""

    min_stance_s: dict[str, float] = Field(
        default_factory=lambda: task_defaults("min_stance_s"),
        description="Shorter stance phases are dropped (a swinging foot slows for a moment; "
        "walking stance lasts about 0.6 s, jogging stance 0.15-0.3 s).",
    )
    max_stance_s: float = Field(2.0, gt=0, description="Longer 'stance phases' are dropped.")
    stance_heel_speed_max_leg_per_s: dict[str, float] = Field(
        default_factory=lambda: task_defaults("stance_heel_speed_max_leg_per_s"),
        description="A heel or toe moving slower than this (leg lengths per second, in the "
        "image) may be in stance. Chosen on the rendered tuning set and the samples, checked "
        "on the hold-out set (docs/accuracy.md).",
    )
    stance_gap_max_s: float = Field(
        0.034,
        ge=0,
        description="Breaks in a stance phase up to this long (a heel landmark's jitter) are "
        "closed; no real swing is this short.",
    )
    stance_height_max_leg: float = Field(
        0.06,
        gt=0,
        description="Jogging in place: a foot farther than this (leg lengths) from its ground "
        "level is in the air, however slowly it moves (chosen like the speed threshold).",
    )
    event_model_path: Path | None = Field(
        EVENT_MODEL_PATH,
        description="Learned stance timing of walks and jogs from the feet's landmarks "
        "(screener.event_model, models/event_model.md; the default since session 15, when "
        "it was checked on a real walk); None: the stance rule "
        "(screener.events.detect_stance). The rule stays where the model finds a clip's "
        "landmarks unlike its training data.",
    )
    rep_model_path: Path | None = Field(
        None,
        description="Learned start and end of single-leg squat repetitions "
        "(screener.event_model.refine_rep_edges, models/event_model.md); None: the rule's "
        "(screener.events.detect_sls_reps). The repetitions and their deepest points stay "
        "the rule's.",
    )
    min_rep_depth_leg: float = Field(
        0.04,
        gt=0,
        description="A single-leg squat repetition must lower the pelvis by at least this "
        "fraction of leg length.",
    )
    min_events_per_side: int = Field(
        1, ge=1, description="Fewer events than this on both sides is an error."
    )
    min_rep_interval_s: float = Field(
        0.8, gt=0, description="Deepest points of two squat repetitions are at least this apart."
    )
    rep_edge_fraction: float = Field(
        0.03,
        gt=0,
        lt=1,
        description="A squat repetition cut by the clip's edge starts (ends) where the pelvis "
        "is within this fraction of the repetition's depth of its lowest level before (after) "
        "it; other repetitions' edges are extrapolated from their half-depth crossings "
        "(screener.events.detect_sls_reps).",
    )
    edge_swing_min_s: float = Field(
        0.05,
        ge=0,
        description="Shortest swing that, running into the clip's edge, still closes a stance "
        "phase (a shorter one is more often the filter's edge than a real heel-off) ...",
    )
    edge_swing_min_frames: int = Field(3, ge=1, description="... and at least this many frames.")
    edge_swing_confident_frames: int = Field(
        2,
        ge=1,
        description="With the learned stance model: a shorter swing at the clip's edge still "
        "closes a stance phase when it has at least this many frames ...",
    )
    edge_swing_confident_max_probability: float = Field(
        0.01,
        ge=0,
        le=0.5,
        description="... and the model's contact probability falls to this or below within it "
        "(a swing the model is sure of, not the filter's edge; chosen on the validation clips, "
        "docs/accuracy.md, session 17).",
    )
    sls_foot_lift_min_leg: float = Field(
        0.06,
        gt=0,
        description="Task detection: a median height difference of the feet (leg lengths) "
        "that shows one foot is off the ground (a single-leg squat) ...",
    )
    sls_foot_up_leg: float = Field(
        0.03, gt=0, description="... a foot this much higher (leg lengths) counts as up ..."
    )
    sls_same_foot_up_fraction: float = Field(
        0.8,
        gt=0,
        le=1,
        description="... and the same foot must be up in at least this fraction of frames.",
    )
    walk_size_change_min: float = Field(
        0.15,
        gt=0,
        description="Task detection: a walk toward the camera changes the body's size in the "
        "image by more than this (log ratio) ...",
    )
    walk_travel_min_leg: float = Field(
        1.0, gt=0, description="... or moves the pelvis by more than this (leg lengths)."
    )
    squat_pelvis_range_min_leg: float = Field(
        0.15,
        gt=0,
        description="Task detection, squat rhythm: the pelvis rises and falls by at least "
        "this much (leg lengths, 5th to 95th percentile) ...",
    )
    squat_rhythm_max_hz: float = Field(
        1.2,
        gt=0,
        description="... at a dominant frequency below this (repetitions take 1-4 s; "
        "jogging in place bounces at the step rate, 2.3-3.3 Hz).",
    )
    shallow_squat_rhythm_max_hz: float = Field(
        0.9,
        gt=0,
        description="Task detection, feet and pelvis nearly still (as for "
        "standing_foot_range_max_leg) but one foot held up and the pelvis moving by at "
        "least half squat_pelvis_range_min_leg: a shallow single-leg squat only at a "
        "dominant frequency below this (repetitions of 1.1 s or longer). Measured: such "
        "rendered squats 0.42-0.72 Hz (60 of 74 clips of the opened corpora had been "
        "refused as standing still); the person standing on both feet, shifting her "
        "weight, in the Pose2Sim lab clips 1.05-1.35 Hz.",
    )
    standing_foot_range_max_leg: float = Field(
        0.12,
        gt=0,
        description="Task detection, standing still: neither foot moves up or down by more "
        "than this (leg lengths, 5th to 95th percentile) while the pelvis moves less than "
        "squat_pelvis_range_min_leg. Measured: 0.04-0.10 for people standing in the "
        "Pose2Sim lab clips; at least 0.16 for a jog's foot, 0.98 for a walk's.",
    )
    opening_min_s: float = Field(
        0.5,
        gt=0,
        description="Task detection: a stand on both feet this long or longer at the clip's "
        "start or end (the capture guide's opening, or the foot put down after the last "
        "squat) is left out before the task is read, when what is left holds one foot up "
        "(as for sls_same_foot_up_fraction): both feet at one height (within "
        "sls_foot_up_leg) and slower than opening_foot_speed_max_leg_per_s "
        "(screener.events.active_span). Without it, squats filmed as the guide asks were "
        "read as walks (the lifted leg shortens in the image; session 21).",
    )
    opening_foot_speed_max_leg_per_s: float = Field(
        0.5,
        gt=0,
        description="... each foot's image speed (the slower of heel and toe, leg lengths "
        "per second) stays under this meanwhile.",
    )

    @field_validator("min_stance_s", mode="before")
    @classmethod
    def _min_stance(cls, value: object) -> dict[str, float]:
        return _per_task(value, "min_stance_s")

    @field_validator("stance_heel_speed_max_leg_per_s", mode="before")
    @classmethod
    def _stance_speed(cls, value: object) -> dict[str, float]:
        return _per_task(value, "stance_heel_speed_max_leg_per_s")


class AngleConfig(_Frozen):
    """Where an angle is measurable at all (outside, it is left empty with a reason)."""

    femoral_ir_min_flexion_deg: float = Field(
        10.0,
        ge=0,
        description="Below this knee flexion the femur's axial rotation is not measurable "
        "(the knee's flexion axis is undefined for a straight leg); femoral IR is left empty.",
    )
    femoral_ir_full_confidence_flexion_deg: float = Field(
        40.0, gt=0, description="Knee flexion at which femoral IR confidence reaches 1."
    )
    femoral_ir_plausible_max_deg: float = Field(
        60.0,
        gt=0,
        description="Femoral rotation beyond this either way is outside the hip's range of "
        "motion: left empty.",
    )
    thigh_min_visible_fraction: float = Field(
        0.6,
        gt=0,
        le=1,
        description="A thigh shorter than this fraction of its standing length in the image "
        "is too foreshortened for the knee's and hip's frontal-plane angles (left empty).",
    )
    foot_below_picture_fraction: float = Field(
        0.02,
        ge=0,
        description="A leg's knee FPPA is left empty in the frames where the pose model "
        "places its ankle, heel or toe farther below the picture's bottom edge than this "
        "fraction of the picture's height: the foot was cut off by the frame and its "
        "landmarks are guesses (the cleaning step drops them at CleaningConfig."
        "image_margin_fraction, the same 0.02), which moved the frame model's knee FPPA by "
        "up to 10-18 deg on renders whose stance foot was cut (docs/capture.md, 'A foot cut "
        "off by the picture's bottom edge'). A large value turns it off.",
    )
    posterior_squat_max_depth: float = Field(
        0.21,
        gt=0,
        description="In a squat filmed from behind, knee FPPA is left empty where the mid-hip "
        "has dropped more than this fraction of the standing hip-to-ankle height in the image "
        "(screener.angles.squat_depth_in_image): deeper, FPPA from behind was read up to "
        "10-17 deg off the truth (large valgus read too small). Chosen in session 25 on the "
        "rendered posterior squats of the validation set and hold-outs 20-35 (at most 40 % of "
        "their repetitions left empty), checked on hold-outs 36-40 and 42 (docs/accuracy.md). "
        "A large value turns it off.",
    )


class ChecksConfig(_Frozen):
    """Checks that a clip can be analysed at all (each failure is a clear error)."""

    min_duration_s: float = Field(
        1.0, gt=0, description="A shorter clip cannot hold a repetition or two steps."
    )
    min_detected_fraction: float = Field(
        0.3, ge=0, le=1, description="Fraction of frames that must show a person."
    )
    square_crop_below_detected_fraction: float = Field(
        0.95,
        ge=0,
        le=1,
        description="A landscape clip whose patient MediaPipe finds in fewer than this share "
        "of its frames is looked at again through a square of the picture's full height "
        "around the patient (PoseConfig.square_crop_x_fraction), whose landmarks are used "
        "when it finds them in more frames and the body stays inside it. On the landscape "
        "walks of hold-outs 36-41 and 46 found in 13-91 % of their frames (16 clips), the "
        "square found 99 %, every stance phase (62 of 62 against 43 of 54, two clips "
        "refused) and timed 56 within 50 ms (36); knee FPPA 2.85 against 3.15 deg "
        "(docs/accuracy.md, session 28). 0 turns it off.",
    )
    small_body_long_side_fraction: float = Field(
        0.3,
        gt=0,
        le=1,
        description="When a person is found in too few frames and, where found, the body "
        "(head to feet) spans less than this fraction of the picture's long side, the error "
        "says the patient is too small. MediaPipe found the person in 19 % of rendered "
        "frames with the body under 0.15 of the long side, 73 % at 0.15-0.2, 95 % at "
        "0.2-0.25 and 99.6 % or more from 0.25 (every corpus, 74,000 frames; docs/accuracy.md).",
    )
    small_body_at_one_end_long_side_fraction: float = Field(
        0.45,
        gt=0,
        le=1,
        description="When a person is found in too few frames, all of them at one end of the "
        "clip (a walk toward or away from the camera), and the body where found spans less "
        "than this fraction of the long side, the error says the patient was too small "
        "while farther away. Two walks of the forty-sixth hold-out (landscape, found only in "
        "their last 13-15 % at 26-36 % of the long side) led to it (session 27).",
    )
    min_feet_fraction: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Fraction of the frames with a person in which both feet must be in view.",
    )
    feet_visibility_min: float = Field(
        0.3,
        ge=0,
        le=1,
        description="A foot counts as in view when one of its landmarks is this visible and "
        "inside the image.",
    )
    hidden_foot_edge_fraction: float = Field(
        0.05,
        ge=0,
        le=1,
        description="A foot not seen (no landmark visible enough) whose ankle, heel and toe "
        "all lie inside the image and at least this fraction of its height above the bottom "
        "edge counts as hidden behind the body, not cut off by the frame, in a frame where "
        "the other foot is seen: a single-leg squat's lifted foot filmed from the front. "
        "Three squats of hold-outs 52 and 67, their feet inside the frame, were refused as "
        "'feet not in view' before this (session 35); where such frames are needed to reach "
        "min_feet_fraction the clip is analysed with a warning about the camera's height "
        "(8 of the 11 stored clips concerned had the lens 1.45-1.76 m high).",
    )
    both_legs_min_lift_leg: float = Field(
        0.05,
        gt=0,
        description="A single-leg squat clip holds squats on both legs when each foot in turn "
        "is held up, the feet's image heights differing by at least this (leg lengths), for "
        "both_legs_min_hold_s or more (screener.events.find_one_leg_holds). No stored clip "
        "(session 22: 2,106 renders) held both feet up so; at 0.02 leg, 5 squats did.",
    )
    both_legs_min_hold_s: float = Field(
        2.0,
        gt=0,
        description="... for at least this long each (a walk's or jog's swing lasts under "
        "0.5 s; at 1.5 s one stored squat read as both legs, at 2.0 s none). Also the "
        "shortest stretch of one foot steady (both_legs_steady_ratio_max).",
    )
    both_legs_steady_window_s: float = Field(
        2.0,
        gt=0,
        description="Where the feet's heights do not tell (filmed from behind), squats on "
        "both legs are found from which foot stays put: each frame's feet compared over a "
        "window this long (screener.events.find_steady_foot_stretches).",
    )
    both_legs_steady_ratio_max: float = Field(
        0.5,
        gt=0,
        le=1,
        description="... the steady foot's vertical range at most this fraction of the "
        "other's, for both_legs_min_hold_s or more, each foot in turn. No stored clip "
        "(session 22: 1,995 renders of the three tasks) did so. Stored squats from behind "
        "joined in pairs, one on each leg, analysed with --side auto "
        "(bench/clinic_captures.py --pairs 100 on hold-outs 20-29): both legs found in 41 of "
        "66; at 0.6 in 46, but 0.6 read one stored guide squat from behind as both legs and "
        "would analyse its wrong leg (docs/capture.md).",
    )
    turn_min_run_s: float = Field(
        1.5,
        gt=0,
        description="A walk away from the camera and back (or back and away) is a turn when "
        "each way lasts at least this long (screener.view.find_walking_runs): a single-leg "
        "squat's descent or rise changes the legs' image length for at most 1.2 s on the "
        "stored squats (session 22).",
    )
    turn_min_size_ratio: float = Field(
        1.25,
        gt=1,
        description="... and changes the body's image size by at least this factor each way "
        "(a walk of 1.5 s at 1.2 m/s from 4 m: 1.6; the stored squats' runs up to 1.26, "
        "shorter than turn_min_run_s).",
    )
    turn_min_rate_per_s: float = Field(
        0.05,
        gt=0,
        description="... walking at least this fraction of the body's image size per second "
        "(the stored walks: median 0.19-0.20 either way, none under 0.07).",
    )
    jog_min_fps: float = Field(
        60.0,
        gt=0,
        description="Jogging filmed below this frame rate is warned about (blur, "
        "under-sampling); clinical running video guidance asks for 120 fps or more.",
    )
    sls_side_auto_min_lift_leg: float = Field(
        0.02,
        ge=0,
        description="A squat's lifted foot must be at least this much higher (median, leg "
        "lengths) than the stance foot for the stance leg to be found without --side "
        "(sample renders: 0.05 for a foot bent behind the body filmed from behind, "
        "0.36-0.39 from the front).",
    )
    min_task_confidence: float = Field(
        0.25,
        ge=0,
        le=1,
        description="Below this confidence an automatic task is not guessed: the user is "
        "asked for --task.",
    )
    sure_task_confidence: float = Field(
        0.5,
        ge=0,
        le=1,
        description="An automatic task guessed with a confidence from min_task_confidence "
        "up to below this is analysed, with a warning that names the evidence and how to "
        "give --task (shallow single-leg squats are read at 0.3).",
    )
    sls_side_steady_ratio_max: float = Field(
        0.4,
        gt=0,
        le=1,
        description="The planted foot stays put in the image while the lifted one moves with "
        "the body: when one foot's vertical range (5th to 95th percentile) is at most this "
        "fraction of the other's, the steadier foot is the stance leg's. It settles a squat "
        "whose feet look level (session 21: on the 767 stored squats, all opened, it "
        "turned 15 requests for --side into the right leg and changed no right one).",
    )
    sls_side_contradict_ratio_max: float = Field(
        0.6,
        gt=0,
        le=1,
        description="When the foot that looks lower in the image moves with the body and the "
        "other is steadier, its range at most this fraction of the lower one's, --side is "
        "asked for instead of the lower foot taken for the planted one (a lifted foot bent "
        "behind the body, filmed from behind by a camera above the floor, is nearer the lens "
        "and can look lower). Looser than sls_side_steady_ratio_max: it only withholds a "
        "guess. Session 22, on the 857 stored squats (all opened; python -m "
        "bench.clinic_captures corpus --stored-only): from behind, with 0.4 (session 21's) "
        "282 right, 35 requests, 20 wrong; with 0.6, 280, 48 and 9 (from the front 508 "
        "right, 12 requests, none wrong either way).",
    )
    sls_side_follow_r_diff_min: float = Field(
        1.2,
        ge=0,
        le=2,
        description="Where a squat's feet look nearly level (sls_side_follow_max_lift_leg), "
        "the foot whose image row follows the hips' (Pearson r with the mid-hip's row) by "
        "at least this much more than the other's is the lifted one: it settles a request "
        "for --side, and contradicting a guess it asks for --side instead "
        "(events.foot_following_hips). Session 34, chosen on the 1,052 stored squats outside "
        "hold-outs 41-65 from {0.8, 1.0, 1.2, 1.4} with the lift below: from behind 353 "
        "right, 42 requests, 12 wrong legs became 372, 30 and 5 (none newly wrong), from the "
        "front unchanged; on hold-outs 41-65's 926 squats (validation) from behind 305, 29, "
        "4 became 314, 22, 2, from the front unchanged (docs/accuracy.md).",
    )
    sls_side_follow_max_lift_leg: float = Field(
        0.15,
        ge=0,
        description="The cue of sls_side_follow_r_diff_min is used only where the foot that "
        "looks lower is less than this far below the other (median, leg lengths): from the "
        "front a lifted foot is clearly higher (0.36-0.39 on the sample renders) and the cue "
        "misled there (session 34).",
    )
    sls_side_nearer_max_m: float | None = Field(
        0.14,
        ge=0,
        description="Filmed from behind, a stance leg read from the lower-looking foot is "
        "asked for with --side instead where the pose model's 3D puts that foot more than "
        "this much nearer the lens than the other (metres, median; events.foot_nearer_m): a "
        "lifted foot held back and filmed from above looks lower because it is nearer. None: "
        "not checked. Session 48, chosen on the 1,376 stored squats filmed from behind (every "
        "corpus, all opened) from {0.10, 0.12, 0.14, 0.15, 0.16, 0.18}: of their 16 wrong "
        "legs 9 become requests (both inside the envelope), and 44 of 1,263 right legs (12 "
        'of 928 inside the envelope) (docs/capture.md, "A lifted foot nearer the lens").',
    )
    sls_side_lift_min_leg: float = Field(
        0.1,
        ge=0,
        description="A --side that contradicts a foot lifted by more than this (leg lengths) "
        "is logged as a warning.",
    )
    upright_max_tilt_deg: float = Field(
        30.0,
        gt=0,
        le=45,
        description="Largest angle between the body axis (mid-hip to mid-shoulder) and the "
        "nearest quarter turn of the image that is accepted. A subject upside down or lying "
        "within it is turned upright (with a warning); beyond it the clip is refused.",
    )


class CaptureConfig(_Frozen):
    """Capture checks: camera placement, roll correction, other people in view."""

    envelope_path: Path = Field(
        MODELS_DIR / "envelope.toml",
        description="The validated envelope (camera yaw, roll, height, subject size, fps).",
    )
    yaw_model_path: Path | None = Field(
        MODELS_DIR / "camera_yaw_model.npz",
        description="The learned camera-yaw model (bench/train_camera_model.py; model card "
        "models/camera_yaw_model.md); None: the yaw is read geometrically from the body "
        "(and a walk's walking line).",
    )
    correct_roll: bool = Field(
        True,
        description="Rotate the image landmarks to undo a rolled camera (within the envelope).",
    )
    assumed_long_side_fov_deg: float = Field(
        65.0,
        gt=10,
        lt=150,
        description="Phone field of view across the frame's long side, for the camera's "
        "distance and yaw (phone main cameras: 60-75 deg).",
    )
    fov_sensitivity_deg: tuple[float, ...] = Field(
        (55.0, 75.0), description="Other fields of view at which the estimates are recomputed."
    )
    check_other_people: bool = Field(
        True,
        description="Look for a second person on a few frames (MediaPipe's pose detector "
        "re-run with the tracked person masked out).",
    )
    other_people_frames: int = Field(8, ge=1, le=50, description="Frames searched for people.")
    check_face: bool = Field(
        True,
        description="Look for the subject's face in the pixels (OpenCV Haar cascade) to tell "
        "anterior from posterior independently of the pose model's labels.",
    )
    check_scene_tilt: bool = Field(
        True,
        description="Read the picture's tilt from the room's vertical lines (door frames, "
        "wall corners) on half of the second-person search's frames; where they agree on "
        "one direction it, not the subject's long axis, sets the roll check and correction "
        "(screener.scene).",
    )
    check_lighting: bool = Field(
        True,
        description="Measure the subject's brightness, the background's and the picture's "
        "noise on the second-person search's frames and warn outside the lighting the "
        "measurements were validated in (screener.lighting; envelope file, [lighting]).",
    )
    check_clothing: bool = Field(
        True,
        description="Read on the second-person search's frames whether the patient's top "
        "covers the hips, and warn a single-leg squat filmed from the front about it "
        "(screener.clothing; envelope file, [clothing]).",
    )


class TaskFrameModel(_Frozen):
    """A task's own frame model, used for that task instead of ``frame_model_path``.

    Notes
    -----
    Only while the frame model is on (``frame_model_path`` set): the geometric angles
    (``frame_model_path = None``) switch every task's off.
    """

    model_path: Path = Field(description="The model file (screener.frame_model format).")
    measurement_errors_path: Path | None = Field(
        None,
        description="The measured event errors with this model applied (the verdicts use "
        "them for the metrics it corrected); None: frame_model_measurement_errors_path.",
    )


#: The task frame models shipped (``AnalysisConfig.frame_model_by_task``'s default).
DEFAULT_TASK_FRAME_MODELS: dict[str, TaskFrameModel] = {
    "sls": TaskFrameModel(
        model_path=MODELS_DIR / "frame_model_sls.npz",
        measurement_errors_path=MODELS_DIR / "measurement_errors_frame_model_sls.toml",
    )
}


class AnalysisConfig(_Frozen):
    """All settings of one analysis. Defaults are the documented, recommended values."""

    pose: PoseConfig = Field(default_factory=PoseConfig)
    cleaning: CleaningConfig = Field(default_factory=CleaningConfig)
    events: EventConfig = Field(default_factory=EventConfig)
    capture: CaptureConfig = Field(default_factory=CaptureConfig)
    angles: AngleConfig = Field(default_factory=AngleConfig)
    checks: ChecksConfig = Field(default_factory=ChecksConfig)
    norms_path: Path = Field(
        MODELS_DIR / "norms.toml", description="Thresholds file (a clinic may use its own)."
    )
    plan_path: Path = Field(
        MODELS_DIR / "exercises.toml", description="Fault-to-exercise mapping and dosage."
    )
    corrections_path: Path | None = Field(
        MODELS_DIR / "corrections.toml",
        description="Calibrations of MediaPipe's errors fitted on renders; None: off.",
    )
    measurement_errors_path: Path | None = Field(
        MODELS_DIR / "measurement_errors.toml",
        description="The screener's measured event errors (validation renders), used by the "
        "verdicts; None: the norms' literature figures.",
    )
    frame_model_measurement_errors_path: Path | None = Field(
        MODELS_DIR / "measurement_errors_frame_model.toml",
        description="The measured event errors with the frame model applied (validation "
        "renders): the verdicts use them instead of measurement_errors_path when the frame "
        "model corrected the clip's angles; None: the same file.",
    )
    asymmetry_errors_path: Path | None = Field(
        MODELS_DIR / "asymmetry_errors.toml",
        description="The measured error of a clip's left minus right difference per task, "
        "view and metric (validation renders, screener.asymmetry): a difference is called "
        "real only beyond the larger of the norm's SDC and z times this error; None: the "
        "SDC alone.",
    )
    frame_model_path: Path | None = Field(
        MODELS_DIR / "frame_model.npz",
        description="Learned correction of the frontal angles (screener.frame_model), "
        "applied to the angles its card lists as verified on real video (at present all "
        "five); None: off, the geometric angles (`screener analyze --geometric-angles`).",
    )
    frame_model_by_task: dict[str, TaskFrameModel] = Field(
        default_factory=lambda: dict(DEFAULT_TASK_FRAME_MODELS),
        description="Per task, a frame model used instead of frame_model_path (with its own "
        "measured errors): the single-leg squat's, retrained in session 33 "
        "(docs/accuracy.md). Empty: frame_model_path for every task.",
    )
    frame_model_include_unverified: bool = Field(
        False,
        description="Also correct the angles the frame model's card does not list as "
        "verified on real video (research).",
    )
    silhouette_model_path: Path | None = Field(
        None,
        description="Research, renders only: knee FPPA of a jog read again with the "
        "person's outline (MediaPipe's segmentation mask, a second pose pass over the "
        "video) and combined by this model (screener.silhouette) into the events column "
        "knee_fppa_silhouette_deg; never used by the report, flags or plan. None (default): "
        "off; `screener analyze --research-silhouette` sets SILHOUETTE_MODEL_PATH.",
    )
    corrections_include_unverified: bool = Field(
        False,
        description="Also apply calibrations checked on renders only, not yet on real video "
        "(status renders_only in the corrections file): for research, never the default.",
    )
    dose_overrides: dict[str, dict[str, str | int]] = Field(
        default_factory=dict,
        description="Per exercise id of the plan file, dose fields (sets, reps, tempo, load, "
        "frequency) replacing the file's defaults: a clinic's or a patient's dose. Checked "
        "against the plan file when the plan is built; part of the settings hash.",
    )
    sex: Sex | None = Field(None, description="Selects sex-specific norms where they exist.")
    cache_dir: Path | None = Field(
        default_factory=default_cache_dir,
        description="Keypoint cache; None disables caching.",
    )
    min_fps: float = 24.0
    max_fps: float = 240.0

    def analysis_dict(self) -> dict[str, object]:
        """Settings that affect results, with the norms and plan files by content hash.

        The cache folder does not affect results and is left out; file paths are replaced
        by the SHA-256 of the files' contents, so the same settings hash alike on any machine.
        """
        data = self.model_dump(
            mode="json",
            exclude={
                "cache_dir": True,
                "norms_path": True,
                "plan_path": True,
                "corrections_path": True,
                "measurement_errors_path": True,
                "frame_model_measurement_errors_path": True,
                "asymmetry_errors_path": True,
                "frame_model_path": True,
                "frame_model_by_task": True,
                "capture": {"envelope_path", "yaw_model_path"},
                "events": {"event_model_path", "rep_model_path"},
            },
        )
        for key in ("event_model", "rep_model"):
            path = getattr(self.events, f"{key}_path")
            data["events"][f"{key}_sha256"] = _file_sha256(path) if path else "off"
        data["envelope_sha256"] = _file_sha256(self.capture.envelope_path)
        data["yaw_model_sha256"] = (
            _file_sha256(self.capture.yaw_model_path) if self.capture.yaw_model_path else "off"
        )
        if not self.pose.rotate_cw_deg:  # hashes of unrotated settings stay as they were
            del data["pose"]["rotate_cw_deg"]
        if self.pose.square_crop_x_fraction is None:  # nor those of uncropped ones
            del data["pose"]["square_crop_x_fraction"]
        data["norms_sha256"] = _file_sha256(self.norms_path)
        data["plan_sha256"] = _file_sha256(self.plan_path)
        data["corrections_sha256"] = (
            _file_sha256(self.corrections_path) if self.corrections_path else "off"
        )
        data["frame_model_sha256"] = (
            _file_sha256(self.frame_model_path)
            if self.frame_model_path and self.frame_model_path.exists()
            else "off"
        )
        data["measurement_errors_sha256"] = (
            _file_sha256(self.measurement_errors_path) if self.measurement_errors_path else "off"
        )
        if self.frame_model_by_task:  # hashes without task models stay as they were
            data["frame_model_by_task_sha256"] = {
                task: {
                    "model": _file_sha256(own.model_path) if own.model_path.exists() else "off",
                    "measurement_errors": _file_sha256(own.measurement_errors_path)
                    if own.measurement_errors_path and own.measurement_errors_path.exists()
                    else "off",
                }
                for task, own in sorted(self.frame_model_by_task.items())
            }
        data["asymmetry_errors_sha256"] = (
            _file_sha256(self.asymmetry_errors_path) if self.asymmetry_errors_path else "off"
        )
        model_errors = self.frame_model_measurement_errors_path
        data["frame_model_measurement_errors_sha256"] = (
            _file_sha256(model_errors) if model_errors and model_errors.exists() else "off"
        )
        return data

    def frame_model_for(self, task: str) -> TaskFrameModel | None:
        """The frame model a clip of ``task`` is corrected with and the measured errors its
        verdicts use: the task's own (``frame_model_by_task``) where it has one, else
        ``frame_model_path`` with ``frame_model_measurement_errors_path``. None while the
        frame model is off (``frame_model_path`` None or absent); the errors are None
        while ``frame_model_measurement_errors_path`` is (for every task)."""
        if self.frame_model_path is None or not self.frame_model_path.exists():
            return None
        general_errors = self.frame_model_measurement_errors_path
        own = self.frame_model_by_task.get(task)
        if own is None:
            return TaskFrameModel(
                model_path=self.frame_model_path, measurement_errors_path=general_errors
            )
        if general_errors is None or own.measurement_errors_path is None:
            return own.model_copy(update={"measurement_errors_path": general_errors})
        return own

    def sha256(self) -> str:
        """Hash of the settings that affect results, for provenance and caching."""
        text = json.dumps(self.analysis_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def cutoff_for(self, task: str) -> float:
        """Low-pass cut-off for a task, Hz (every task has one: see :class:`CleaningConfig`).

        Raises
        ------
        ConfigError
            The settings have no cut-off for the task (made before it was registered).
        """
        try:
            return self.cleaning.cutoff_hz[task]
        except KeyError:
            raise ConfigError(
                f"the settings have no cleaning.cutoff_hz for task {task!r}",
                remedy="Make the settings after registering the task (screener.tasks), or "
                "give its cut-off.",
            ) from None


def _file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, or ``"missing"`` if it does not exist."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return "missing"


def load_config(path: Path | None) -> AnalysisConfig:
    """Read settings from a JSON or TOML file (defaults for anything left out).

    Raises
    ------
    ConfigError
        The file is missing, unreadable or has invalid settings.
    """
    from screener.errors import ConfigError

    if path is None:
        return AnalysisConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the settings file ({exc.strerror})", path=path) from exc
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
        return AnalysisConfig.model_validate(data)
    except (ValueError, TypeError) as exc:
        first = str(exc).splitlines()
        detail = "; ".join(first[:3])
        raise ConfigError(
            f"invalid settings: {detail}",
            path=path,
            remedy="See screener.config.AnalysisConfig for the settings and their defaults.",
        ) from exc
