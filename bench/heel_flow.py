"""A walking stance's start re-timed from the heel's own pixels (optical flow), tried.

Usage::

    python -m bench.heel_flow CORPUS_FOLDER:VIDEO_FOLDER ...

Each argument pairs a stored corpus folder (``NAME.truth.json`` and the stored landmarks)
with the folder holding its rendered videos (a sealed hold-out's ``videos_in/...``). For
every walk inside the envelope the screener runs on the stored landmarks with the true
task and view, and each true stance phase with a seen floor contact is matched to the
phase found (:func:`bench.walk_size.scored_phases`). Beside it, the heel's image motion
per frame: the median magnitude of OpenCV's dense optical flow (Farneback) between
consecutive frames in a box around the heel landmark, over the shank's image length
(:func:`heel_flow`).

The question (session 40): the learned stance model times walking starts within 50 ms
for about 80 % of the phases, the misses mostly 50-70 ms early. A heel that lands stops
moving in the picture, in pixels the pose model's landmark jitter does not touch; does
the first still frame near the model's start (:func:`refined_start_s`) time the floor
contact better? Prints the share of starts within 50 ms of the rendered floor contact as
found and, for every rule in a small grid (the flow's stillness threshold, a lead before
the still frame, the search window, and whether the still frame replaces the found start
or is averaged with it), re-timed; and the median heel motion around the true contact.

Session 40 ran it on hold-outs 69-72 (the tuning set; 173 phases): no rule beat the
found start (81.5 %; the best 79.2 %), so the decision set (73-76) was not read and
nothing changed (docs/accuracy.md, "A walking stance's start from the heel's pixels").
Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.landscape_square import TIMED_S
from bench.walk_size import analysed_walks, scored_phases
from screener.config import AnalysisConfig
from screener.keypoints import FloatArray, PoseSequence
from screener.landmarks import SIDES

#: The box around the heel: this fraction of the shank's image length each side of the
#: landmark, at least :data:`MIN_BOX_HALF_PX`.
BOX_HALF_SHANK = 0.25
MIN_BOX_HALF_PX = 6.0
#: The grid of :func:`refined_start_s`'s rule: stillness threshold (shank lengths per
#: frame), lead before the still frame (s), search window each side of the found start
#: (s), and the still frame's weight against the found start.
STILL_GRID = (0.002, 0.003, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02)
LEAD_GRID_S = (0.0, 0.017, 0.033, 0.05, 0.067)
WINDOW_GRID_S = (0.1, 0.17)
WEIGHT_GRID = (0.5, 1.0)
#: Frames either side of the true contact in the printed motion profile.
PROFILE_FRAMES = 6


def read_gray_frames(video: Path, n_frames: int) -> list[np.ndarray]:
    """The video's first ``n_frames`` frames, upright and numbered as the pose model saw
    them (:func:`screener.video.read_frames`), in grey levels."""
    import cv2

    from screener.video import read_frames

    frames = read_frames(video, {None: range(n_frames)})[None]
    return [cv2.cvtColor(frames[i], cv2.COLOR_RGB2GRAY) for i in sorted(frames)]


def heel_flow(frames: list[np.ndarray], pose: PoseSequence, side: str) -> FloatArray:
    """Per frame ``i``, the heel's image motion from frame ``i - 1``: the median optical
    flow magnitude (Farneback) in a box around the heel landmark, over the shank's image
    length (NaN in the first frame and where the heel, knee or ankle is unknown).

    Notes
    -----
    The box (:data:`BOX_HALF_SHANK` of the shank each side) holds the heel and some floor;
    the median reads the heel's motion while it covers most of the box and falls to zero
    when the heel stands still, whatever the floor's texture.
    """
    import cv2

    n = min(len(frames), pose.n_frames)
    out = np.full(pose.n_frames, np.nan)
    heel = pose.xy(f"{side}_heel")
    shank = np.linalg.norm(pose.xy(f"{side}_knee") - pose.xy(f"{side}_ankle"), axis=1)
    for i in range(1, n):
        if not (np.isfinite(heel[i]).all() and np.isfinite(shank[i]) and shank[i] > 0):
            continue
        half = max(MIN_BOX_HALF_PX, BOX_HALF_SHANK * float(shank[i]))
        rows, cols = frames[i].shape
        x0, y0 = max(0, int(heel[i, 0] - half)), max(0, int(heel[i, 1] - half))
        x1, y1 = min(cols, int(heel[i, 0] + half)), min(rows, int(heel[i, 1] + half))
        if x1 - x0 < 6 or y1 - y0 < 6:
            continue
        start = np.zeros((y1 - y0, x1 - x0, 2), dtype=np.float32)  # no initial flow (flags 0)
        flow = cv2.calcOpticalFlowFarneback(
            frames[i - 1][y0:y1, x0:x1], frames[i][y0:y1, x0:x1], start, 0.5, 2, 9, 3, 5, 1.1, 0
        )
        out[i] = float(np.median(np.linalg.norm(flow, axis=2))) / float(shank[i])
    return out


def refined_start_s(
    time_s: FloatArray,
    flow: FloatArray,
    found_start_s: float,
    still: float,
    lead_s: float,
    window_s: float,
    weight: float,
) -> float:
    """The found start moved toward the heel's first still moment near it.

    The first frame ``i`` within ``window_s`` of the found start whose motion, and the
    next frame's, are below ``still``: the heel landed by then, so the still start is
    ``time_s[i] - lead_s``, returned weighted ``weight`` against the found start (1: the
    still start alone). No such frame: the found start unchanged.
    """
    step = float(np.median(np.diff(time_s)))
    found = int(np.argmin(np.abs(time_s - found_start_s)))
    reach = max(1, round(window_s / step))
    for i in range(max(1, found - reach), min(len(time_s) - 1, found + reach + 1)):
        here, after = flow[i], flow[i + 1]
        if np.isfinite(here) and np.isfinite(after) and here < still and after < still:
            return float(weight * (time_s[i] - lead_s) + (1.0 - weight) * found_start_s)
    return found_start_s


def phase_rows(pairs: list[tuple[Path, Path]]) -> list[dict[str, Any]]:
    """One entry per scored walking stance phase (:func:`bench.walk_size.scored_phases`):
    clip, true floor contact, the found start (None when not found), the clip's frame
    times and the stance foot's heel flow."""
    rows: list[dict[str, Any]] = []
    for walk in analysed_walks(list(pairs), AnalysisConfig()):
        frames = read_gray_frames(walk.video, walk.raw.n_frames)
        flows = {side: heel_flow(frames, walk.raw, side) for side in SIDES}
        for ev, best in scored_phases(walk):
            rows.append(
                {
                    "clip": f"{walk.folder.name}/{walk.truth_path.name}",
                    "t_floor_on_s": float(ev["t_floor_on_s"]),
                    "found_start_s": None if best is None else float(best["t_start_s"]),
                    "time_s": walk.raw.time_s,
                    "flow": flows[ev["side"]],
                }
            )
    return rows


