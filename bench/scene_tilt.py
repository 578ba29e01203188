"""The picture's tilt read from the room's vertical lines, against calibrated truth.

Usage::

    python -m bench.scene_tilt [--folder DIR ...] [--renders VIDEOS:KEYPOINTS ...]
                               [--cache-dir DIR]

For each camera of each calibrated folder (``cam01.mp4`` ... and their Qualisys
calibration ``Calib.qca.txt``; default ``../shared/real_videos/pose2sim_multiperson``),
the pose is estimated, the frames the screener searches for the room's verticals are
read (:func:`screener.acquire.scene_tilt_frames`, at the second-person search's 640-px
size) and :func:`screener.scene.estimate_scene_tilt` reads the tilt at the
tracked subject's mid-hip. The truth is the lab's vertical through that image point as
the calibrated camera sees it (the direction toward its vertical vanishing point: roll
plus the perspective of a pitched camera). The subject's long axis
(:func:`screener.capture.estimate_roll_deg`, the body's reading) is printed beside it.

``--renders VIDEOS:KEYPOINTS`` adds rendered clips: ``VIDEOS`` holds ``NAME.mp4`` and
``NAME.truth.json`` (a sealed hold-out's scratch folder), ``KEYPOINTS`` the stored
``NAME.keypoints.npz`` (its corpus folder); the truth is the camera's roll.

Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from bench.multiview import Camera, read_qca
from bench.real_video_agreement import CALIBRATION, DEFAULT_FOLDER, LAB_UP
from screener.acquire import scene_tilt_frames
from screener.capture import OTHER_PEOPLE_LONG_SIDE_PX, estimate_roll_deg
from screener.config import AnalysisConfig
from screener.keypoints import FloatArray, PoseSequence
from screener.landmarks import INDEX
from screener.pose import estimate_pose
from screener.scene import SceneTilt, estimate_scene_tilt
from screener.video import read_frames


def searched_frames(video: Path, raw: PoseSequence) -> dict[int, np.ndarray]:
    """The frames the screener reads the room's verticals on, at their size."""
    picked = scene_tilt_frames(raw, AnalysisConfig())
    return read_frames(video, {OTHER_PEOPLE_LONG_SIDE_PX: picked})[OTHER_PEOPLE_LONG_SIDE_PX]


def mid_hip_px(raw: PoseSequence, frames: list[int]) -> FloatArray:
    """The tracked subject's median mid-hip in those frames, full-size pixels."""
    xy = raw.image_xy_px[frames]
    return np.asarray(
        np.nanmedian(0.5 * (xy[:, INDEX["left_hip"]] + xy[:, INDEX["right_hip"]]), axis=0)
    )


def true_tilt_deg(camera: Camera, pixel: FloatArray) -> float:
    """The lab vertical through ``pixel`` as the camera sees it, from the image's
    vertical (positive: top to the image's right)."""
    ray = camera.rotation.T @ np.append(camera.normalize(pixel), 1.0)
    base = camera.position_m + 3.0 * ray / np.linalg.norm(ray)
    a, b = camera.project(np.stack([base, base + 0.3 * LAB_UP]))
    return float(np.degrees(np.arctan2(b[0] - a[0], a[1] - b[1])))


def report(name: str, truth: float, scene: SceneTilt, body: float) -> str:
    tilt = scene.tilt_deg if scene.read else None
    read = "  none" if tilt is None else f"{tilt:+6.1f}"
    err = "    -" if tilt is None else f"{tilt - truth:+5.1f}"
    return (
        f"  {name:40s} truth {truth:+6.1f}  room {read} (error {err}, {scene.segments:3d} "
        f"segments)  body {body:+6.1f} (error {body - truth:+5.1f})\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--folder", type=Path, action="append", default=None)
    parser.add_argument("--renders", action="append", default=[])
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    out = sys.stdout
    config = AnalysisConfig()
    fov = config.capture.assumed_long_side_fov_deg
    for folder in args.folder or ([] if args.renders else [DEFAULT_FOLDER]):
        out.write(f"{folder} (calibrated)\n")
        for camera in read_qca(folder / CALIBRATION):
            video = folder / f"{camera.name}.mp4"
            raw = estimate_pose(video, config.pose, args.cache_dir)
            frames = searched_frames(video, raw)
            scene = estimate_scene_tilt(frames, raw, 0, fov)
            truth = true_tilt_deg(camera, mid_hip_px(raw, sorted(frames)))
            out.write(report(camera.name, truth, scene, estimate_roll_deg(raw)[0]))
    for pair in args.renders:
        videos, keypoints = (Path(p) for p in pair.split(":"))
        out.write(f"{videos} (rendered; truth: the camera's roll)\n")
        n = n_read = 0
        for video in sorted(videos.glob("*.mp4")):
            truth_json = json.loads(video.with_suffix(".truth.json").read_text(encoding="utf-8"))
            raw = PoseSequence.load(keypoints / f"{video.stem}.keypoints.npz")
            scene = estimate_scene_tilt(searched_frames(video, raw), raw, 0, fov)
            n += 1
            if scene.read:
                n_read += 1
                truth = -float(truth_json["camera"]["roll_deg"])
                out.write(report(video.stem, truth, scene, estimate_roll_deg(raw)[0]))
        out.write(f"  read on {n_read} of {n} clips\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
