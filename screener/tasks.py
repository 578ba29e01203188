"""The registry of tasks and event metrics: one declarative entry per task, one per metric.

A task (walk, single-leg squat, jog, ...) is described once, here, by a :class:`TaskSpec`:
its name, its labels (CLI, web, report), the function that finds its events, its
per-task settings (low-pass cut-off, stance thresholds), whether it is filmed one leg at
a time, and the notes its report carries. Its thresholds are the ``[tasks.NAME]`` section
of the norms file (``models/norms.toml``), which also says which metrics it grades.
The orchestrator, the settings, the CLI, the batch manifest, the web app, the report,
the visit and the trends read this registry; none of them names a task.

An event metric beyond the built-in ones (``screener.metrics.EVENT_METRICS``) is a
:class:`MetricSpec`: a per-frame series of the stance leg, read at each event like the
others (its peak over a stance phase, its value at a repetition's deepest point).

Adding a task or a metric from outside the library::

    from screener.tasks import TaskSpec, register_task
    register_task(TaskSpec(name="step_down", label="Step-down", ...))

then give its norms in a norms file (``[tasks.step_down]``) and analyse with
``screener.analyze(..., task="step_down")``. Automatic task detection
(:func:`screener.events.detect_task`) knows only the built-in tasks: a registered task
is always given.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from screener.config import AnalysisConfig
    from screener.events import Span
    from screener.keypoints import BoolArray, FloatArray, PoseSequence

log = logging.getLogger(__name__)

SIDES: tuple[str, str] = ("left", "right")


@dataclass(frozen=True)
class FoundEvents:
    """What a task's event detector found in a clip.

    Attributes
    ----------
    spans
        The events (stance phases or repetitions).
    stance_masks
        Per side, the frames in stance (``frames.csv``'s ``*_in_stance`` columns).
    stance_side
        The one leg a unilateral task is done on; None for a task on both legs.
    timing
        How the events were timed when a learned model was asked for: its card and the
        clip's applicability (:func:`screener.event_model.find_stance`), with
        ``not_applied`` when the rule timed them instead; None for the rules alone.
    side_detection
        For a unilateral task, where its stance leg came from (:class:`StanceLegReading`);
        None for a task on both legs.
    """

    spans: list[Span]
    stance_masks: dict[str, BoolArray]
    stance_side: str | None = None
    timing: dict[str, Any] | None = None
    side_detection: StanceLegReading | None = None


#: What settled a stance leg read from the video (``StanceLegReading.cue``).
STANCE_LEG_CUES: dict[str, str] = {
    "lower_foot": "the other foot looks lifted",
    "steadier_foot": "the feet look level and this foot stays put",
    "foot_following_hips": "the feet look level and the other foot rises and falls with the hips",
}


@dataclass(frozen=True)
class StanceLegReading:
    """Where a unilateral task's stance leg came from.

    Attributes
    ----------
    given
        The leg was given (``--side``, the web app's task), not read from the video.
    cue
        Read from the video: the cue that settled it (a key of :data:`STANCE_LEG_CUES`);
        None when given.
    lift_leg
        How much lower the stance leg's foot looks than the other's in the picture (leg
        lengths, median over the frames on one leg); negative: it looks the higher.
    note
        A warning for the report, or None: the leg given while its own foot looks lifted
        (the wrong leg may have been named).
    nearer_m
        How much nearer the lens the pose model's 3D puts the stance leg's foot than the
        other (metres, :func:`screener.events.foot_nearer_m`); negative: farther.
    """

    given: bool
    cue: str | None
    lift_leg: float
    note: str | None = None
    nearer_m: float = math.nan

    def as_dict(self) -> dict[str, Any]:
        """The summary's ``stance_side_detection`` (the note goes to its warnings)."""
        return {
            "given": self.given,
            "cue": self.cue,
            "cue_text": STANCE_LEG_CUES.get(self.cue) if self.cue else None,
            "lift_leg": None if not math.isfinite(self.lift_leg) else round(self.lift_leg, 3),
            "nearer_m": None if not math.isfinite(self.nearer_m) else round(self.nearer_m, 3),
        }


#: ``detect(pose, side, view, config, name)``: the cleaned pose, the side asked for
#: (``"left"``, ``"right"`` or ``"auto"``), the view (``"anterior"`` or ``"posterior"``),
#: the settings and the clip's name for error messages.
EventDetector = Callable[["PoseSequence", str, str, "AnalysisConfig", str], FoundEvents]


@dataclass(frozen=True)
class TaskSpec:
    """One task: everything the library needs to know about it, in one place.

    Attributes
    ----------
    name
        Identifier (``--task NAME``, ``summary.json``'s ``task``, ``[tasks.NAME]`` of the
        norms file and of the per-task settings).
    label
        Short label: web forms, trend charts ("Walk").
    title
        Title in the report and the visit ("Walking").
    help
        One line for the CLI's help.
    detect_events
        Finds the events (:data:`EventDetector`).
    cutoff_hz
        Default low-pass cut-off (``cleaning.cutoff_hz.NAME`` of the settings).
    event_values
        How an event's values are read (``summary.json``'s ``event_values``).
    event_noun
        The events in a warning ("stance phase(s)", "repetition(s)").
    missing_event
        What was not found, in "no complete ... was found".
    unilateral
        Done on one leg at a time: takes ``--side``, the other leg has no events, and the
        web and the visit have one recording slot per leg.
    min_stance_s, stance_heel_speed_max_leg_per_s
        Defaults of the stance-phase settings (``events.*.NAME``) for a task whose events
        are stance phases (:func:`stance_detector`); None otherwise.
    fast
        Fast movement: filmed below ``checks.jog_min_fps`` it is warned about and marked
        ``low_frame_rate``.
    activity
        The movement in a sentence ("jogging filmed at 30 fps ...").
    check_depth
        Compare the repetitions' depth with the task's capture guide (``models/capture.toml``).
    norms_section
        The ``[tasks.SECTION]`` of the norms file that holds its thresholds (default: name).
    report_notes
        Notes on the task's limits that its report always carries.
    """

    name: str
    label: str
    title: str
    help: str
    detect_events: EventDetector
    cutoff_hz: float
    event_values: str
    event_noun: str
    missing_event: str
    unilateral: bool = False
    min_stance_s: float | None = None
    stance_heel_speed_max_leg_per_s: float | None = None
    fast: bool = False
    activity: str = ""
    check_depth: bool = False
    norms_section: str = ""
    report_notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or self.name == "auto":
            raise ValueError(
                f"a task's name must be an identifier other than 'auto': {self.name!r}"
            )
        if self.cutoff_hz <= 0:
            raise ValueError(f"task {self.name}: cutoff_hz must be positive")
        if not self.norms_section:
            object.__setattr__(self, "norms_section", self.name)
        if not self.activity:
            object.__setattr__(self, "activity", self.title.lower())

    def slots(self) -> dict[str, tuple[str, str]]:
        """Recording slots of a visit: slot -> (task, side) (one per leg if unilateral)."""
        if self.unilateral:
            return {f"{self.name}_{s}": (self.name, s) for s in SIDES}
        return {self.name: (self.name, "auto")}


@dataclass(frozen=True)
class MetricSpec:
    """An event metric added to the built-in ones.

    Attributes
    ----------
    name
        Column of ``events.csv`` and key of ``summary.json``'s ``sides`` (``*_deg`` for
        degrees); its norms, per task, are ``[tasks.TASK.metrics.NAME]`` of the norms file.
    series
        ``series(frames, side)``: the per-frame value for stance leg ``side`` from the
        frame table (larger = more of the fault: an event takes its peak over a stance
        phase, its value at a repetition's deepest point).
    description
        What it measures, in one line.
    """

    name: str
    series: Callable[[pd.DataFrame, str], FloatArray]
    description: str = ""


_TASKS: dict[str, TaskSpec] = {}
_METRICS: dict[str, MetricSpec] = {}


def register_task(spec: TaskSpec, *, replace: bool = False) -> TaskSpec:
    """Add a task to the registry (or replace one, with ``replace=True``).

    Raises
    ------
    ValueError
        A task of that name is already registered and ``replace`` is False.
    """
    if spec.name in _TASKS and not replace:
        raise ValueError(f"task {spec.name!r} is already registered")
    _TASKS[spec.name] = spec
    return spec


def unregister_task(name: str) -> None:
    """Remove a registered task (a test's clean-up). Unknown names are ignored."""
    _TASKS.pop(name, None)


def register_metric(spec: MetricSpec, *, replace: bool = False) -> MetricSpec:
    """Add an event metric to every event table (after the built-in metrics).

    Raises
    ------
    ValueError
        A metric of that name exists (built in or registered) and ``replace`` is False.
    """
    from screener.metrics import EVENT_COLUMNS

    if (spec.name in _METRICS and not replace) or spec.name in EVENT_COLUMNS:
        raise ValueError(f"metric {spec.name!r} already exists")
    _METRICS[spec.name] = spec
    return spec


def unregister_metric(name: str) -> None:
    """Remove a registered metric (a test's clean-up). Unknown names are ignored."""
    _METRICS.pop(name, None)


def get_task(name: str) -> TaskSpec:
    """The registered task of that name.

    Raises
    ------
    KeyError
        No such task (the message lists the known ones).
    """
    try:
        return _TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; known: {', '.join(_TASKS)}") from None


def is_unilateral(name: object) -> bool:
    """Whether a task (by name, e.g. from a summary) is done on one leg; False if unknown."""
    spec = _TASKS.get(str(name))
    return bool(spec and spec.unilateral)


def task_names() -> tuple[str, ...]:
    """Names of every registered task, in registration order."""
    return tuple(_TASKS)


def task_choices() -> list[str]:
    """``--task`` choices: every task, then ``auto``."""
    return [*_TASKS, "auto"]


def all_tasks() -> Iterator[TaskSpec]:
    """Every registered task, in registration order."""
    return iter(tuple(_TASKS.values()))


def task_defaults(setting: str) -> dict[str, float]:
    """Defaults of a per-task setting (``cutoff_hz``, ``min_stance_s``,
    ``stance_heel_speed_max_leg_per_s``) for the tasks that have one."""
    out = {}
    for spec in _TASKS.values():
        value = getattr(spec, setting)
        if value is not None:
            out[spec.name] = float(value)
    return out


def recording_slots() -> dict[str, tuple[str, str]]:
    """Every recording slot of a visit: slot -> (task, side)."""
    return {slot: ts for spec in _TASKS.values() for slot, ts in spec.slots().items()}


def slot_label(slot: str, long: bool = False) -> str:
    """Label of a slot: "Walk", "Single-leg squat, left" (``long``: the report's title,
    "Walking", "Single-leg squat, left leg")."""
    task, side = recording_slots()[slot]
    spec = _TASKS[task]
    base = spec.title if long else spec.label
    if side == "auto":
        return base
    return f"{base}, {side} leg" if long else f"{base}, {side}"


def extra_metrics() -> tuple[MetricSpec, ...]:
    """The registered metrics, in registration order."""
    return tuple(_METRICS.values())


# ---------------------------------------------------------------- built-in detectors
def stance_detector(task: str) -> EventDetector:
    """An event detector of stance phases of both feet with the task's own stance
    settings (``events.min_stance_s.TASK``, ...): the learned model when
    ``events.event_model_path`` is set and the clip is like its training data
    (:func:`screener.event_model.find_stance`), else the stance rule
    (:func:`screener.events.detect_stance`, :func:`screener.events.stance_spans`)."""

    def detect(
        pose: PoseSequence, side: str, view: str, config: AnalysisConfig, name: str
    ) -> FoundEvents:
        from screener.events import detect_stance, stance_spans

        timing = None
        path = config.events.event_model_path
        if path is not None:
            from screener.event_model import find_stance, load_event_model

            learned = find_stance(pose, task, load_event_model(path), config.events)
            if learned.provenance["applied"]:
                return FoundEvents(learned.spans, learned.masks, None, learned.provenance)
            timing = learned.provenance
        masks = detect_stance(pose, task, config.events)
        return FoundEvents(stance_spans(masks, pose.time_s, config.events), masks, None, timing)

    detect.__doc__ = f"Stance phases of both feet, with the {task} settings."
    return detect


def _read_stance_leg(
    squat: PoseSequence,
    lower: str | None,
    lift: float,
    left_nearer_m: float,
    view: str,
    config: AnalysisConfig,
    name: str,
) -> tuple[str, str]:
    """The stance leg of a squat filmed without ``--side``, from the foot that looks lower
    (``lower``, ``lift`` leg lengths below the other), the steadier foot and the foot that
    follows the hips, and the cue that settled it (a key of :data:`STANCE_LEG_CUES`);
    raises asking for ``--side`` where they do not tell, or where, filmed from behind
    (``view``), the lower-looking foot is the one nearer the lens (``left_nearer_m``: the
    left foot's depth lead, the right's being its negative; ``sls_events``)."""
    from screener.errors import NoPersonError, ScreenerError
    from screener.events import foot_following_hips, steadier_foot

    checks = config.checks
    remedy = (
        "Give it with --side left or --side right (the leg the patient stands on), or "
        "film with the lifted foot clear of the floor."
    )
    planted, r_diff = foot_following_hips(squat)
    follows = (
        planted is not None
        and r_diff >= checks.sls_side_follow_r_diff_min
        and lift < checks.sls_side_follow_max_lift_leg
    )
    steady, ratio = steadier_foot(squat)
    clear = steady is not None and ratio <= checks.sls_side_steady_ratio_max
    contradicts = steady is not None and ratio <= checks.sls_side_contradict_ratio_max
    guess = lower
    refusal: ScreenerError | None = None
    if lower is None:
        refusal = NoPersonError(
            "the feet are not seen together in any frame, so the stance leg of the "
            "single-leg squat cannot be told",
            path=name,
            remedy="Give the stance leg with --side, or film the feet in view.",
        )
    elif lift < checks.sls_side_auto_min_lift_leg:
        guess = steady if clear else None
        refusal = ScreenerError(
            "could not tell the stance leg of the single-leg squat (the feet are at one "
            f"height in the image: median difference {lift:.2f} leg length)",
            path=name,
            remedy=remedy,
        )
    elif contradicts and steady != lower:
        guess = None
        refusal = ScreenerError(
            f"could not tell the stance leg of the single-leg squat: the {lower} foot looks "
            f"lower in the image, but it moves with the body while the {steady} foot stays "
            "put (a lifted foot filmed from behind can look lower)",
            path=name,
            remedy=remedy,
        )
    if follows and guess is None:
        log.info("%s: the %s foot stays put while the other follows the hips", name, planted)
        return str(planted), "foot_following_hips"
    if follows and guess != planted:
        raise ScreenerError(
            f"could not tell the stance leg of the single-leg squat: the {guess} foot looks "
            f"like the planted one, but its image height rises and falls with the hips while "
            f"the {planted} foot's does not (a lifted foot filmed from behind can look level "
            "with the planted one)",
            path=name,
            remedy=remedy,
        )
    if guess is None:
        assert refusal is not None  # every branch that withholds a guess says why
        raise refusal
    if guess != lower:
        log.info("%s: feet level in the image; the %s foot stays put: stance leg", name, guess)
        return guess, "steadier_foot"
    nearer_max = checks.sls_side_nearer_max_m
    if view == "posterior" and nearer_max is not None:
        nearer = _nearer_m(left_nearer_m, guess)
        if nearer > nearer_max:
            raise ScreenerError(
                f"could not tell the stance leg of the single-leg squat: the {guess} foot "
                f"looks lower in the image, but the pose model puts it {nearer:.2f} m nearer "
                "the camera than the other (a lifted foot held back and filmed from above "
                "looks lower because it is nearer)",
                path=name,
                remedy=remedy,
            )
    return guess, "lower_foot"


def _nearer_m(left_nearer_m: float, side: str) -> float:
    """A foot's depth lead over the other from the left foot's (:func:`screener.events.
    foot_nearer_m` is antisymmetric in the two feet)."""
    return left_nearer_m if side == "left" else -left_nearer_m


def sls_events(
    pose: PoseSequence, side: str, view: str, config: AnalysisConfig, name: str
) -> FoundEvents:
    """Repetitions of a single-leg squat on the stance leg given or detected.

    Raises
    ------
    NoPersonError
        ``side="auto"`` and the feet are never seen together.
    ScreenerError
        ``side="auto"`` and the lifted foot cannot be told.

    Notes
    -----
    Three cues, read on the frames after a stand on both feet (``single_leg_span``): the
    lifted foot is higher in the image (``detect_sls_side``); the planted foot stays put
    while the lifted one goes down and up with the body (``steadier_foot``); and the lifted
    foot's image row rises and falls with the hips' (``foot_following_hips``). Filmed from
    behind by a camera above the floor, a lifted foot bent behind the body is nearer the
    lens and can look level with the planted one, or lower: where the heights do not tell,
    a clear steadiness (``checks.sls_side_steady_ratio_max``) does; where the lower foot is
    the one that moves (``checks.sls_side_contradict_ratio_max``, a looser ratio: it only
    withholds a guess), ``--side`` is asked for rather than the wrong leg analysed. Since
    session 34, where the feet look nearly level (``checks.sls_side_follow_max_lift_leg``),
    a foot that clearly follows the hips (``checks.sls_side_follow_r_diff_min``) settles a
    request, and contradicts a guess by asking instead. Since session 48, filmed from
    behind (``view``), a guess from the lower-looking foot is asked about where the pose
    model's 3D puts that foot more than ``checks.sls_side_nearer_max_m`` nearer the lens
    (``foot_nearer_m``): a lifted foot held back and seen from above.
    """
    import numpy as np

    from screener.events import detect_sls_reps, detect_sls_side, foot_nearer_m, single_leg_span

    # a stand on both feet before (after) the squat says nothing of the stance leg
    start, stop = single_leg_span(pose, config.events)
    squat = pose.take(slice(start, stop))
    detected_side, lift = detect_sls_side(squat)
    left_nearer = foot_nearer_m(squat, "left")  # read once: the right foot's is its negative
    if side == "auto":
        stance_side, cue = _read_stance_leg(
            squat, detected_side, lift, left_nearer, view, config, name
        )
        signed = lift if stance_side == detected_side else -lift
        reading = StanceLegReading(False, cue, signed, nearer_m=_nearer_m(left_nearer, stance_side))
    else:
        stance_side = side
        lifted = lift > config.checks.sls_side_lift_min_leg
        note = None
        if detected_side is not None and side != detected_side and lifted:
            note = (
                f"the {side} leg was named as the standing leg, but in the video the {side} "
                f"foot looks lifted ({lift:.2f} leg lengths above the {detected_side}): check "
                "that the correct leg was named; if it was, and the squat was filmed from "
                "behind, the phone was probably above the hips looking down, which makes the "
                "lifted foot look the lower one: film it again with the lens at knee height"
            )
            log.info("%s: %s", name, note)  # the warnings carry it to the report
        signed = lift if detected_side in (None, side) else -lift
        reading = StanceLegReading(True, None, signed, note, _nearer_m(left_nearer, side))
    spans = detect_sls_reps(pose, stance_side, config.events)
    masks = {s: np.full(pose.n_frames, s == stance_side) for s in SIDES}
    timing = None
    if config.events.rep_model_path is not None and spans:
        from screener.event_model import load_rep_model, refine_rep_edges

        model = load_rep_model(config.events.rep_model_path)
        spans, timing = refine_rep_edges(pose, stance_side, spans, model)
    return FoundEvents(spans, masks, stance_side, timing, reading)


_STANCE_VALUES = "stance: peak of each metric over the stance phase (t_peak_s: peak pelvic drop)"

register_task(
    TaskSpec(
        name="walk",
        label="Walk",
        title="Walking",
        help="walking toward the camera",
        detect_events=stance_detector("walk"),
        cutoff_hz=6.0,
        min_stance_s=0.25,
        stance_heel_speed_max_leg_per_s=0.4,
        event_values=_STANCE_VALUES,
        event_noun="stance phase(s)",
        missing_event="stance phase (walk)",
        report_notes=(
            "Walking pelvic drop has no credible published norm: its value is shown without a "
            "verdict.",
        ),
    )
)
register_task(
    TaskSpec(
        name="sls",
        label="Single-leg squat",
        title="Single-leg squat",
        help="single-leg squat (give the stance leg with --side)",
        detect_events=sls_events,
        cutoff_hz=6.0,
        unilateral=True,
        check_depth=True,
        event_values="repetition: every metric at the deepest point (t_peak_s)",
        event_noun="repetition(s)",
        missing_event="repetition of the single-leg squat",
    )
)
register_task(
    TaskSpec(
        name="jog",
        label="Jog in place",
        title="Jogging in place",
        help="jogging in place",
        detect_events=stance_detector("jog"),
        cutoff_hz=10.0,
        min_stance_s=0.08,
        stance_heel_speed_max_leg_per_s=0.3,
        fast=True,
        activity="jogging",
        event_values=_STANCE_VALUES,
        event_noun="stance phase(s)",
        missing_event="stance phase (jog)",
        report_notes=(
            "Jogging in place is not over-ground running: the step is shorter and the landing "
            "differs, and the running thresholds were borrowed from landing and running studies. "
            "Read the jog values as a screen, to be confirmed on a treadmill or over ground.",
        ),
    )
)
