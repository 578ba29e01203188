"""Choose and check the depth gate of knee FPPA in single-leg squats filmed from behind.

Prints figures; asserts nothing. Reproduces the choice of
``AngleConfig.posterior_squat_max_depth`` (session 25, docs/accuracy.md):

1. Every single-leg squat clip filmed from behind (by its ``truth.json``) in the
   development folders and, with ``--validate``, in the validation folders is analysed
   from its stored landmarks as the screener would (view and side read from the clip),
   with the depth gate off and every other setting at its default (the foreshortened
   thigh's gate stays on).
2. For every repetition matched to a true one (:func:`bench.accuracy.match_events`):
   the knee FPPA read at its deepest frame (empty where the thigh's gate left it empty),
   the true value (:func:`bench.accuracy.truth_event_value`), and the squat's depth in
   the image at that frame (:func:`screener.angles.squat_depth_in_image`).
3. For each threshold of a grid: the share of repetitions left empty (by the thigh's
   gate or by depth over the threshold) and the RMSE of those still shown, on each set.
   The threshold chosen is the lowest whose development share left empty is at most
   ``--budget`` (default 0.4); its figures on the validation folders are what it does on
   data that chose nothing.

Usage::

    python -m bench.squat_depth_gate DEV_FOLDER [...] --validate VAL_FOLDER [...]
                                     [--budget 0.4] [--csv OUT.csv]

Session 25's choice::

    python -m bench.squat_depth_gate corpus/val $(for k in $(seq 20 35); do
        echo -n "corpus/final${k}_inside "; done) --validate $(for k in $(seq 36 40); do
        echo -n "corpus/final${k}_inside "; done)

Notes
-----
The study behind the gate (session 25) chose the depth measure after a first table of
correlates that already showed the validation folders' figures; a later hold-out of
squats only (the forty-second) scored it on data that chose nothing.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from bench.accuracy import find_clips, load_truth, match_events, truth_event_value

#: Thresholds tried: the hip's drop over the standing hip-to-ankle height in the image.
GRID = tuple(round(0.10 + 0.005 * k, 3) for k in range(61))


def collect(folders: list[Path]) -> pd.DataFrame:
    """One row per matched repetition of the posterior squats in ``folders``: clip,
    side, ``measured`` and ``truth`` knee FPPA (deg) and ``depth`` in the image."""
    import screener
    from screener.angles import squat_depth_in_image
    from screener.config import AnalysisConfig
    from screener.errors import ScreenerError
    from screener.keypoints import PoseSequence

    base = AnalysisConfig(cache_dir=None)
    config = base.model_copy(
        update={"angles": base.angles.model_copy(update={"posterior_squat_max_depth": 1e9})}
    )
    rows = []
    for truth_path in find_clips(folders):
        truth_json, truth = load_truth(truth_path)
        if truth_json["task"] != "sls" or truth_json["view"] != "posterior":
            continue
        raw = PoseSequence.load(truth_path.parent / truth_json["keypoints"])
        try:
            result = screener.analyze_pose(
                raw, task="sls", config=config, video_path=truth_path.parent / truth_json["video"]
            )
        except ScreenerError as exc:
            logging.getLogger(__name__).info("%s: %s", truth_json["video"], exc)
            continue
        depth = {s: squat_depth_in_image(result.pose, s) for s in ("left", "right")}
        for event, found in match_events(result.events, truth_json):
            if found is None or event["kind"] != "rep":
                continue
            rows.append(
                {
                    "clip": truth_json["video"],
                    "folder": truth_path.parent.name,
                    "side": event["side"],
                    "measured": float(found["knee_fppa_deg"]),
                    "truth": truth_event_value(truth, event, "knee_fppa_deg"),
                    "depth": float(depth[event["side"]][int(found["frame_peak"])]),
                }
            )
    return pd.DataFrame(rows, columns=["clip", "folder", "side", "measured", "truth", "depth"])


def gate_figures(reps: pd.DataFrame, threshold: float) -> tuple[float, float, int]:
    """Share of ``reps`` left empty with the gate at ``threshold``, RMSE (deg) of those
    shown, and how many are shown."""
    shown = reps["measured"].notna() & ~(reps["depth"] > threshold)
    err = (reps.loc[shown, "measured"] - reps.loc[shown, "truth"]).to_numpy(float)
    rmse = float(np.sqrt(np.mean(err**2))) if err.size else float("nan")
    return 1.0 - float(shown.mean()) if len(reps) else float("nan"), rmse, int(shown.sum())


def choose_threshold(reps: pd.DataFrame, budget: float) -> float:
    """The lowest threshold of :data:`GRID` leaving at most ``budget`` of ``reps`` empty."""
    for threshold in GRID:
        if gate_figures(reps, threshold)[0] <= budget:
            return threshold
    return GRID[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="development folders")
    parser.add_argument("--validate", nargs="*", type=Path, default=[])
    parser.add_argument("--budget", type=float, default=0.4)
    parser.add_argument("--csv", type=Path, help="write the repetitions here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    sets = {"development": collect(args.folders)}
    if args.validate:
        sets["validation"] = collect(args.validate)
    if args.csv:
        pd.concat(sets, names=["set"]).to_csv(args.csv)
    out = sys.stdout
    for name, reps in sets.items():
        empty, rmse, _ = gate_figures(reps, 1e9)
        out.write(
            f"{name}: {len(reps)} repetitions of {reps['clip'].nunique()} posterior squats; "
            f"without the depth gate RMSE {rmse:.2f} deg, {empty:.0%} left empty\n"
        )
    chosen = choose_threshold(sets["development"], args.budget)
    out.write(f"threshold chosen on development (at most {args.budget:.0%} left empty): ")
    out.write(f"{chosen:.3f}\n")
    out.write("threshold  " + "  ".join(f"{n:>32s}" for n in sets) + "\n")
    for threshold in GRID[::4] + ((chosen,) if chosen not in GRID[::4] else ()):
        cells = []
        for reps in sets.values():
            empty, rmse, n = gate_figures(reps, threshold)
            cells.append(f"{rmse:5.2f} deg, {n:3d} shown, {empty:4.0%} empty")
        mark = "  <- chosen" if threshold == chosen else ""
        out.write(f"{threshold:9.3f}  " + "  ".join(f"{c:>32s}" for c in cells) + mark + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
