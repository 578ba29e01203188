"""Clinic captures the corpora do not render: a walk that turns round, squats on both legs.

Usage::

    python -m bench.clinic_captures [--pairs N] [--pairs-from FOLDER ...]
                                    [--config FILE] [--stored-only] FOLDER ...

Three readings over the stored landmarks of every clip under the folders (no video is
read, nothing is rendered):

1. **Every clip as stored.** Does any clip read as a walk that turns round
   (:func:`screener.segments.keep_one_walking_direction`) or as squats on both legs
   (:func:`screener.segments.keep_one_squatting_leg`)? None should: every stored clip is
   one way and one leg. And, per view, the stance leg ``--side auto`` gives each squat:
   right, wrong, or ``--side`` asked for.
2. **Walks joined in pairs** (from ``--pairs-from``, default the same folders; at most
   ``--pairs`` per frame size and rate). Two stored walks of the same frame size and rate, one
   filmed from the front and one from behind, joined end to end (both orders), stand in
   for a walk away and back; each is analysed whole with ``--view auto`` and compared
   with its kept half analysed alone: was the turn found, are the stance phases found
   those of the half alone (same leg, peak within 50 ms), how many fall in the other
   half.
3. **Squats joined in pairs.** Two stored squats of the same view, size and rate, one on
   each leg, joined (both orders) and analysed with ``--side auto``, ``left`` and
   ``right``: were both legs found, are the repetitions kept those of the analysed leg's
   half alone, how many fall in the other half.

``--config`` (JSON or TOML, as ``screener analyze --config``) measures other settings,
e.g. ``[checks] sls_side_contradict_ratio_max = 0.4`` (session 21's) against the default;
``--stored-only`` skips the pairs.

Joining leaves a jump in the body's place and size where a real clip has a turn or a
stand between legs: the pairs test the logic, not how a real patient turns. Prints
tables; asserts nothing (session 22, docs/capture.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.accuracy import find_clips
from screener.config import AnalysisConfig, load_config
from screener.errors import ScreenerError, ViewError
from screener.keypoints import PoseSequence
from screener.pipeline import analyze_pose, oriented_pose
from screener.segments import keep_one_squatting_leg, keep_one_walking_direction


def join(first: PoseSequence, second: PoseSequence) -> PoseSequence:
    """``second`` appended to ``first``, one frame interval after its last frame."""
    shift = first.time_s[-1] + 1.0 / first.fps - second.time_s[0]
    return PoseSequence(
        time_s=np.concatenate([first.time_s, second.time_s + shift]),
        image_xy_px=np.concatenate([first.image_xy_px, second.image_xy_px]),
        world_xyz_m=np.concatenate([first.world_xyz_m, second.world_xyz_m]),
        visibility=np.concatenate([first.visibility, second.visibility]),
        detected=np.concatenate([first.detected, second.detected]),
        image_size_px=first.image_size_px,
        source={"joined": [first.source.get("video"), second.source.get("video")]},
    )


def _stored(folders: list[Path], task: str | None = None) -> Iterator[tuple[dict, PoseSequence]]:
    """Each stored clip's truth and landmarks (only ``task``'s, when given: the landmarks
    of other clips are not read)."""
    for path in find_clips(folders):
        truth = json.loads(path.read_text())
        if "keypoints" in truth and task in (None, truth["task"]):
            yield truth, PoseSequence.load(path.parent / truth["keypoints"])


def _groups(folders: list[Path], task: str, by: str, member: str) -> list[tuple[tuple, dict]]:
    """``task``'s stored clips grouped by frame size, frame rate and truth ``by`` (or
    none), each group's landmarks by truth ``member``."""
    groups: dict[tuple, dict[str, list[PoseSequence]]] = {}
    for truth, pose in _stored(folders, task):
        key = (pose.image_size_px, round(pose.fps), truth[by] if by else None)
        groups.setdefault(key, {}).setdefault(truth[member], []).append(pose)
    return list(groups.items())


def _half_alone(
    first: PoseSequence, second: PoseSequence, later: bool, config: AnalysisConfig, **choice: Any
) -> list[tuple[str, float]]:
    """The events of the kept half of ``join(first, second)`` analysed alone, on the joined
    clip's times (none when it is refused)."""
    half = second if later else first
    shift = first.time_s[-1] + 1.0 / first.fps - second.time_s[0] if later else 0.0
    try:
        return _peaks(analyze_pose(half, config=config, **choice).events, shift)
    except ScreenerError:
        return []


def read_stored(folders: list[Path], config: AnalysisConfig) -> pd.DataFrame:
    """One row per stored clip: turn found, both legs found, the squat's leg read."""
    rows = []
    for truth, raw in _stored(folders):
        row: dict[str, object] = {"task": truth["task"], "view": truth["view"]}
        row["turn"] = keep_one_walking_direction(raw, "auto", "auto", config)[1] is not None
        try:
            pose, _ = oriented_pose(raw, config=config)
        except ViewError:
            rows.append({**row, "both_legs": None, "side": "view refused"})
            continue
        try:
            both = keep_one_squatting_leg(pose, raw, "auto", "auto", config, "clip")[1]
            row["both_legs"] = both is not None
        except ScreenerError:
            row["both_legs"] = "refused"
        row["side"] = None
        if truth["task"] == "sls":
            try:
                result = analyze_pose(raw, task="sls", side="auto", config=config)
                right = result.summary["stance_side"] == truth["stance_side"]
                row["side"] = "right" if right else "wrong"
            except ScreenerError:
                row["side"] = "asked"
        rows.append(row)
    return pd.DataFrame(rows)


