"""The single-leg squat's depth check against the rendered knee flexion.

Usage::

    python -m bench.squat_depth FOLDER ...

For every single-leg squat in the folders (a corpus or a rendered set with truth), the
screener runs with the task given. Per repetition of the stance leg, the knee flexion at
the deepest point as the depth check reads it (from the pelvis' descent,
:func:`screener.capture_guide.repetition_depths_deg`) and as MediaPipe's 3D
landmarks give it (``events.csv``'s ``knee_flexion_deg``) are compared with the truth at
the same instant; per clip, whether the check (the mean over the repetitions against the
capture guide's minimum) agrees with the same check on the truth. Inside and outside the
envelope, and each view, apart.

Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from bench.accuracy import analyze_clip, inside_envelope, load_truth, truth_event_value
from screener.capture_guide import CAPTURE_PATH, load_capture_guides, repetition_depths_deg
from screener.config import AnalysisConfig
from screener.errors import ScreenerError


def repetition_rows(folders: list[Path]) -> pd.DataFrame:
    """One row per repetition of the stance leg: clip, inside, descent, 3D, truth."""
    config = AnalysisConfig()
    rows = []
    for folder in folders:
        for truth_path in sorted(folder.glob("sls_*.truth.json")):
            truth_json, truth = load_truth(truth_path)
            try:
                result = analyze_clip(truth_path, truth_json, config, task="sls")
            except ScreenerError as exc:
                sys.stdout.write(f"  {truth_path.name}: {exc}\n")
                continue
            depths = repetition_depths_deg(
                result.events, result.pose, result.summary["stance_side"]
            )
            for index, by_descent in depths.items():
                event = result.events.loc[index].to_dict()
                rows.append(
                    {
                        "clip": f"{folder.name}/{truth_path.name}",
                        "inside": inside_envelope(truth_json),
                        "view": truth_json["view"],
                        "descent": by_descent,
                        "mediapipe_3d": event["knee_flexion_deg"],
                        "truth": truth_event_value(truth, event, "knee_flexion_deg"),
                    }
                )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    need = load_capture_guides(CAPTURE_PATH)["sls"].min_depth_knee_flexion_deg
    rows = repetition_rows(args.folders)
    out = sys.stdout
    if rows.empty:
        out.write("no single-leg squat analysed\n")
        return 0
    for (inside, view), group in rows.groupby(["inside", "view"]):
        out.write(f"{'inside' if inside else 'outside'} the envelope, {view}:\n")
        for method in ("descent", "mediapipe_3d"):
            ok = group.dropna(subset=[method, "truth"])
            err = ok[method] - ok["truth"]
            r = np.corrcoef(ok[method], ok["truth"])[0, 1] if len(ok) > 2 else float("nan")
            out.write(
                f"  {method:13s} {len(ok):4d} repetitions: bias {err.mean():+5.1f}, "
                f"SD {err.std():4.1f}, RMSE {np.sqrt((err**2).mean()):4.1f} deg, r {r:.2f}\n"
            )
            clips = ok.groupby("clip")[[method, "truth"]].mean()
            agree = int(((clips[method] >= need) == (clips["truth"] >= need)).sum())
            out.write(
                f"    depth check (mean >= {need:.0f} deg) agrees with the truth's on {agree} "
                f"of {len(clips)} clips (truth {clips['truth'].min():.0f}-"
                f"{clips['truth'].max():.0f} deg)\n"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
