"""Train the learned frame model (screener/frame_model.py) on a corpus; score it on another.

Usage (needs the synth extra's torch for training; the model runs with numpy)::

    python -m bench.train_frame_model --train corpus/train --val corpus/val
        [--write models/frame_model.npz] [--members 5] [--epochs 300] [--tasks jog]

Every clip is analysed with its true task, side and view, no correction and no frame
model; each frame gives the features of :func:`screener.frame_model.frame_features` and,
as targets, the difference between the truth (joint centres through a level frontal
camera) and the geometric angle. A leg's targets count only while that leg bears weight
(the truth's stance), where its angles are read; pelvic obliquity counts in every frame
with a foot down. Each clip is also used mirrored (left and right exchanged), so the
model treats both legs alike. An ensemble of small MLPs (tanh) is trained by Adam with
weight decay; a split by clip is leave-body-out and leave-camera-out (each clip has its
own body and camera). Prints per-frame RMSE on the validation corpus before and after.
``--tasks`` trains and validates on those tasks' clips only (a task's own model, as the
single-leg squat's; session 34 tried the jog's: docs/accuracy.md).
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.accuracy import analyze_as_truth, find_clips, load_truth
from screener.frame_model import FEATURE_LANDMARKS, TARGETS, FrameModel, frame_features
from screener.keypoints import PoseSequence
from screener.result import AnalysisResult

#: Where the model stands against real video until it is checked (written into every new
#: model's card; ``bench.real_video_agreement --verify-frame-model`` replaces it).
REAL_VIDEO_CHECK = "not yet checked: python -m bench.real_video_agreement --verify-frame-model"
#: Which targets are corrected by default (written into every model's card).
DEFAULT_POLICY = (
    "A target is corrected by default once python -m bench.real_video_agreement "
    "--verify-frame-model finds the model's frame values closer than the geometric angles "
    "to the real Pose2Sim multi-camera reference on every camera it is applied to (at "
    "least two); the others only with frame_model_include_unverified (research)."
)

#: The tasks a frame model reads (``--tasks`` picks some of them).
TASKS: tuple[str, ...] = ("walk", "jog", "sls")

#: Feature blocks that exchange left and right when a clip is mirrored.
_N_LM = len(FEATURE_LANDMARKS)


def _mirror_index() -> np.ndarray:
    """Permutation of the landmarks that exchanges left and right."""
    swap = [
        FEATURE_LANDMARKS.index(
            n.replace("left_", "tmp_").replace("right_", "left_").replace("tmp_", "right_")
        )
        for n in FEATURE_LANDMARKS
    ]
    return np.asarray(swap)


def mirror(features: np.ndarray, targets: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, ...]:
    """The same frames with the subject's left and right exchanged (a mirror image)."""
    n = features.shape[0]
    perm = _mirror_index()
    xy = features[:, : 2 * _N_LM].reshape(n, _N_LM, 2)[:, perm] * np.array([-1.0, 1.0])
    w0 = 2 * _N_LM
    world = features[:, w0 : w0 + 3 * _N_LM].reshape(n, _N_LM, 3)[:, perm]
    world = world * np.array([-1.0, 1.0, 1.0])
    v0 = w0 + 3 * _N_LM
    vis = features[:, v0 : v0 + _N_LM][:, perm]
    angles = features[:, v0 + _N_LM :]
    # obliquity changes sign; left and right FPPA and adduction exchange
    order = [0, 2, 1, 4, 3]
    sign = np.array([-1.0, 1, 1, 1, 1])
    out_features = np.hstack(
        [xy.reshape(n, -1), world.reshape(n, -1), vis, angles[:, order] * sign]
    )
    return out_features, targets[:, order] * sign, mask[:, order]


def analysed_pose(result: AnalysisResult) -> PoseSequence:
    """The landmarks the angles (and the model, in the pipeline) were computed from.

    An analysis result keeps its landmarks in the video's pixels: a roll correction is
    undone for the stills. The pipeline applies the model to the corrected landmarks, so
    the training inputs are corrected the same way (before session 11 they were not: the
    inputs of clips filmed with the phone rolled 1-5 deg differed by that rotation).
    """
    from screener.capture import correct_roll

    applied = float(result.summary["provenance"]["roll_correction"]["applied_deg"] or 0.0)
    return correct_roll(result.pose, -applied) if applied else result.pose