def _peaks(events: pd.DataFrame, shift: float = 0.0) -> list[tuple[str, float]]:
    return [(s, float(t) + shift) for s, t in zip(events["side"], events["t_peak_s"], strict=True)]


def _score(
    found: list[tuple[str, float]], alone: list[tuple[str, float]], split_s: float, later: bool
) -> dict[str, int]:
    """Events found against the kept half's own (same leg, peak within 50 ms)."""
    same = sum(any(s == a and abs(t - u) < 0.05 for a, u in alone) for s, t in found)
    other_half = sum((t >= split_s) != later for _, t in found)
    return {"found": len(found), "as_alone": same, "other_half": other_half, "alone": len(alone)}


def walk_pairs(folders: list[Path], config: AnalysisConfig, per_group: int) -> pd.DataFrame:
    """Stored walks from the front and from behind, joined both ways (see module)."""
    rows = []
    for _, views in _groups(folders, "walk", "", "view"):
        pairs = list(zip(views.get("anterior", []), views.get("posterior", []), strict=False))
        for front, back in pairs[:per_group]:
            for first, second, order in ((front, back, "front-back"), (back, front, "back-front")):
                split_s = float(first.time_s[-1] + 0.5 / first.fps)
                row: dict[str, object] = {"order": order}
                try:
                    result = analyze_pose(
                        join(first, second), task="walk", view="auto", config=config
                    )
                except ScreenerError as exc:
                    rows.append({**row, "outcome": f"refused: {exc.problem[:60]}"})
                    continue
                turn = result.summary["view_detection"]["walking_turn"]
                later = turn is not None and sum(turn["analysed_s"]) / 2 > split_s
                alone = _half_alone(first, second, later, config, task="walk")
                outcome = "turn found" if turn is not None else "no turn"
                row.update(outcome=outcome, **_score(_peaks(result.events), alone, split_s, later))
                rows.append(row)
    return pd.DataFrame(rows)


def squat_pairs(folders: list[Path], config: AnalysisConfig, per_group: int) -> pd.DataFrame:
    """Stored squats on each leg, joined both ways, each leg given and not (see module)."""
    rows = []
    for key, legs in _groups(folders, "sls", "view", "stance_side"):
        pairs = list(zip(legs.get("left", []), legs.get("right", []), strict=False))
        for left, right in pairs[:per_group]:
            for first, second, order in ((left, right, "left-right"), (right, left, "right-left")):
                joined = join(first, second)
                split_s = float(first.time_s[-1] + 0.5 / first.fps)
                for side in ("auto", "left", "right"):
                    row: dict[str, object] = {"view": key[2], "order": order, "side": side}
                    try:
                        result = analyze_pose(joined, task="sls", side=side, config=config)
                    except ScreenerError as exc:
                        rows.append({**row, "outcome": f"refused: {exc.problem[:60]}"})
                        continue
                    leg = result.summary["stance_side"]
                    later = (order == "left-right") == (leg == "right")
                    alone = _half_alone(first, second, later, config, task="sls", side=leg)
                    both = result.summary["other_leg_left_out"] is not None
                    row.update(outcome="both legs found" if both else "one leg read", leg=leg)
                    row.update(_score(_peaks(result.events), alone, split_s, later))
                    rows.append(row)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--pairs", type=int, default=6, help="pairs per size and frame rate")
    parser.add_argument("--pairs-from", nargs="+", type=Path, help="folders of the pairs")
    parser.add_argument("--config", type=Path, help="settings file (default: the defaults)")
    parser.add_argument("--stored-only", action="store_true", help="skip the joined pairs")
    args = parser.parse_args(argv)
    pair_folders = args.pairs_from or args.folders
    logging.basicConfig(level=logging.ERROR)
    config = load_config(args.config).model_copy(update={"cache_dir": None})
    stored = read_stored(args.folders, config)
    if stored.empty:
        print(f"no stored landmarks under {', '.join(map(str, args.folders))}", file=sys.stderr)
        return 1
    print(f"{len(stored)} stored clips")
    print("walking turns found:", int(stored["turn"].sum()))
    print("squats on both legs found:")
    print(pd.crosstab(stored["task"], stored["both_legs"].astype(str)).to_string())
    squats = stored[stored["task"] == "sls"]
    if not squats.empty:
        print("single-leg squats, the stance leg read with --side auto:")
        print(pd.crosstab(squats["view"], squats["side"]).to_string())
    if args.stored_only:
        return 0
    walks = walk_pairs(pair_folders, config, args.pairs)
    if not walks.empty:
        print(f"\nwalks joined in pairs ({len(walks)}):")
        by = walks.assign(clips=1).groupby(["order", "outcome"])
        print(by.sum(numeric_only=True).to_string())
    legs = squat_pairs(pair_folders, config, args.pairs)
    if not legs.empty:
        print(f"\nsquats on each leg joined in pairs ({len(legs)} analyses):")
        by = legs.assign(clips=1).groupby(["view", "side", "outcome"])
        print(by.sum(numeric_only=True).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
