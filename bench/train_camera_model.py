"""Train the learned camera-yaw model (screener/camera_model.py) on corpora; score it.

Usage (needs the synth extra's torch for training; the model runs with numpy)::

    python -m bench.train_camera_model --train CORPUS ... --val CORPUS ...
        [--write screener/models/camera_yaw_model.npz] [--members 5] [--epochs 20]

Every clip is analysed with its true task, side and view (no correction, no frame model);
each frame gives the inputs of :func:`screener.frame_model.frame_features` (the same as
the frame model's, from the roll-corrected landmarks) and, as its target, the lens'
azimuth around the subject (:func:`bench.accuracy.clip_conditions`), signed as the
screener's ``CameraEstimate.yaw_deg`` and multiplied by -1 for a back view (whose inputs
are mirrored). Each clip is also used mirrored (left and right exchanged, the azimuth
negated). An ensemble of small MLPs (tanh) is trained by Adam with weight decay; a clip's
yaw is the median over its frames. Prints the validation clips' RMSE against the truth and
against the screener's own geometric estimate, per task.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from bench.accuracy import clip_conditions
from bench.train_frame_model import (
    by_clip,
    collect,
    ensemble_card,
    fit_applicability,
    mirror,
    train_ensemble,
    training_parser,
    write_model,
)

#: What the model predicts (one value per frame, degrees).
TARGET = "camera_yaw_deg"


def clip_truths(folders: list[Path], clips: list[str]) -> dict[str, dict[str, Any]]:
    """Per clip (``folder/video``, as :func:`bench.train_frame_model.collect` names them):
    its truth JSON."""
    where = {f.name: f for f in folders}
    out: dict[str, dict[str, Any]] = {}
    for clip in dict.fromkeys(clips):
        folder, video = clip.split("/", 1)
        path = where[folder] / f"{video.removesuffix('.mp4')}.truth.json"
        out[clip] = json.loads(path.read_text())
    return out


def clip_yaw(folders: list[Path], clips: list[str]) -> dict[str, tuple[float, str, str]]:
    """Per clip (``folder/video``): the lens' azimuth, the task and the view."""
    return {
        clip: (clip_conditions(truth)["azimuth_deg"], truth["task"], truth["view"])
        for clip, truth in clip_truths(folders, clips).items()
    }


def frame_targets(clips: list[str], yaw: dict[str, tuple[float, str, str]]) -> np.ndarray:
    """Per frame, the azimuth as the (view-mirrored) inputs see it."""
    return np.array(
        [[yaw[c][0] * (-1.0 if yaw[c][2] == "posterior" else 1.0)] for c in clips], dtype=float
    )


def main(argv: list[str] | None = None) -> int:
    parser = training_parser(__doc__, epochs=20)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    x, y5, m5, clips = collect(args.train)
    yaw = clip_yaw(args.train, clips)
    y = frame_targets(clips, yaw)
    m = np.ones_like(y, dtype=bool)
    xm, _, _ = mirror(x, y5, m5)
    x_all, y_all, m_all = np.vstack([x, xm]), np.vstack([y, -y]), np.vstack([m, m])
    card = ensemble_card("screener camera yaw model", [TARGET], args, clips)
    model, xs = train_ensemble(x_all, y_all, m_all, args, card)
    xv, _, _, vclips = collect(args.val)
    vyaw = clip_yaw(args.val, vclips)
    pred, _ = model.predict(xv)
    names = np.asarray(vclips)
    rows = []
    for clip, (truth, task, view) in vyaw.items():
        sign = -1.0 if view == "posterior" else 1.0
        rows.append((task, sign * float(np.median(pred[names == clip, 0])), truth))
    print(f"train {len(set(clips))} clips / {len(x)} frames; val {len(rows)} clips")
    errors: dict[str, float] = {}
    for task in ("all", "jog", "sls", "walk"):
        sel = [(p, t) for k, p, t in rows if task in ("all", k)]
        err = np.array([p - t for p, t in sel])
        rmse = float(np.sqrt(np.mean(err**2)))
        errors[task] = round(rmse, 2)
        print(f"  {task:4} {len(sel):3} clips: RMSE {rmse:.2f} deg, bias {err.mean():+.2f}")
    card["validation_clip_rmse_deg"] = errors
    centre, basis, card["applicability"] = fit_applicability(
        xs, by_clip(model.standardise(xv), vclips)
    )
    if args.write:
        write_model(args.write, model, centre, basis)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
