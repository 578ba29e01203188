"""Walking stance timing against the walker's size in the picture, per picture orientation.

Usage::

    python -m bench.walk_size FOLDER ... [--csv OUT.csv]

For every walk inside the envelope under the folders (stored landmarks), the screener runs
with the true task and view; each true stance phase with a seen floor contact (posing
artefacts left out, as :func:`bench.accuracy.compare_events` leaves them out) is matched
(:func:`bench.accuracy.match_events`) and scored: start and end both within 50 ms of the
rendered foot's contact. Beside it, the walker's height in the picture at mid-stance
(:func:`body_height_px`). Prints, per band of that height and per orientation, the
phases, walks and the share timed.

Session 38 ran it on hold-outs 41-64 and checked the reading on hold-outs 65-72: at the
same size in pixels landscape walks were still timed worse (docs/accuracy.md, "Landscape
walks' stance timing"). Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import screener
from bench.accuracy import EDGE_S, find_clips, inside_envelope, load_truth, match_events
from bench.landscape_square import TIMED_S
from screener.config import AnalysisConfig
from screener.errors import ScreenerError
from screener.keypoints import PoseSequence
from screener.landmarks import INDEX, SIDES
from screener_synth.contact import posing_artefact

#: Bands of the walker's height in the picture (pixels).
BANDS_PX = (0, 130, 160, 200, 250, 300, 10_000)
#: MediaPipe's nose and the foot landmarks (heels, toes).
NOSE = INDEX["nose"]
FEET = [INDEX[f"{s}_{p}"] for s in SIDES for p in ("heel", "foot_index")]


def body_height_px(image_xy_px: np.ndarray) -> np.ndarray:
    """Per frame, the walker's height in the picture: from the nose down to the lowest
    heel or toe landmark (pixels; NaN where none of the feet is known)."""
    feet_y = image_xy_px[:, FEET, 1]
    lowest = np.full(len(image_xy_px), np.nan)
    known = np.isfinite(feet_y).any(axis=1)
    lowest[known] = np.nanmax(feet_y[known], axis=1)
    return lowest - image_xy_px[:, NOSE, 1]


@dataclass(frozen=True)
class AnalysedWalk:
    """One walk inside the envelope, analysed with its true task and view."""

    folder: Path
    truth_path: Path
    truth_json: dict[str, Any]
    truth: pd.DataFrame
    raw: PoseSequence
    video: Path
    result: Any  # screener.AnalysisResult


def analysed_walks(
    pairs: list[tuple[Path, Path | None]], config: AnalysisConfig
) -> Iterator[AnalysedWalk]:
    """Every walk inside the envelope of each ``(corpus_folder, video_folder)`` pair, its
    stored landmarks analysed with the true task and view (the video, where kept, beside
    them: ``video_folder``; None: the corpus folder). A walk the screener refuses is
    logged and skipped."""
    for folder, videos in pairs:
        for truth_path in find_clips([folder]):
            if not truth_path.name.startswith("walk_"):
                continue
            truth_json, truth = load_truth(truth_path)
            if not inside_envelope(truth_json) or "keypoints" not in truth_json:
                continue
            video = (videos if videos is not None else truth_path.parent) / truth_json["video"]
            raw = PoseSequence.load(truth_path.parent / truth_json["keypoints"])
            try:
                result = screener.analyze_pose(
                    raw, config=config, video_path=video, task="walk", view=truth_json["view"]
                )
            except ScreenerError as exc:
                logging.warning("%s: %s", truth_path, exc)
                continue
            yield AnalysedWalk(folder, truth_path, truth_json, truth, raw, video, result)


def scored_phases(walk: AnalysedWalk) -> Iterator[tuple[dict[str, Any], pd.Series | None]]:
    """Each true stance phase of ``walk`` with a seen floor contact (posing artefacts left
    out, as :func:`bench.accuracy.compare_events` leaves them out) and the found phase
    matched to it (None: not found)."""
    true_events = walk.truth_json.get("events", [])
    for index, (ev, best) in enumerate(match_events(walk.result.events, walk.truth_json)):
        if ev.get("t_floor_on_s") is None:
            continue
        if posing_artefact(true_events, index, "walk") is not None:
            continue
        yield ev, best


def stance_rows(folders: list[Path]) -> pd.DataFrame:
    """One row per scored stance phase: clip, orientation, whether it lies within
    :data:`bench.accuracy.EDGE_S` of the clip's start or end (``near_edge``, for the
    CSV), the walker's height at mid-stance (``body_px``) and the start and end errors
    (s; NaN when not found)."""
    rows = []
    for walk in analysed_walks([(folder, None) for folder in folders], AnalysisConfig()):
        raw = walk.raw
        height = body_height_px(raw.image_xy_px)
        height[~raw.detected] = np.nan
        t_last = float(walk.truth["time_s"].iloc[-1])
        for ev, best in scored_phases(walk):
            mid = 0.5 * (ev["t_floor_on_s"] + ev["t_floor_off_s"])
            frame = int(np.argmin(np.abs(raw.time_s - mid)))
            start = end = np.nan
            if best is not None:
                start = float(best["t_start_s"] - ev["t_floor_on_s"])
                end = float(best["t_end_s"] - ev["t_floor_off_s"])
            rows.append(
                {
                    "clip": f"{walk.folder.name}/{walk.truth_path.name}",
                    "orientation": walk.truth_json.get("orientation", ""),
                    "near_edge": ev["t_start_s"] < EDGE_S or ev["t_end_s"] > t_last - EDGE_S,
                    "body_px": float(height[frame]),
                    "start": start,
                    "end": end,
                }
            )
    return pd.DataFrame(rows)


def timed_by_size(rows: pd.DataFrame) -> pd.DataFrame:
    """Per band of ``body_px`` and orientation: phases, walks and the share with start
    and end within :data:`TIMED_S` (a phase not found counts as not timed)."""
    timed = (rows["start"].abs() <= TIMED_S) & (rows["end"].abs() <= TIMED_S)
    band = pd.cut(rows["body_px"], list(BANDS_PX))
    table = (
        rows.assign(timed=timed, band=band)
        .groupby(["band", "orientation"], observed=True)
        .agg(phases=("timed", "size"), walks=("clip", "nunique"), timed=("timed", "mean"))
    )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument("--csv", type=Path, default=None, help="write the per-phase rows")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    rows = stance_rows(args.folders)
    if args.csv:
        rows.to_csv(args.csv, index=False)
    print(f"{len(rows)} stance phases of {rows['clip'].nunique()} walks inside the envelope")
    print(timed_by_size(rows).to_string(float_format=lambda v: f"{v:.2f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