def analysed_clips(
    folders: list[Path], tasks: tuple[str, ...]
) -> Iterator[tuple[Path, dict, pd.DataFrame, AnalysisResult]]:
    """Every clip of ``tasks`` under ``folders``, analysed with its true task, side and
    view and no correction or learned model: ``(truth path, truth json, per-frame truth,
    result)``; a clip the screener refuses is logged and skipped."""
    from screener.config import AnalysisConfig
    from screener.errors import ScreenerError

    config = AnalysisConfig(
        cache_dir=None, corrections_path=None, measurement_errors_path=None, frame_model_path=None
    )
    for truth_path in find_clips(folders):
        truth_json, truth = load_truth(truth_path)
        if truth_json["task"] not in tasks:
            continue
        try:
            result = analyze_as_truth(truth_path, truth_json, config)
        except ScreenerError as exc:
            logging.warning("%s: %s", truth_json["video"], exc.one_line())
            continue
        yield truth_path, truth_json, truth, result


def collect(
    folders: list[Path], tasks: tuple[str, ...] = TASKS
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Features, targets (truth - geometric, degrees), loss mask and clip names per frame,
    over every clip of ``tasks`` under ``folders`` (clip names prefixed with their
    folder's name)."""
    feats, targs, masks, clips = [], [], [], []
    for truth_path, truth_json, truth, result in analysed_clips(folders, tasks):
        frames = result.frames
        x = frame_features(analysed_pose(result), frames, truth_json["view"])
        merged = frames[["frame"]].merge(truth, on="frame", how="left")
        geometric = np.column_stack([frames[c].to_numpy(float) for c in TARGETS])
        true = np.column_stack([merged[c].to_numpy(float) for c in TARGETS])
        stance = {s: merged[f"{s}_in_stance"].to_numpy() > 0 for s in ("left", "right")}
        mask = np.column_stack(
            [
                stance["left"] | stance["right"],
                stance["left"],
                stance["right"],
                stance["left"],
                stance["right"],
            ]
        )
        mask &= np.isfinite(geometric) & np.isfinite(true)
        feats.append(x)
        targs.append(np.where(mask, true - geometric, 0.0))
        masks.append(mask)
        clips += [f"{truth_path.parent.name}/{truth_json['video']}"] * len(x)
    return np.vstack(feats), np.vstack(targs), np.vstack(masks), clips


def train_member(
    x: np.ndarray,
    y: np.ndarray,
    m: np.ndarray,
    seed: int,
    hidden: int,
    epochs: int,
    loss: str = "mse",
    lr: float = 3e-3,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """One MLP (two tanh hidden layers) trained on standardised features; returns weights.

    ``loss``: ``"mse"`` on ``y / 30`` (angles in degrees), or ``"bce"``: ``y`` is 0 or 1
    and the network's output a log-odds; ``m`` masks the rows (and targets) counted.
    """
    import torch

    torch.manual_seed(seed)
    xt = torch.tensor(x, dtype=torch.float32)
    yt = torch.tensor(y if loss == "bce" else y / 30.0, dtype=torch.float32)
    mt = torch.tensor(m, dtype=torch.float32)
    bce = torch.nn.BCEWithLogitsLoss(reduction="none")
    net = torch.nn.Sequential(
        torch.nn.Linear(x.shape[1], hidden),
        torch.nn.Tanh(),
        torch.nn.Linear(hidden, hidden),
        torch.nn.Tanh(),
        torch.nn.Linear(hidden, y.shape[1]),
    )
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(seed)
    n = xt.shape[0]
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, 512):
            idx = perm[start : start + 512]
            pred = net(xt[idx])
            per_row = bce(pred, yt[idx]) if loss == "bce" else (pred - yt[idx]) ** 2
            batch_loss = (per_row * mt[idx]).sum() / mt[idx].sum().clamp(min=1.0)
            opt.zero_grad()
            batch_loss.backward()
            opt.step()
    layers = [mod for mod in net if isinstance(mod, torch.nn.Linear)]
    return [
        (lin.weight.detach().numpy().T.copy(), lin.bias.detach().numpy().copy()) for lin in layers
    ]


def masked_rmse(pred: np.ndarray, y: np.ndarray, m: np.ndarray) -> list[float]:
    """RMSE per target over the masked frames."""
    return [
        float(np.sqrt(np.mean((pred[m[:, k], k] - y[m[:, k], k]) ** 2)))
        for k in range(len(TARGETS))
    ]


def fit_applicability(
    standardised: np.ndarray, val_standardised: dict[str, np.ndarray], explained: float = 0.998
) -> tuple[np.ndarray, np.ndarray, dict]:
    """The training inputs' principal subspace and the distance limit of the model's use.

    The subspace keeps the principal axes of the (standardised) training inputs that
    explain ``explained`` of their variance. A clip's distance is the median over its
    frames of the distance from that subspace; the limit is 1.2 times the largest
    distance among the validation clips (clips the model did not see, inside its
    training ranges).
    """
    centre = standardised.mean(axis=0)
    _, s, vt = np.linalg.svd(standardised - centre, full_matrices=False)
    share = np.cumsum(s**2) / np.sum(s**2)
    k = int(np.searchsorted(share, explained)) + 1
    basis = vt[:k]

    def distance(x: np.ndarray) -> float:
        c = x - centre
        return float(np.median(np.linalg.norm(c - (c @ basis.T) @ basis, axis=1)))

    val_distances = {clip: distance(x) for clip, x in val_standardised.items()}
    largest = max(val_distances.values())
    info = {
        "limit": round(1.2 * largest, 3),
        "n_components": k,
        "explained_variance": explained,
        "largest_validation_distance": round(largest, 3),
        "source": (
            "median distance of a clip's standardised inputs from the principal subspace "
            f"({k} axes, {explained:.1%} of the variance) of the training inputs; limit = "
            f"1.2 x the largest among {len(val_distances)} validation clips ({largest:.2f})"
        ),
    }
    return centre, basis, info


def by_clip(x: np.ndarray, clips: list[str]) -> dict[str, np.ndarray]:
    """Rows of ``x`` grouped by clip name."""
    names = np.asarray(clips)
    return {c: x[names == c] for c in dict.fromkeys(clips)}


def add_applicability(path: Path, train: list[Path], val: list[Path]) -> None:
    """Add (or refit) the applicability check of a model already written, weights kept."""
    from screener.frame_model import load_frame_model

    model = load_frame_model(path)
    x, y, m, _ = collect(train)
    xm, _, _ = mirror(x, y, m)
    xv, _, _, vclips = collect(val)
    centre, basis, info = fit_applicability(
        model.standardise(np.vstack([x, xm])), by_clip(model.standardise(xv), vclips)
    )
    update_model(
        path, {**model.card, "applicability": info}, guard_centre=centre, guard_basis=basis
    )
    print(f"applicability added to {path}: {info['source']}; limit {info['limit']}")


def ensemble_card(
    name: str, targets: Iterable[str], args: argparse.Namespace, clips: list[str]
) -> dict[str, Any]:
    """The card entries every trained ensemble carries: what it is, how it was trained
    (``args`` of :func:`training_parser`) and on what (``clips``: one entry per frame)."""
    return {
        "name": name,
        "version": datetime.now(UTC).strftime("%Y.%m.%d"),
        "targets": list(targets),
        "n_members": args.members,
        "n_layers": 3,
        "hidden": args.hidden,
        "epochs": args.epochs,
        "trained_on": (
            f"{', '.join(map(str, args.train))}: {len(set(clips))} clips, {len(clips)} frames"
            " (+ mirrored)"
        ),
        "validated_on": ", ".join(map(str, args.val)),
    }


def update_model(path: Path, card: dict[str, Any], **arrays: np.ndarray) -> None:
    """Rewrite a model file with a new card (and the given arrays replaced), weights kept."""
    with np.load(path, allow_pickle=False) as data:
        kept = {k: data[k] for k in data.files if k != "card" and k not in arrays}
    np.savez_compressed(path, **kept, **arrays, card=np.asarray(json.dumps(card)))


def standardise_training(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The training inputs' mean and standard deviation, and the inputs standardised
    (missing values at the mean)."""
    mean = np.nanmean(x, axis=0)
    std = np.nanstd(x, axis=0)
    std = np.where(std > 1e-6, std, 1.0)
    return mean, std, np.where(np.isfinite(x), (x - mean) / std, 0.0)


def train_ensemble(
    x: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray,
    args: argparse.Namespace,
    card: dict[str, Any],
    **options: Any,
) -> tuple[FrameModel, np.ndarray]:
    """Standardise the training inputs and train ``args.members`` members on them
    (:func:`train_member`, with ``options``); the model, carrying ``card``, and the
    standardised inputs (for the applicability check)."""
    mean, std, xs = standardise_training(x)
    members = [
        train_member(xs, y, mask, seed, args.hidden, args.epochs, **options)
        for seed in range(args.members)
    ]
    layers = tuple(tuple(member) for member in members)
    return FrameModel(mean=mean, std=std, layers=layers, card=card), xs


def write_model(path: Path, model: FrameModel, centre: np.ndarray, basis: np.ndarray) -> None:
    """Write an ensemble, with its applicability check's subspace, as
    :func:`screener.frame_model.read_ensemble` reads it."""
    arrays = {
        "mean": model.mean,
        "std": model.std,
        "guard_centre": centre,
        "guard_basis": basis,
        "card": np.asarray(json.dumps(model.card)),
    }
    for i, member in enumerate(model.layers):
        for k, (w, b) in enumerate(member):
            arrays[f"m{i}_w{k}"] = w
            arrays[f"m{i}_b{k}"] = b
    np.savez_compressed(path, **arrays)
    print(f"wrote {path}")


def training_parser(doc: str | None, epochs: int) -> argparse.ArgumentParser:
    """The options every ensemble trainer takes."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--train", type=Path, nargs="+", required=True, help="corpus folders")
    parser.add_argument("--val", type=Path, nargs="+", required=True, help="corpus folders")
    parser.add_argument("--write", type=Path, default=None)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=epochs)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = training_parser(__doc__, epochs=150)
    parser.add_argument(
        "--applicability-only",
        type=Path,
        default=None,
        help="add the applicability check to this model file, keeping its weights",
    )
    parser.add_argument(
        "--tasks",
        nargs="+",
        choices=TASKS,
        default=list(TASKS),
        help="train and validate on these tasks' clips only (default: all three)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.applicability_only:
        add_applicability(args.applicability_only, args.train, args.val)
        return 0
    tasks = tuple(args.tasks)
    x, y, m, clips = collect(args.train, tasks)
    xm, ym, mm = mirror(x, y, m)
    x_all, y_all, m_all = np.vstack([x, xm]), np.vstack([y, ym]), np.vstack([m, mm])
    name = "screener frame model"
    if set(tasks) != set(TASKS):
        name += f" ({', '.join(tasks)})"
    card = {
        **ensemble_card(name, TARGETS, args, clips),
        "tasks": list(tasks),
        # the targets corrected by default: none until the real-video check
        # (bench.real_video_agreement --verify-frame-model) finds them closer to it
        "verified_targets": [],
        "real_video_check": REAL_VIDEO_CHECK,
        "default_policy": DEFAULT_POLICY,
    }
    model, xs = train_ensemble(x_all, y_all, m_all, args, card)
    xv, yv, mv, vclips = collect(args.val, tasks)
    pred, _ = model.predict(xv)
    before = masked_rmse(np.zeros_like(yv), yv, mv)
    after = masked_rmse(pred, yv, mv)
    table = pd.DataFrame({"target": TARGETS, "val_rmse_geometric": before, "val_rmse_model": after})
    print(f"train {len(set(clips))} clips / {len(x)} frames; val {len(set(vclips))} clips")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    card["validation_frame_rmse_deg"] = {
        t: round(a, 2) for t, a in zip(TARGETS, after, strict=True)
    }
    card["validation_frame_rmse_geometric_deg"] = {
        t: round(b, 2) for t, b in zip(TARGETS, before, strict=True)
    }
    centre, basis, card["applicability"] = fit_applicability(
        xs, by_clip(model.standardise(xv), vclips)
    )
    if args.write:
        write_model(args.write, model, centre, basis)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
