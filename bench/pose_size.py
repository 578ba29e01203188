"""Landmarks and frontal-plane angles at several pose-model input sizes, on real recordings.

Prints figures; asserts nothing. Frames are scaled down to ``PoseConfig.max_long_side_px``
before MediaPipe; a smaller size saves decoding and colour conversion but may move the
landmarks. ``bench/whole_process.py`` compares sizes on clips made by scaling a 540x960
render up, which favours small sizes (scaling up adds no detail); this compares them on
recordings filmed at their own resolution.

For each video and each size in ``--sizes`` (``full`` is the frame's own size), the pose
is estimated without the cache, then cleaned as the analysis cleans it (walking's
cut-off) and the per-frame angles computed (:func:`screener.angles.compute_frame_angles`).
Against the reference size (``--reference``, default the current default 1280):

- lower-body landmark distance (image pixels of the full frame, and in % of the
  subject's height in the image: median mid-shoulder to mid-ankle distance times 1.3),
  mean, 95th percentile, over frames where both runs found a person;
- per-frame pelvic obliquity, knee FPPA and hip adduction (both sides): RMS and 95th
  percentile of the difference, degrees, over frames where both are defined;
- CPU seconds of the pose pass (``time.process_time``; the machine may be shared: the
  sizes are run in turn for each video, so load hits them alike).

With ``--copies LABEL=DIR`` (repeatable), each recording's copy at the same place under
``DIR`` (a copy of ``real_videos``, e.g. encoded again by ``bench.reencode`` as a
messaging app sends it; for a video elsewhere, its name directly under ``DIR``) is also
run at the reference size and compared with the original at that size, in the same way.

Usage::

    python -m bench.pose_size [--sizes full,1280,960,720] [--reference 1280]
        [--copies LABEL=DIR ...] VIDEO ...

Notes
-----
With no videos: ``../shared/real_videos/sports2d_demo/demo.mp4`` and
``../shared/real_videos/pose2sim_multiperson/cam0*.mp4`` beside the repository.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "real_videos"
ANGLES = (
    "pelvic_obliquity_deg",
    "left_knee_fppa_deg",
    "right_knee_fppa_deg",
    "left_hip_adduction_deg",
    "right_hip_adduction_deg",
)


def default_videos() -> list[Path]:
    """The real recordings beside the repository."""
    return [
        REAL / "sports2d_demo" / "demo.mp4",
        *sorted(REAL.glob("pose2sim_multiperson/cam0*.mp4")),
    ]


def copy_path(video: Path, folder: Path) -> Path:
    """Where ``video``'s copy lies under ``folder``: at the same place as under
    ``real_videos`` for a real recording, else beside its name."""
    try:
        return folder / video.resolve().relative_to(REAL.resolve())
    except ValueError:
        return folder / video.name


def run_size(path: Path, long_side: int) -> tuple[Any, Any, float]:
    """Raw landmarks, per-frame angles and CPU seconds at one input size."""
    from screener.angles import compute_frame_angles
    from screener.cleaning import clean_pose
    from screener.config import AnalysisConfig, PoseConfig
    from screener.pose import estimate_pose

    config = AnalysisConfig(cache_dir=None, pose=PoseConfig(max_long_side_px=long_side))
    c0 = time.process_time()
    raw = estimate_pose(path, config.pose, None)
    cpu = time.process_time() - c0
    cleaned = clean_pose(raw, config.cleaning, config.cutoff_for("walk"))
    return raw, compute_frame_angles(cleaned.pose, config.angles), cpu


def subject_height_px(raw: Any) -> float:
    """Median mid-shoulder to mid-ankle distance times 1.3 (head and feet), image px."""
    import numpy as np

    sh = 0.5 * (raw.xy("left_shoulder") + raw.xy("right_shoulder"))
    an = 0.5 * (raw.xy("left_ankle") + raw.xy("right_ankle"))
    return float(1.3 * np.nanmedian(np.linalg.norm(sh - an, axis=1)))


def compare(ref: tuple[Any, Any, float], other: tuple[Any, Any, float]) -> dict[str, float]:
    """Landmark and angle differences of ``other`` against ``ref``."""
    import numpy as np

    from screener.landmarks import INDEX, LOWER_BODY

    raw_a, ang_a, _ = ref
    raw_b, ang_b, _ = other
    cols = [INDEX[n] for n in LOWER_BODY]
    both = raw_a.detected & raw_b.detected
    dist = np.linalg.norm(
        raw_a.image_xy_px[both][:, cols] - raw_b.image_xy_px[both][:, cols], axis=-1
    )
    height = subject_height_px(raw_a)
    out = {
        "frames_both": float(both.sum()),
        "px_mean": float(np.nanmean(dist)),
        "px_p95": float(np.nanpercentile(dist, 95)),
        "pct_mean": float(100 * np.nanmean(dist) / height),
        "pct_p95": float(100 * np.nanpercentile(dist, 95) / height),
    }
    for col in ANGLES:
        d = ang_a[col].to_numpy(float) - ang_b[col].to_numpy(float)
        d = d[np.isfinite(d)]
        out[f"{col}_rms"] = float(np.sqrt(np.mean(d**2))) if d.size else float("nan")
        out[f"{col}_p95"] = float(np.percentile(np.abs(d), 95)) if d.size else float("nan")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("videos", nargs="*", type=Path)
    parser.add_argument("--sizes", default="full,1280,960,720")
    parser.add_argument("--reference", default="1280")
    parser.add_argument(
        "--copies",
        action="append",
        default=[],
        metavar="LABEL=DIR",
        help="also compare each recording's copy under DIR (laid out as real_videos)",
    )
    args = parser.parse_args(argv)
    copies = dict(item.split("=", 1) for item in args.copies)
    from screener.cli import native_stderr_hidden
    from screener.video import probe_video

    out = sys.stdout
    for path in args.videos or default_videos():
        info = probe_video(path)
        full = max(info.width_px, info.height_px)
        sides = {s: (full if s == "full" else min(int(s), full)) for s in args.sizes.split(",")}
        with native_stderr_hidden():
            runs = {s: run_size(path, px) for s, px in sides.items()}
            for label, folder in copies.items():
                runs[label] = run_size(copy_path(path, Path(folder)), sides[args.reference])
                sides[label] = sides[args.reference]
        ref = runs[args.reference]
        out.write(
            f"\n{path.name}: {info.width_px}x{info.height_px}, {ref[0].n_frames} frames, "
            f"person in {int(ref[0].detected.sum())}; subject height "
            f"{subject_height_px(ref[0]):.0f} px; reference {args.reference} "
            f"(long side {sides[args.reference]} px)\n"
        )
        for s, run in runs.items():
            c = compare(ref, run)
            angles = ", ".join(
                f"{col.replace('_deg', '')} {c[f'{col}_rms']:.2f}/{c[f'{col}_p95']:.2f}"
                for col in ANGLES
            )
            out.write(
                f"  {s:>5} (long side {sides[s]:4d} px): pose CPU {run[2]:5.1f} s; landmarks "
                f"{c['px_mean']:.2f} px mean, {c['px_p95']:.2f} p95 ({c['pct_mean']:.2f} % / "
                f"{c['pct_p95']:.2f} % of height) over {c['frames_both']:.0f} frames\n"
                f"        angle difference RMS/p95 deg: {angles}\n"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
