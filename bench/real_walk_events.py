"""The walking stance rule against the foot contacts of a real walker.

Usage::

    python -m bench.real_walk_events [--shared ../shared] [--limits 0.4,0.8,1.2]
        [--event-model MODEL.npz] [--reference-shared ORIGINAL]

The only real footage whose foot contacts the project can time is the woman walking
across ``real_videos/sports2d_demo/demo.mp4`` (30 fps, a still camera at her side,
others in view). The frame rows she walks in are cut out (:func:`crop_walker`), so that
MediaPipe follows her and not the person on the box above her; the pose is estimated
and cleaned as for a walk.

The reference, per stance phase of ``bench/data/sports2d_walk_contacts.csv``:

- **toe-off**: the last frame the toe touches the ground, labelled by eye;
- **heel strike**: read from the pixels (:func:`still_since`): a patch of the heel in
  early stance (:data:`HEEL_REFS_BEFORE_TOE_OFF` frames before the labelled toe-off,
  placed by the pose model's heel in that frame) is matched in the frames before it, in
  a window fixed in the image; contact starts with the earliest frame from which the
  patch stays within :data:`STILL_MAX_PX` of where it rests (the median of the three
  readings). The same reading of a toe
  patch forward gives a second toe-off, printed as a check on the labels.

Then :func:`screener.events.detect_stance` and :func:`screener.events.stance_spans` find
the stance phases, with the walk's stance speed limit at each of ``--limits`` (leg
lengths per second; the default's is marked), and each reference contact is matched to
the nearest found stance start or end (last stance frame) of the same leg within
:data:`MATCH_MAX_FRAMES`. Printed: per limit, each contact's error, how many were found
and how many within 50 ms; and the speed of the feet in the image in stance and swing.

A side view is outside the screener's envelope (the pipeline refuses it): this times
MediaPipe's feet and the stance rule on a real walk, not the screener's frontal walking
analysis. Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
import numpy.typing as npt

from bench.stance_contact import config_with_stance_limit
from screener.cleaning import clean_pose
from screener.config import AnalysisConfig
from screener.events import detect_stance, foot_speed_leg_per_s, stance_spans
from screener.keypoints import PoseSequence
from screener.pose import estimate_pose

#: The labels, beside this script.
LABELS_CSV = Path(__file__).parent / "data" / "sports2d_walk_contacts.csv"
#: The clip, under ``../shared``.
DEMO_VIDEO = Path("real_videos") / "sports2d_demo" / "demo.mp4"
#: Image rows (pixels, top inclusive, bottom exclusive) the walker stays in, and the
#: frames kept: from frame 205 on a cartwheeling person enters the same rows.
WALKER_ROWS_PX = (470, 994)
WALKER_FRAMES = 205
#: The heel's reference frames, before the labelled toe-off (stance lasts about 20 frames
#: here: the heel is down in these), and the toe's. A heel strike is the median of the
#: readings from the three (one patch can sit on grass where the heel landmark is off).
HEEL_REFS_BEFORE_TOE_OFF = (13, 14, 15)
TOE_REF_BEFORE_TOE_OFF = 8
#: Patch half-size (rows, columns; pixels), search margin and stillness limits.
PATCH_HALF_PX = (10, 14)
SEARCH_PX = 40
STILL_MAX_PX = 3.0
STILL_MIN_CORRELATION = 0.5
#: A found stance edge further than this from the reference (frames; 200 ms at 30 fps)
#: is another event: contacts of one foot are about 19 frames apart.
MATCH_MAX_FRAMES = 6

GreyFrames = list[npt.NDArray[np.float32]]


@dataclass(frozen=True)
class Stance:
    """One stance phase's reference contacts (frames of the clip).

    Attributes
    ----------
    side
        The pose model's label of the foot.
    first
        Heel strike read from the pixels, or None (before the walker is tracked).
    last
        Toe-off labelled by eye (last frame in contact).
    last_by_pixels
        Toe-off read from the pixels (the check), or None.
    """

    side: str
    first: int | None
    last: int
    last_by_pixels: int | None


def read_toe_off_labels(path: Path = LABELS_CSV) -> list[tuple[str, int]]:
    """``(side, last_contact)`` per labelled stance phase."""
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    return [(row["side"], int(row["last_contact"])) for row in rows]


def crop_walker(src: Path, dst: Path) -> Path:
    """Write the first :data:`WALKER_FRAMES` frames of ``src``, cut to
    :data:`WALKER_ROWS_PX`, to ``dst`` (mp4, the source's frame rate)."""
    import cv2

    capture = cv2.VideoCapture(str(src))
    fps = capture.get(cv2.CAP_PROP_FPS)
    width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
    top, bottom = WALKER_ROWS_PX
    writer = cv2.VideoWriter(
        str(dst),
        cv2.VideoWriter_fourcc(*"mp4v"),  # type: ignore[attr-defined]
        fps,
        (width, bottom - top),
    )
    try:
        for _ in range(WALKER_FRAMES):
            ok, frame = capture.read()
            if not ok:
                break
            writer.write(frame[top:bottom])
    finally:
        writer.release()
        capture.release()
    return dst


def read_grey_frames(path: Path) -> GreyFrames:
    """Every frame of ``path`` at full size, in grey, float32."""
    import cv2

    from screener.video import iter_frames

    return [
        cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
        for frame in iter_frames(path, max_long_side_px=None)
    ]


def still_since(
    grey: GreyFrames, point_px: npt.NDArray[np.float64], ref: int, step: int
) -> int | None:
    """The furthest frame from ``ref`` (stepping by ``step``, -1 or +1) through which a
    patch centred on ``point_px`` in frame ``ref`` stays still.

    Notes
    -----
    The patch is matched (OpenCV's normalised correlation) within :data:`SEARCH_PX` of
    where it is in ``ref``, in a window fixed in the image (the camera is still). It is
    still while the best match is within :data:`STILL_MAX_PX` of its place and
    correlates at least :data:`STILL_MIN_CORRELATION`. None if ``point_px`` is not
    finite or the patch does not fit in the frame.
    """
    import cv2

    if not np.isfinite(point_px).all():
        return None
    x, y = (round(float(v)) for v in point_px)
    hy, hx = PATCH_HALF_PX
    m = SEARCH_PX
    height, width = grey[ref].shape
    if y - hy - m < 0 or x - hx - m < 0 or y + hy + m > height or x + hx + m > width:
        return None
    patch = grey[ref][y - hy : y + hy, x - hx : x + hx]
    frame = ref
    while 0 <= frame + step < len(grey):
        window = grey[frame + step][y - hy - m : y + hy + m, x - hx - m : x + hx + m]
        _, best, _, at = cv2.minMaxLoc(cv2.matchTemplate(window, patch, cv2.TM_CCOEFF_NORMED))
        if np.hypot(at[0] - m, at[1] - m) > STILL_MAX_PX or best < STILL_MIN_CORRELATION:
            break
        frame += step
    return frame


def reference_stances(raw: PoseSequence, grey: GreyFrames) -> list[Stance]:
    """The labelled toe-offs with the heel strikes (and toe-offs) read from the pixels."""
    stances = []
    for side, last in read_toe_off_labels():
        heel = raw.xy(f"{side}_heel")
        tracked = np.flatnonzero(np.isfinite(heel).all(axis=1))
        readings = [
            still_since(grey, heel[last - before], last - before, -1)
            for before in HEEL_REFS_BEFORE_TOE_OFF
        ]
        # a reading that runs back to the first tracked frame: down before it
        ends = [r for r in readings if r is not None and tracked.size and r > tracked[0]]
        first = int(np.median(ends)) if len(ends) == len(readings) else None
        toe_ref = last - TOE_REF_BEFORE_TOE_OFF
        last_px = still_since(grey, raw.xy(f"{side}_foot_index")[toe_ref], toe_ref, +1)
        stances.append(Stance(side, first, last, last_px))
    return stances


def heel_offs(raw: PoseSequence, grey: GreyFrames, stances: list[Stance]) -> list[int | None]:
    """Per stance phase, the last frame its heel rests on the ground (heel-off), read from
    the pixels as the heel strike is, forward: the same heel patches as
    :func:`reference_stances` (the median of the three readings), None where one does
    not read.

    Notes
    -----
    Heel-off to toe-off is the part of stance on the toes. Gait texts put heel-off at
    about 30-40 % of the stride and toe-off at about 60 %; the renders of
    :mod:`screener_synth` raise the heel only from the other foot's landing (50 %).
    """
    out: list[int | None] = []
    for stance in stances:
        heel = raw.xy(f"{stance.side}_heel")
        readings = [
            still_since(grey, heel[stance.last - before], stance.last - before, +1)
            for before in HEEL_REFS_BEFORE_TOE_OFF
        ]
        ends = [r for r in readings if r is not None]
        out.append(int(np.median(ends)) if len(ends) == len(readings) else None)
    return out


def walk_pose(raw: PoseSequence, config: AnalysisConfig) -> PoseSequence:
    """The landmarks cleaned as for a walk (the cleaning does not depend on the stance
    speed limit: done once)."""
    return clean_pose(raw, config.cleaning, config.cutoff_for("walk")).pose


def stance_edges(pose: PoseSequence, config: AnalysisConfig) -> dict[str, list[tuple[int, int]]]:
    """The walk's stance phases as the screener finds them in cleaned landmarks:
    ``side -> [(first frame, last frame), ...]``."""
    spans = stance_spans(detect_stance(pose, "walk", config.events), pose.time_s, config.events)
    out: dict[str, list[tuple[int, int]]] = {"left": [], "right": []}
    for span in spans:
        out[span.side].append((span.start, span.stop - 1))
    return out


def edge_error(reference: int | None, found: list[int]) -> int | None:
    """Found minus reference frame of the nearest found edge within
    :data:`MATCH_MAX_FRAMES`, or None."""
    if reference is None or not found:
        return None
    nearest = min(found, key=lambda f: abs(f - reference)) - reference
    return nearest if abs(nearest) <= MATCH_MAX_FRAMES else None


def foot_speeds_leg_per_s(
    pose: PoseSequence, stances: list[Stance]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The stance rule's foot speed (:func:`screener.events.foot_speed_leg_per_s`) in the
    reference stance phases and in the swings between them."""
    in_stance, in_swing = [], []
    by_side: dict[str, list[Stance]] = {}
    for s in stances:
        by_side.setdefault(s.side, []).append(s)
    for side, phases in by_side.items():
        speed = foot_speed_leg_per_s(pose, side)
        for k, s in enumerate(phases):
            if s.first is not None:
                in_stance.append(speed[s.first : s.last + 1])
            later = phases[k + 1] if k + 1 < len(phases) else None
            if later is not None and later.first is not None:
                in_swing.append(speed[s.last + 1 : later.first])
    return np.concatenate(in_stance), np.concatenate(in_swing)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=Path("..") / "shared")
    parser.add_argument("--limits", default="0.4,0.6,0.8,1.2")
    parser.add_argument("--cache", type=Path, default=None, help="keypoint cache folder")
    parser.add_argument("--work", type=Path, default=Path("/tmp") / "bench_real_walk")
    parser.add_argument(
        "--event-model",
        type=Path,
        default=None,
        help="also time the stance phases with this learned event model (screener.event_model)",
    )
    parser.add_argument(
        "--reference-shared",
        type=Path,
        default=None,
        help="read the reference contacts from this folder's clip instead (e.g. the original, "
        "when --shared holds a copy encoded again by bench.reencode, whose pixels would "
        "move the reference)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    src = args.shared / DEMO_VIDEO
    if not src.is_file():
        sys.stderr.write(f"{src}: not found; pass --shared (the folder holding real_videos)\n")
        return 2
    args.work.mkdir(parents=True, exist_ok=True)
    default = AnalysisConfig()
    clip = crop_walker(src, args.work / "sports2d_walker.mp4")
    raw = estimate_pose(clip, default.pose, args.cache)
    fps = raw.fps
    ref_raw, ref_clip = raw, clip
    if args.reference_shared is not None:
        ref_src = args.reference_shared / DEMO_VIDEO
        if not ref_src.is_file():
            sys.stderr.write(f"{ref_src}: not found; --reference-shared holds real_videos\n")
            return 2
        ref_clip = crop_walker(ref_src, args.work / "sports2d_walker_reference.mp4")
        ref_raw = estimate_pose(ref_clip, default.pose, args.cache)
    grey = read_grey_frames(ref_clip)
    stances = reference_stances(ref_raw, grey)
    out = sys.stdout
    out.write(f"{src}: rows {WALKER_ROWS_PX}, frames 0-{WALKER_FRAMES - 1}, {fps:.0f} fps\n")
    out.write("reference (side: heel strike from pixels - toe-off by eye [by pixels]):\n")
    for s in stances:
        out.write(f"  {s.side:5s} {s.first if s.first is not None else '-':>4} - {s.last:3d}")
        out.write(f" [{s.last_by_pixels if s.last_by_pixels is not None else '-'}]\n")
    checked = [s.last_by_pixels - s.last for s in stances if s.last_by_pixels is not None]
    out.write(f"toe-off, pixels minus eye (frames): {checked}\n")
    on_toes = [
        (s.last - off) * 1000 / fps
        for s, off in zip(stances, heel_offs(ref_raw, grey, stances), strict=True)
        if off is not None
    ]
    out.write(
        "heel-off to toe-off (ms, heel patch from the pixels): "
        + " ".join(f"{v:.0f}" for v in on_toes)
        + (f"; median {np.median(on_toes):.0f}\n" if on_toes else "\n")
    )
    pose = walk_pose(raw, default)
    in_stance, in_swing = foot_speeds_leg_per_s(pose, stances)
    speeds = (
        float(np.nanmedian(in_stance)),
        float(np.nanpercentile(in_stance, 95)),
        float(np.nanmax(in_stance)),
        float(np.nanmedian(in_swing)),
    )
    out.write(
        "foot speed (leg/s), stance: median {:.2f}, 95th percentile {:.2f}, max {:.2f}; "
        "swing: median {:.2f}\n".format(*speeds)
    )
    default_limit = default.events.stance_heel_speed_max_leg_per_s["walk"]
    for limit in (float(v) for v in args.limits.split(",")):
        found = stance_edges(pose, config_with_stance_limit(limit, "walk"))
        mark = " (default)" if limit == default_limit else ""
        out.write(f"speed limit {limit:g} leg/s{mark}:\n")
        for kind in ("first", "last"):
            errors = []
            for s in stances:
                reference = s.first if kind == "first" else s.last
                if reference is None:
                    continue
                edges = [span[0] if kind == "first" else span[1] for span in found[s.side]]
                errors.append(edge_error(reference, edges))
            hits = [e for e in errors if e is not None]
            close = sum(abs(e) * 1000 / fps <= 50 for e in hits)
            shown = ["-" if e is None else f"{e:+d}" for e in errors]
            out.write(
                f"  {'heel strike' if kind == 'first' else 'toe-off':11s}: found {len(hits)}"
                f" of {len(errors)}, within 50 ms {close}; errors (frames) {' '.join(shown)}\n"
            )
    if args.event_model is not None:
        report_event_model(pose, stances, args.event_model, default, out)
    return 0


def report_event_model(
    pose: PoseSequence, stances: list[Stance], path: Path, config: AnalysisConfig, out: TextIO
) -> None:
    """The learned event model's stance phases against the reference contacts, in ms.

    The model times a phase between frames; the reference is a frame (the heel's first
    still frame, the toe's last frame on the ground), so the true instants lie up to one
    frame before a heel strike and after a toe-off.
    """
    from screener.event_model import find_stance, load_event_model

    learned = find_stance(pose, "walk", load_event_model(path), config.events)
    applicability = learned.provenance.get("applicability", {})
    out.write(
        f"event model {path} (applicability distance {applicability.get('distance')}, "
        f"limit {applicability.get('limit')}; applied: {learned.provenance['applied']}):\n"
    )
    t = pose.time_s
    for kind in ("first", "last"):
        errors_ms: list[float | None] = []
        for s in stances:
            reference = s.first if kind == "first" else s.last
            if reference is None:
                continue
            times = [
                sp.t_start_s if kind == "first" else sp.t_end_s
                for sp in learned.spans
                if sp.side == s.side
            ]
            edges = [e for e in times if e is not None]
            nearest = min(edges, key=lambda e: abs(e - t[reference]), default=None)
            error = None if nearest is None else 1000 * (nearest - t[reference])
            max_ms = 1000 * MATCH_MAX_FRAMES / pose.fps
            errors_ms.append(error if error is not None and abs(error) <= max_ms else None)
        hits = [e for e in errors_ms if e is not None]
        shown = ["-" if e is None else f"{e:+.0f}" for e in errors_ms]
        out.write(
            f"  {'heel strike' if kind == 'first' else 'toe-off':11s}: found {len(hits)} of "
            f"{len(errors_ms)}, within 50 ms {sum(abs(e) <= 50 for e in hits)}; "
            f"errors (ms) {' '.join(shown)}\n"
        )


if __name__ == "__main__":
    raise SystemExit(main())
