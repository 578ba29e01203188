"""One clip, one way, one leg: the part of a clip that one analysis can measure.

Every measurement reads a clip in one view (which side of the image is the subject's
left) and, for a single-leg squat, on one stance leg. Clinics also film a walk away from
the camera and back, and both legs' squats in one clip. This stage, run on the landmarks
before the task and events are read (the walk's check before the view too, the legs'
once the view has settled the labels), finds such clips and keeps the part one analysis
can measure, blanking the rest (:meth:`screener.keypoints.PoseSequence.blanked`:
frame numbers and times stay the video's), with a note of what was left out and how to
measure it (docs/capture.md, "A walk that turns round", "Squats on both legs in one
clip").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from screener.config import AnalysisConfig, SideChoice, TaskChoice, ViewChoice
from screener.errors import ScreenerError
from screener.events import (
    StanceStretch,
    find_one_leg_holds,
    find_steady_foot_stretches,
    steadier_foot,
)
from screener.keypoints import PoseSequence
from screener.landmarks import SIDES
from screener.view import WalkingRun, find_walking_runs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WalkingTurn:
    """A walk away from the camera and back (or the other way round), of which one way
    is analysed.

    Attributes
    ----------
    kept
        The run analysed.
    runs
        Every run one way (:func:`screener.view.find_walking_runs`), in time order.
    view
        The view of the run analysed (toward the camera: anterior).
    """

    kept: WalkingRun
    runs: tuple[WalkingRun, ...]

    @property
    def view(self) -> ViewChoice:
        return self.kept.view

    @property
    def note(self) -> str:
        """The warning: what was analysed, what was left out and how to measure it."""

        def way(run: WalkingRun) -> str:
            return "toward the camera" if run.toward else "away from the camera"

        spans = ", ".join(f"{way(r)} {r.start_s:.1f}-{r.end_s:.1f} s" for r in self.runs)
        other = "anterior" if self.view == "posterior" else "posterior"
        return (
            f"the patient turns around in this clip (walking {spans}); one clip is measured "
            f"in one view, so only the walk {way(self.kept)} ({self.kept.start_s:.1f}-"
            f"{self.kept.end_s:.1f} s) was analysed, the rest left out. To measure the other "
            f"way, analyse the clip again with the view {other} (--view {other}), or film "
            "each way as its own clip"
        )

    def as_dict(self) -> dict[str, Any]:
        """``summary.json``'s ``view_detection.walking_turn``."""
        return {
            "analysed_s": [self.kept.start_s, self.kept.end_s],
            "view_from": "walking direction (toward the camera: anterior)",
            "runs": [
                {"start_s": r.start_s, "end_s": r.end_s, "toward_camera": r.toward}
                for r in self.runs
            ],
        }


#: Seconds left out of the kept run next to the turn (half the size's smoothing window).
TURN_MARGIN_S = 0.5


def keep_one_walking_direction(
    raw: PoseSequence, task: TaskChoice, view: ViewChoice, config: AnalysisConfig
) -> tuple[PoseSequence, WalkingTurn | None]:
    """A walk that turns around, reduced to one way along the line of sight.

    Walking away, the subject's left is on the image's left; walking back, on its right:
    one view cannot measure both, and a view given for the whole clip exchanges left and
    right on the other way's stance phases. When the clip holds a run each way
    (:func:`screener.view.find_walking_runs` with ``config.checks.turn_*``), the longest
    run of the view given (any view with ``view="auto"``) is kept, less
    :data:`TURN_MARGIN_S` on the turn's side; the other frames are blanked (not detected),
    so frame numbers and times still match the video.

    Returns
    -------
    pose, turn
        ``raw`` unchanged and None when the clip holds no turn (or the task given is not
        a walk).
    """
    if task not in ("walk", "auto"):
        return raw, None
    checks = config.checks
    runs = find_walking_runs(
        raw,
        min_rate_per_s=checks.turn_min_rate_per_s,
        min_duration_s=checks.turn_min_run_s,
        min_size_ratio=checks.turn_min_size_ratio,
    )
    if len({r.toward for r in runs}) < 2:
        return raw, None
    wanted = [r for r in runs if view == "auto" or r.view == view]
    kept = max(wanted, key=lambda r: r.duration_s)
    # the runs are read on a size smoothed over a second: half of it on the turn's side
    # may still be the turn (or the other way)
    margin = round(TURN_MARGIN_S * raw.fps)
    start = kept.start + (margin if any(r.stop <= kept.start for r in runs) else 0)
    stop = kept.stop - (margin if any(r.start >= kept.stop for r in runs) else 0)
    kept = replace(
        kept,
        start=start,
        stop=stop,
        start_s=float(raw.time_s[start]),
        end_s=float(raw.time_s[stop - 1]),
    )
    turn = WalkingTurn(kept, tuple(runs))
    keep = np.zeros(raw.n_frames, dtype=bool)
    keep[turn.kept.start : turn.kept.stop] = True
    log.info("walking turn: keeping %.1f-%.1f s", turn.kept.start_s, turn.kept.end_s)
    return raw.blanked(keep), turn


