"""Knee FPPA with a foot cut off by the picture's bottom edge, the rule off and on.

Usage::

    python -m bench.crop_feet --stored FOLDER ...
    python -m bench.crop_feet --videos FOLDER [--pattern GLOB] [--levels 0.3,0.2,0.1,0]
                              [--out DIR]

``--stored``: every stored clip (landmarks and truth, no video) under the folders whose
pose model placed an ankle, heel or toe below the picture's bottom edge by more than
``AngleConfig.foot_below_picture_fraction`` in some frame, screened twice from its
landmarks (the rule off: the fraction at 10; on: the default). Per event: the knee FPPA
error with the rule off, whether the rule left the value empty, the share of the event's
frames flagged. Prints the events and the RMSE of the ones emptied and kept.

``--videos``: each rendered clip (video and truth) under the folder matching ``--pattern``
is cropped from the bottom so that the edge lies ``d`` shank lengths below its lowest true
ankle, for each ``d`` of ``--levels``; MediaPipe reads each crop once and the landmarks are
screened with the rule off and on. Prints, per level, knee FPPA RMSE over the repetitions
with a value, how many the rule left empty and how many clips were warned. The crops are
written to ``--out`` (a temporary folder by default).

Session 36 (docs/capture.md, "A foot cut off by the picture's bottom edge"). Prints
tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from bench.accuracy import (
    find_clips,
    inside_envelope,
    load_truth,
    match_events,
    truth_event_value,
)
from screener.angles import foot_below_picture
from screener.config import AnalysisConfig
from screener.errors import ScreenerError
from screener.keypoints import PoseSequence

log = logging.getLogger(__name__)

RULE_ON = AnalysisConfig()
RULE_OFF = RULE_ON.model_copy(
    update={"angles": RULE_ON.angles.model_copy(update={"foot_below_picture_fraction": 10.0})}
)


def _choices(truth_json: dict) -> dict[str, Any]:
    return {
        "task": truth_json["task"],
        "view": truth_json["view"],
        "side": truth_json.get("stance_side") or "auto",
    }


def event_rows(
    truth_path: Path, truth_json: dict, truth: pd.DataFrame, on: Any, off: Any
) -> list[dict[str, Any]]:
    """Per true event matched in ``off`` (the rule off): knee FPPA error off, the value on
    (NaN: left empty), the share of the event's frames ``on`` flagged."""
    on_values = {(r.side, r.frame_peak): r.knee_fppa_deg for r in on.events.itertuples()}
    flags = on.frames["quality_flags"]
    rows = []
    for event, found in match_events(off.events, truth_json):
        if found is None:
            continue
        side, start, end = found["side"], int(found["frame_start"]), int(found["frame_end"])
        flagged = flags.str.contains(f"{side}_foot_below_picture").to_numpy()[start : end + 1]
        true_value = truth_event_value(truth, event, "knee_fppa_deg")
        rows.append(
            {
                "clip": f"{truth_path.parent.name}/{truth_json['video']}",
                "task": truth_json["task"],
                "view": truth_json["view"],
                "side": side,
                "inside": inside_envelope(truth_json),
                "error_off": float(found["knee_fppa_deg"]) - true_value,
                "error_on": float(on_values.get((side, int(found["frame_peak"])), np.nan))
                - true_value,
                "flagged_share": float(flagged.mean()),
                "warned": any("bottom edge" in w for w in on.summary["quality"]["warnings"]),
            }
        )
    return rows


def _foot_below(raw: PoseSequence) -> bool:
    below = foot_below_picture(raw, np.zeros(raw.n_frames, dtype=bool), RULE_ON.angles)
    return bool((below["left"] | below["right"])[raw.detected].any())


def stored(folders: list[Path]) -> pd.DataFrame:
    """Event rows of every stored clip with a foot below the bottom edge somewhere."""
    import screener

    rows: list[dict[str, Any]] = []
    for truth_path in find_clips(folders):
        truth_json = json.loads(truth_path.read_text())  # the per-frame truth only if needed
        if "keypoints" not in truth_json:
            continue
        raw = PoseSequence.load(truth_path.parent / truth_json["keypoints"])
        if not _foot_below(raw):
            continue
        try:
            on = screener.analyze_pose(raw, config=RULE_ON, **_choices(truth_json))
            off = screener.analyze_pose(raw, config=RULE_OFF, **_choices(truth_json))
        except ScreenerError as exc:
            log.warning("%s: %s", truth_path.name, exc)
            continue
        rows.extend(event_rows(truth_path, *load_truth(truth_path), on, off))
    return pd.DataFrame(rows)


