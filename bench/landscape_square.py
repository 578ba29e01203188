"""Landscape walks read from the whole picture against a square of it around the patient.

Usage::

    python -m bench.landscape_square FOLDER ... [--below 0.95] [--csv OUT.csv]

For every landscape walk video under the folders (with its ``.truth.json``) whose patient
MediaPipe finds in fewer than ``--below`` of the frames of the whole picture, the pose is
estimated twice: from the whole picture and from the square of its full height around
the patient's hips (``PoseConfig.square_crop_x_fraction``, :func:`screener.pose.square_crop`,
centred as :func:`screener.acquire._upright_pose` centres it). Each is analysed with the
clip's true task and view (:func:`screener.analyze_pose`) and scored against the truth:
stance phases away from the clip's edges found (:func:`bench.accuracy.match_events`),
those whose start and end are both within 50 ms of the rendered foot's floor contact,
and the event knee FPPA's squared error. Also printed per clip: whether the screener
would use the square (it finds more frames and the body stays inside it,
:func:`screener.acquire.inside_square`) and how far the two passes' landmarks lie apart
where both found the patient.

Prints figures and asserts nothing (session 28 chose ``ChecksConfig.
square_crop_below_detected_fraction`` with it; docs/accuracy.md).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.accuracy import EDGE_S, load_truth, match_events, truth_event_value
from screener.config import AnalysisConfig
from screener.errors import ScreenerError

#: Start and end within this of the rendered foot's contact count as timed.
TIMED_S = 0.05


def score(result: Any, truth_json: dict, truth: pd.DataFrame) -> dict[str, float]:
    """Stance phases away from the clip's edges: true, found, timed; FPPA squared errors."""
    end_s = float(truth["time_s"].iloc[-1])
    out = {"n_true": 0, "n_found": 0, "n_timed": 0, "fppa_sq": 0.0, "n_fppa": 0}
    for ev, found in match_events(result.events, truth_json):
        if ev["kind"] != "stance" or ev["t_start_s"] < EDGE_S or ev["t_end_s"] > end_s - EDGE_S:
            continue
        out["n_true"] += 1
        if found is None:
            continue
        out["n_found"] += 1
        on, off = ev.get("t_floor_on_s"), ev.get("t_floor_off_s")
        if (
            on is not None
            and off is not None
            and abs(found["t_start_s"] - on) <= TIMED_S
            and abs(found["t_end_s"] - off) <= TIMED_S
        ):
            out["n_timed"] += 1
        value = found.get("knee_fppa_deg", np.nan)
        if np.isfinite(value):
            out["fppa_sq"] += float(value - truth_event_value(truth, ev, "knee_fppa_deg")) ** 2
            out["n_fppa"] += 1
    return out


def compare(folders: list[Path], config: AnalysisConfig, below: float) -> pd.DataFrame:
    """One row per clip and pass (``whole`` / ``square``) of the landscape walks under
    ``folders`` found in fewer than ``below`` of the whole picture's frames."""
    import screener
    from screener.acquire import inside_square, patient_x_fraction
    from screener.pose import estimate_pose

    rows = []
    for folder in folders:
        for truth_path in sorted(folder.rglob("walk_*.truth.json")):
            truth_json, truth = load_truth(truth_path)
            video = truth_path.parent / truth_json["video"]
            if truth_json.get("orientation") != "landscape" or not video.exists():
                continue
            whole = estimate_pose(video, config.pose, config.cache_dir)
            if whole.detected.mean() >= below:
                continue
            centre = patient_x_fraction(whole)
            square_pose = config.pose.model_copy(update={"square_crop_x_fraction": centre})
            square = estimate_pose(video, square_pose, config.cache_dir)
            both = whole.detected & square.detected
            apart = np.linalg.norm(
                whole.image_xy_px[both][:, 11:] - square.image_xy_px[both][:, 11:], axis=2
            )
            common = {
                "clip": f"{folder.name}/{truth_json['video']}",
                "used": bool(
                    square.detected.mean() > whole.detected.mean() and inside_square(square, centre)
                ),
                "apart_median_of_height": float(np.nanmedian(apart)) / whole.image_size_px[1]
                if both.any()
                else np.nan,
            }
            for label, raw, pose_config in (
                ("whole", whole, config.pose),
                ("square", square, square_pose),
            ):
                row = {**common, "pass": label, "detected": float(raw.detected.mean())}
                try:
                    result = screener.analyze_pose(
                        raw,
                        task="walk",
                        view=truth_json["view"],
                        config=config.model_copy(update={"pose": pose_config}),
                        video_path=video,
                    )
                except ScreenerError as exc:
                    row["refused"] = exc.one_line()
                else:
                    row.update(score(result, truth_json, truth))
                rows.append(row)
    return pd.DataFrame(rows)


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Per pass: clips, share of frames found, stance phases found / true / timed, clips
    refused, FPPA RMSE over the events found and their number."""
    out = []
    for label, group in table.groupby("pass", sort=False):
        refused = group["refused"].notna() if "refused" in group else pd.Series(False, group.index)
        n_fppa = int(group["n_fppa"].sum())
        out.append(
            {
                "pass": label,
                "clips": len(group),
                "detected": round(float(group["detected"].mean()), 3),
                "refused": int(refused.sum()),
                "found": int(group["n_found"].sum()),
                "true": int(group["n_true"].sum()),
                "timed": int(group["n_timed"].sum()),
                "fppa_rmse_deg": round(float(np.sqrt(group["fppa_sq"].sum() / n_fppa)), 2)
                if n_fppa
                else np.nan,
                "fppa_events": n_fppa,
            }
        )
    return pd.DataFrame(out).set_index("pass")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--below", type=float, default=0.95)
    parser.add_argument("--csv", type=Path, default=None, help="write the per-clip rows here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    table = compare(args.folders, AnalysisConfig(), args.below)
    if table.empty:
        print("no landscape walk found in fewer than the given share of its frames")
        return 0
    pd.set_option("display.width", 200)
    print(table.to_string())
    print()
    print(summarise(table).to_string())
    if args.csv:
        table.to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