def share_timed(starts: list[float | None], rows: list[dict[str, Any]]) -> float:
    """The share of phases whose start is within :data:`TIMED_S` of the floor contact (a
    phase not found counts as not timed)."""
    hits = [
        start is not None and abs(start - row["t_floor_on_s"]) <= TIMED_S
        for start, row in zip(starts, rows, strict=True)
    ]
    return float(np.mean(hits)) if hits else float("nan")


def rule_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Every rule of the grid, its share of starts timed, best first."""
    table = []
    for still, lead, window, weight in itertools.product(
        STILL_GRID, LEAD_GRID_S, WINDOW_GRID_S, WEIGHT_GRID
    ):
        starts = [
            None
            if row["found_start_s"] is None
            else refined_start_s(
                row["time_s"], row["flow"], row["found_start_s"], still, lead, window, weight
            )
            for row in rows
        ]
        table.append(
            {
                "still": still,
                "lead_s": lead,
                "window_s": window,
                "weight": weight,
                "timed": share_timed(starts, rows),
            }
        )
    return pd.DataFrame(table).sort_values("timed", ascending=False, kind="stable")


def motion_profile(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The heel's motion by frame from the true floor contact: median and quartiles."""
    offsets = range(-PROFILE_FRAMES, PROFILE_FRAMES + 1)
    values: dict[int, list[float]] = {k: [] for k in offsets}
    for row in rows:
        contact = int(np.argmin(np.abs(row["time_s"] - row["t_floor_on_s"])))
        for k in offsets:
            if 0 <= contact + k < len(row["flow"]) and np.isfinite(row["flow"][contact + k]):
                values[k].append(float(row["flow"][contact + k]))
    return pd.DataFrame(
        {
            "frames_from_contact": list(offsets),
            "median": [np.median(values[k]) if values[k] else np.nan for k in offsets],
            "q25": [np.percentile(values[k], 25) if values[k] else np.nan for k in offsets],
            "q75": [np.percentile(values[k], 75) if values[k] else np.nan for k in offsets],
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("pairs", nargs="+", help="CORPUS_FOLDER:VIDEO_FOLDER")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    pairs = []
    for pair in args.pairs:
        corpus, _, videos = pair.partition(":")
        if not videos:
            parser.error(f"{pair}: give CORPUS_FOLDER:VIDEO_FOLDER")
        pairs.append((Path(corpus), Path(videos)))
    rows = phase_rows(pairs)
    found = share_timed([row["found_start_s"] for row in rows], rows)
    print(f"{len(rows)} walking stance phases; starts within 50 ms as found: {found:.3f}")
    print("heel motion (shank lengths per frame) by frames from the true floor contact:")
    print(motion_profile(rows).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print("re-timed by the heel's first still frame, best rules first:")
    print(rule_table(rows).head(10).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