@dataclass(frozen=True)
class OtherLegLeftOut:
    """A single-leg squat clip with squats on both legs, of which one leg is analysed.

    Attributes
    ----------
    leg
        The stance leg analysed.
    stretches
        Every stretch on one leg (:class:`screener.events.StanceStretch`), in time order.
    cue
        What told the stretches' legs: ``"feet heights"`` or ``"steady foot"``.
    given
        Whether ``leg`` was given (else: the leg stood on longest).
    """

    leg: str
    stretches: tuple[StanceStretch, ...]
    cue: str
    given: bool

    @property
    def other(self) -> str:
        return "right" if self.leg == "left" else "left"

    @property
    def note(self) -> str:
        """The warning: what was analysed, what was left out and how to measure it."""
        spans = ", ".join(
            f"on the {h.leg} leg {h.start_s:.1f}-{h.end_s:.1f} s" for h in self.stretches
        )
        why = "the leg given" if self.given else "the leg stood on longest"
        return (
            f"the clip holds single-leg squats on both legs (standing {spans}); one clip is "
            f"measured for one leg, so only the {self.leg} leg's were analysed ({why}), the "
            f"{self.other} leg's left out. To measure them, analyse the clip again for the "
            f"{self.other} leg (--side {self.other}), or film each leg as its own clip"
        )

    def as_dict(self) -> dict[str, Any]:
        """``summary.json``'s ``other_leg_left_out``."""
        return {
            "analysed_leg": self.leg,
            "leg_given": self.given,
            "cue": self.cue,
            "stretches": [
                {"start_s": h.start_s, "end_s": h.end_s, "stance_leg": h.leg}
                for h in self.stretches
            ],
        }


#: Seconds blanked either side of the other leg's stretches (the foot being lifted or
#: set down, and the cues' smoothing).
OTHER_LEG_MARGIN_S = 0.25


def _stance_stretches(
    pose: PoseSequence, config: AnalysisConfig, name: str
) -> tuple[list[StanceStretch], str, str | None]:
    """Stretches on each leg in turn, the cue that found them (none for one leg), and a
    note where the steadier foot named a leg the feet's heights showed held up."""
    checks = config.checks
    holds = find_one_leg_holds(pose, checks.both_legs_min_lift_leg, checks.both_legs_min_hold_s)
    if len({h.leg for h in holds}) == 2:
        contradict = checks.sls_side_contradict_ratio_max
        for h in holds:
            steady, ratio = steadier_foot(pose.take(slice(h.start, h.stop)))
            if steady is not None and steady != h.leg and ratio <= contradict:
                raise ScreenerError(
                    "the clip seems to hold single-leg squats on both legs (each foot held up "
                    f"in turn), but at {h.start_s:.1f}-{h.end_s:.1f} s the {h.leg} foot looks "
                    f"lower while it moves with the body and the {steady} foot stays put, so "
                    "which squats are on which leg cannot be told",
                    path=name,
                    remedy="Film each leg's squats as its own clip, from the front.",
                )
        return holds, "feet heights", None
    steady_runs = find_steady_foot_stretches(
        pose,
        checks.both_legs_steady_window_s,
        checks.both_legs_steady_ratio_max,
        checks.both_legs_min_hold_s,
    )
    # a foot the feet's heights show held up is not the stance foot, however steady it
    # looks: from behind, a lifted foot held still behind the body can move less in the
    # image than the standing foot, whose landmarks wobble as the body squats over it
    doubted = [h for h in steady_runs if _held_up_during(holds, h)]
    steady_runs = [h for h in steady_runs if h not in doubted]
    doubt = None
    if doubted and len({h.leg for h in steady_runs + doubted}) == 2:
        where = ", ".join(f"{h.start_s:.1f}-{h.end_s:.1f} s" for h in doubted)
        doubt = (
            f"at {where} the {doubted[0].leg} foot stayed steadier in the picture while the "
            "feet's heights showed it held up, so the clip was read as one leg's squats; if "
            "it holds squats on both legs, film each leg's squats as its own clip (from the "
            "front, where the two cues agree)"
        )
    if len({h.leg for h in steady_runs}) == 2:
        return steady_runs, "steady foot", doubt
    return [], "", doubt