def crop_video(src: Path, dst: Path, rows: int) -> None:
    """Write ``src`` with only its top ``rows`` pixel rows kept."""
    capture = cv2.VideoCapture(str(src))
    fps = capture.get(cv2.CAP_PROP_FPS)
    ok, frame = capture.read()
    writer = cv2.VideoWriter(
        str(dst),
        cv2.VideoWriter_fourcc(*"mp4v"),  # type: ignore[attr-defined]
        fps,
        (frame.shape[1], rows),
    )
    while ok:
        writer.write(frame[:rows])
        ok, frame = capture.read()
    writer.release()
    capture.release()


def cropped(folder: Path, pattern: str, levels: list[float], out: Path) -> pd.DataFrame:
    """Event rows of every clip under ``folder`` cropped at each level."""
    import screener

    rows: list[dict[str, Any]] = []
    for truth_path in sorted(folder.glob(f"{pattern}.truth.json")):
        truth_json, truth = load_truth(truth_path)
        if truth_json.get("rotation_meta_deg"):
            continue  # stored turned: its pixel rows are not the picture's
        height = truth_json["frame_size_upright"][1]
        ankle = np.fmax(truth["left_ankle_y_px"], truth["right_ankle_y_px"])
        knee = 0.5 * (truth["left_knee_y_px"] + truth["right_knee_y_px"])
        shank = float(np.nanmedian(np.abs(ankle - knee)))
        for level in levels:
            edge = int(min(height, round(float(np.nanmax(ankle)) + level * shank)))
            edge -= edge % 2
            if edge >= height:
                continue
            stem = truth_path.name.removesuffix(".truth.json")
            dst = out / f"{stem}_d{level:+.2f}.mp4"
            crop_video(truth_path.parent / truth_json["video"], dst, edge)
            try:
                on = screener.analyze(dst, config=RULE_ON, **_choices(truth_json))
                off = screener.analyze_pose(on.raw_pose, config=RULE_OFF, **_choices(truth_json))
            except ScreenerError as exc:
                log.warning("%s at %+.2f: %s", stem, level, exc)
                continue
            found = event_rows(truth_path, truth_json, truth, on, off)
            rows.extend({**row, "level": level} for row in found)
    return pd.DataFrame(rows)


def _rmse(errors: pd.Series) -> float:
    finite = errors[np.isfinite(errors)]
    return float(np.sqrt(np.mean(finite**2))) if len(finite) else float("nan")


def summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Knee FPPA RMSE off and on, values left empty, clips warned."""
    emptied = np.isfinite(rows["error_off"]) & ~np.isfinite(rows["error_on"])
    return (
        pd.Series(
            {
                "events": len(rows),
                "clips": rows["clip"].nunique(),
                "rmse_off": _rmse(rows["error_off"]),
                "rmse_on": _rmse(rows["error_on"]),
                "values_on": int(np.isfinite(rows["error_on"]).sum()),
                "left_empty": int(emptied.sum()),
                "rmse_of_left_empty": _rmse(rows.loc[emptied, "error_off"]),
                "clips_warned": rows.loc[rows["warned"], "clip"].nunique(),
            }
        )
        .to_frame()
        .T
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--stored", nargs="+", type=Path, help="folders of stored clips")
    mode.add_argument("--videos", type=Path, help="a folder of rendered videos with truth")
    parser.add_argument("--pattern", default="sls_*_ante_*", help="clips of --videos")
    parser.add_argument("--levels", default="0.3,0.2,0.1,0", help="edges, shanks below the ankle")
    parser.add_argument("--out", type=Path, help="folder for the crops")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    pd.set_option("display.width", 200)
    if args.stored:
        rows = stored(args.stored)
        if rows.empty:
            sys.stdout.write("no stored clip has a foot below the bottom edge\n")
            return 0
        sys.stdout.write(rows.round(2).to_string() + "\n\n")
        sys.stdout.write(summary(rows).round(2).to_string(index=False) + "\n")
        sys.stdout.write("inside the envelope:\n")
        sys.stdout.write(summary(rows[rows["inside"]]).round(2).to_string(index=False) + "\n")
        return 0
    levels = [float(v) for v in args.levels.split(",")]
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch)
        out.mkdir(parents=True, exist_ok=True)
        rows = cropped(args.videos, args.pattern, levels, out)
    if rows.empty:
        sys.stdout.write("no clip analysed\n")
        return 0
    table = rows.groupby("level", sort=False).apply(summary).reset_index(level=1, drop=True)
    sys.stdout.write(table.round(2).to_string() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
