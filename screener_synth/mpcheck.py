"""Check rendered clips with MediaPipe: detection rate and raw-landmark bias against truth.

Runs in the screener's environment (mediapipe, PyAV), not the synth one::

    python -m screener_synth.mpcheck sample_videos/*.mp4

For each clip: the fraction of frames with a pose, and, over the frames where a leg bears
weight, the bias and RMSE of the raw (unfiltered) landmark pelvic obliquity, knee FPPA
and hip adduction against the joint-centre truth and against the surface-keypoint truth,
plus the same at the true events' peaks.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from screener_synth import geometry as geo

_MP = {"left_hip": 23, "right_hip": 24, "left_knee": 25, "right_knee": 26, "left_ankle": 27,
       "right_ankle": 28, "left_shoulder": 11, "right_shoulder": 12}  # fmt: skip


def upright_frames(path: Path) -> Iterator[np.ndarray]:
    """Decoded RGB frames, turned upright with the stream's display matrix (PyAV)."""
    import av

    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            img = frame.to_ndarray(format="rgb24")
            ccw = round(float(getattr(frame, "rotation", 0) or 0)) % 360
            yield np.ascontiguousarray(np.rot90(img, k=ccw // 90)) if ccw else img


def landmarks(path: Path) -> tuple[dict[str, np.ndarray], np.ndarray, tuple[int, int]]:
    """MediaPipe (full model, complexity 1) image landmarks in pixels, NaN where missed."""
    import mediapipe as mp

    points: dict[str, list] = {k: [] for k in _MP}
    found = []
    size = (0, 0)
    with mp.solutions.pose.Pose(model_complexity=1, static_image_mode=False) as pose:
        for img in upright_frames(path):
            h, w = img.shape[:2]
            size = (w, h)
            res = pose.process(img)
            found.append(res.pose_landmarks is not None)
            for name, i in _MP.items():
                if res.pose_landmarks is None:
                    points[name].append((np.nan, np.nan))
                else:
                    lm = res.pose_landmarks.landmark[i]
                    points[name].append((lm.x * w, lm.y * h))
    return {k: np.asarray(v) for k, v in points.items()}, np.asarray(found), size


def _stats(est: np.ndarray, ref: np.ndarray) -> str:
    ok = np.isfinite(est) & np.isfinite(ref)
    if not ok.any():
        return "n=0"
    d = est[ok] - ref[ok]
    return f"bias {d.mean():+5.1f} rmse {np.sqrt((d**2).mean()):4.1f} (n={ok.sum()})"


def check_clip(video: Path) -> dict:
    """Detection rate and raw-landmark errors of one clip against its truth files."""
    truth = pd.read_csv(video.with_suffix("").with_suffix(".truth.csv"))
    meta = json.loads(video.with_suffix("").with_suffix(".truth.json").read_text())
    p, found, size = landmarks(video)
    est = {
        "pelvic_obliquity_deg": geo.pelvic_obliquity_deg(p["left_hip"], p["right_hip"]),
        "left_knee_fppa_deg": geo.knee_fppa_deg(
            p["left_hip"], p["left_knee"], p["left_ankle"], p["right_hip"]
        ),
        "right_knee_fppa_deg": geo.knee_fppa_deg(
            p["right_hip"], p["right_knee"], p["right_ankle"], p["left_hip"]
        ),
        "left_hip_adduction_deg": geo.hip_adduction_2d_deg(
            p["left_hip"], p["left_knee"], p["right_hip"]
        ),
        "right_hip_adduction_deg": geo.hip_adduction_2d_deg(
            p["right_hip"], p["right_knee"], p["left_hip"]
        ),
    }
    joint_err = {}
    for side in ("left", "right"):
        px = np.hypot(
            p[f"{side}_knee"][:, 0] - truth[f"{side}_knee_x_px"],
            p[f"{side}_knee"][:, 1] - truth[f"{side}_knee_y_px"],
        )
        joint_err[f"{side}_knee_px_median"] = float(np.nanmedian(px))
    report = {
        "clip": video.name,
        "frames": int(found.size),
        "decoded_size": list(size),
        "truth_size": meta.get("frame_size_upright"),
        "detection_rate": float(found.mean()),
        **joint_err,
    }
    lines = []
    for col, series in est.items():
        side = col.split("_")[0]
        mask = (
            (truth["left_in_stance"] | truth["right_in_stance"]).astype(bool)
            if col.startswith("pelvic")
            else truth[f"{side}_in_stance"].astype(bool)
        )
        if not mask.any():
            continue
        e, t, s = series[mask.to_numpy()], truth[col][mask], truth[f"{col}_surface"][mask]
        lines.append(
            f"  {col:24s} vs joints {_stats(e, t.to_numpy())}"
            f" | vs surface {_stats(e, s.to_numpy())}"
        )
    peaks = []
    t_s = truth["time_s"].to_numpy()
    for ev in meta["events"]:
        k = int(np.argmin(np.abs(t_s - ev["t_peak_s"])))
        sign = 1.0 if ev["side"] == "right" else -1.0
        peaks.append(
            (
                sign * est["pelvic_obliquity_deg"][k],
                ev["pelvic_drop_deg"],
                est[f"{ev['side']}_knee_fppa_deg"][k],
                ev["knee_fppa_deg"],
            )
        )
    if peaks:
        a = np.asarray(peaks)
        lines.append(
            f"  at event peaks: pelvic drop MP {np.nanmean(a[:, 0]):5.1f}"
            f" vs truth {a[:, 1].mean():5.1f}; "
            f"FPPA MP {np.nanmean(a[:, 2]):5.1f} vs truth {a[:, 3].mean():5.1f} (n={len(a)})"
        )
    report["lines"] = lines
    return report


def main(argv: list[str] | None = None) -> int:
    """Print the check for each clip given."""
    parser = argparse.ArgumentParser(prog="python -m screener_synth.mpcheck")
    parser.add_argument("videos", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for video in args.videos:
        r = check_clip(video)
        print(
            f"{r['clip']}: {r['frames']} frames, detected {100 * r['detection_rate']:.1f} %,"
            " decoded "
            f"{r['decoded_size']} (truth {r['truth_size']}), knee landmark vs joint centre median "
            f"L {r['left_knee_px_median']:.1f} px R {r['right_knee_px_median']:.1f} px"
        )
        for line in r["lines"]:
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