def _held_up_during(holds: list[StanceStretch], run: StanceStretch) -> bool:
    """Whether the feet's heights (``holds``) show ``run``'s leg held up for at least half
    of ``run``: another leg's hold covers that much of it."""
    covered = sum(
        max(0, min(h.stop, run.stop) - max(h.start, run.start)) for h in holds if h.leg != run.leg
    )
    return covered >= 0.5 * (run.stop - run.start)


def keep_one_squatting_leg(
    pose: PoseSequence,
    raw: PoseSequence,
    task: TaskChoice,
    side: SideChoice,
    config: AnalysisConfig,
    name: str,
) -> tuple[PoseSequence, OtherLegLeftOut | None, str | None]:
    """A clip of single-leg squats on both legs, reduced to one leg's.

    A clinic may film the left leg's squats and then the right leg's in one clip: each
    repetition would be read as the one stance leg's (the one given, or the one told
    from the whole clip). When ``pose`` (the cleaned landmarks, labels settled) holds
    each foot up in turn (:func:`screener.events.find_one_leg_holds`: each stretch's
    stance leg the lower foot, unless the other foot is the steadier one by
    ``checks.sls_side_contradict_ratio_max``, when which squats are on which leg is not
    told and the clip is refused), or else keeps each foot steady in turn
    (:func:`screener.events.find_steady_foot_stretches`, the steady foot's leg), the leg
    given is kept, or with ``side="auto"`` the leg stood on longest. Every frame goes with
    the nearer stretch; the other leg's frames (and :data:`OTHER_LEG_MARGIN_S` beyond its
    stretches) are blanked in ``raw``.

    Returns
    -------
    raw, left_out, doubt
        ``raw`` unchanged and None when the clip holds one leg's squats (or the task given
        is not a single-leg squat). ``doubt``: a warning when the steadier foot named a leg
        in a stretch where the feet's heights showed that foot held up, and that stretch
        was set aside (filmed from behind either cue can be the wrong one: a lifted foot
        held still can be the steadier, and it can look the lower); else None.

    Raises
    ------
    ScreenerError
        Squats on both legs whose stance legs cannot be told apart.
    """
    if task not in ("sls", "auto"):
        return raw, None, None
    stretches, cue, doubt = _stance_stretches(pose, config, name)
    if not stretches:
        return raw, None, doubt
    if side == "auto":
        held = {s: sum(h.end_s - h.start_s for h in stretches if h.leg == s) for s in SIDES}
        leg = max(SIDES, key=lambda s: held[s])
    else:
        leg = side
    # every frame goes with the nearer stretch; the other leg's, and a margin, are blanked
    centres = np.array([0.5 * (h.start + h.stop - 1) for h in stretches])
    reach = np.array([0.5 * (h.stop - h.start) for h in stretches])
    frames = np.arange(raw.n_frames)
    gap = np.abs(frames[:, None] - centres[None, :]) - reach[None, :]
    nearest = np.argmin(gap, axis=1)
    keep = np.array([stretches[k].leg == leg for k in nearest])
    margin = round(OTHER_LEG_MARGIN_S * raw.fps)
    for h in stretches:
        if h.leg != leg:
            keep[max(0, h.start - margin) : h.stop + margin] = False
    log.info("squats on both legs (%s): keeping the %s leg's", cue, leg)
    return raw.blanked(keep), OtherLegLeftOut(leg, tuple(stretches), cue, side != "auto"), doubt
