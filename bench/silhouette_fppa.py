"""Knee FPPA of jogging read with the body's outline: fit, study and validate the model.

Prints figures; asserts nothing. Issue 12 asked whether the body's outline could correct
what the landmarks miss (its "analysis by synthesis", in a first, cheap form); session 27
measured it with this script and shipped the result as a research option
(:mod:`screener.silhouette`, ``screener analyze --research-silhouette``; the numbers in
docs/accuracy.md and ``screener/models/silhouette_fppa.md``):

1. Each clip is analysed as the screener analyses it, from its stored landmarks when a
   landmark folder is given (the corpus keeps landmarks, not videos), with its true task,
   view and side; then MediaPipe's pose model runs again over its video with
   segmentation on, and per frame and leg :func:`screener.silhouette.clip_readings` reads
   knee FPPA with the thigh and shank turned by the outline's edges.
2. Per true event matched to a found one (:func:`bench.accuracy.match_events`): the
   model's inputs (:func:`screener.silhouette.model_inputs`) and the truth
   (:func:`bench.accuracy.truth_event_value`).
3. Development folders (positional): per task and view, each input's RMSE and r against
   the truth, and leave-one-clip-out fits of the truth on the event's knee FPPA alone and
   with the outline's readings (clips with the lens within the envelope's azimuth).
   ``--write-model PATH`` fits the model on them: per view of the jogs, a ridge regression
   (:data:`RIDGE_ALPHA`, inputs standardised, a missing reading replaced by the training
   median) of the truth on all five inputs, written as TOML.
4. ``--validate`` folders: the model (``--model``, default the one just written or the
   shipped one) applied to them, its RMSE beside the event's own knee FPPA, each with a
   95 % clip-resampled interval, and the relative gain with a paired interval.

Usage::

    python -m bench.silhouette_fppa [VIDEO_FOLDER[=LANDMARK_FOLDER] ...]
        [--write-model screener/models/silhouette_fppa.toml]
        [--validate VIDEO_FOLDER[=LANDMARK_FOLDER] ...] [--model PATH] [--csv OUT.csv]

Session 27 (the videos of hold-outs 36-42 kept outside the repository; re-rendering a set
with its seeds, docs/accuracy.md's corpus table, gives them back)::

    python -m bench.silhouette_fppa V36=corpus/final36_inside ... V42=corpus/final42_inside \\
        --write-model screener/models/silhouette_fppa.toml \\
        --validate JOGVAL=JOGVAL_LANDMARKS

where ``JOGVAL`` is ``python -m screener_synth corpus --split val --envelope inside --seed
53000 --n 100 --tasks jog`` (its videos in ``--scratch``, its landmarks in ``--out``).

Notes
-----
On a render the outline is a clean edge of skin or tight clothing; loose clothing moves the
edges, which no render here measures, and no real jog with an independent reference is at
hand. The development figures of step 3 were seen before the recipe was written down; the
validation set was rendered afterwards and scored once.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.accuracy import (
    analyze_clip,
    camera_azimuth_deg,
    find_clips,
    load_truth,
    match_events,
    truth_event_value,
)

#: Ridge penalty on the standardised inputs (the intercept is not penalised).
RIDGE_ALPHA = 1.0
#: Clips whose lens lies farther off the frontal axis are outside the envelope.
AZIMUTH_LIMIT_DEG = 10.0
#: Draws of the clip-resampled intervals.
BOOTSTRAP_DRAWS = 2000


def clip_rows(truth_path: Path, landmark_folder: Path | None) -> list[dict[Any, Any]]:
    """One row per true event matched to a found one: the model's inputs and the truth."""
    from screener import silhouette
    from screener.config import AnalysisConfig

    truth_json, truth = load_truth(truth_path)
    video = truth_path.parent / truth_json["video"]
    choices: dict[str, Any] = {"task": truth_json["task"], "view": truth_json["view"]}
    if truth_json["task"] == "sls":
        choices["side"] = truth_json["stance_side"]
    source = truth_path
    if landmark_folder is not None and (landmark_folder / truth_path.name).exists():
        source = landmark_folder / truth_path.name
    config = AnalysisConfig()
    result = analyze_clip(source, json.loads(source.read_text()), config, **choices)
    size = config.pose.max_long_side_px
    readings = silhouette.clip_readings(
        silhouette.person_masks(video, result.pose, size),
        result.pose,
        silhouette.mask_scale(result.pose, size),
    )
    inputs = silhouette.model_inputs(result.events, result.frames, readings).to_dict("index")
    rows = []
    for event, found in match_events(result.events, truth_json):
        if found is None:
            continue
        rows.append(
            {
                "clip": truth_path.name,
                "folder": str(truth_path.parent),
                "task": truth_json["task"],
                "view": truth_json["view"],
                "side": event["side"],
                "kind": event["kind"],
                "azimuth_deg": camera_azimuth_deg(truth_json["camera"]),
                "truth": truth_event_value(truth, event, "knee_fppa_deg"),
                **inputs[found.name],
            }
        )
    return rows


def collect(specs: list[str], tasks: set[str]) -> pd.DataFrame:
    """The rows of every clip of those tasks under ``VIDEO_FOLDER[=LANDMARK_FOLDER]``."""
    rows: list[dict[str, Any]] = []
    for spec in specs:
        video_folder, _, landmarks = spec.partition("=")
        for truth_path in find_clips([Path(video_folder)]):
            if json.loads(truth_path.read_text())["task"] not in tasks:
                continue
            rows.extend(clip_rows(truth_path, Path(landmarks) if landmarks else None))
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["clip_id"] = table["folder"] + "/" + table["clip"]
    return table


def inside(rows: pd.DataFrame) -> pd.DataFrame:
    """Events inside the envelope's azimuth with a truth and the event's own FPPA."""
    keep = rows["azimuth_deg"].abs() <= AZIMUTH_LIMIT_DEG
    keep &= rows["truth"].notna() & rows["knee_fppa_deg"].notna()
    return rows[keep]


def fit_ridge(rows: pd.DataFrame, features: list[str]) -> dict[str, list[float]]:
    """Ridge fit of the truth on ``features`` (:data:`RIDGE_ALPHA`), as the model stores it."""
    x = rows[features].to_numpy(float)
    fill = np.nanmedian(x, axis=0)
    x = np.where(np.isnan(x), fill, x)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.column_stack([np.ones(len(x)), (x - mean) / scale])
    penalty = RIDGE_ALPHA * np.eye(z.shape[1])
    penalty[0, 0] = 0.0
    coef = np.linalg.solve(z.T @ z + penalty, z.T @ rows["truth"].to_numpy(float))
    return {
        "fill": fill.tolist(),
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "coef": coef.tolist(),
    }


def predict(params: dict[str, list[float]], rows: pd.DataFrame, features: list[str]) -> np.ndarray:
    x = rows[features].to_numpy(float)
    x = np.where(np.isnan(x), np.asarray(params["fill"]), x)
    z = (x - np.asarray(params["mean"])) / np.asarray(params["scale"])
    return np.asarray(params["coef"][0] + z @ np.asarray(params["coef"][1:]))


def loco_rmse(rows: pd.DataFrame, features: list[str]) -> float:
    """RMSE of the ridge fit leaving each clip out in turn."""
    predicted = pd.Series(np.nan, index=rows.index)
    for clip in rows["clip_id"].unique():
        held = rows["clip_id"] == clip
        params = fit_ridge(rows[~held], features)
        predicted[held] = predict(params, rows[held], features)
    return float(np.sqrt(np.mean((predicted - rows["truth"]) ** 2)))


def print_study(rows: pd.DataFrame) -> None:
    """Per task and view: each input's RMSE and r, and the leave-one-clip-out fits."""
    from screener.silhouette import READINGS

    out = sys.stdout
    for (task, view), cell in inside(rows).groupby(["task", "view"]):
        out.write(f"\n{task} {view}: {cell['clip_id'].nunique()} clips, {len(cell)} events\n")
        for name in ("knee_fppa_deg", "knee_fppa_geometric_deg", *READINGS):
            ok = cell[[name, "truth"]].dropna()
            if len(ok) < 5:
                continue
            err = ok[name] - ok["truth"]
            out.write(
                f"  {name:24s} n {len(ok):4d}  RMSE {np.sqrt(np.mean(err**2)):5.2f}  "
                f"bias {err.mean():+5.2f}  r {np.corrcoef(ok[name], ok['truth'])[0, 1]:.2f}\n"
            )
        base = float(np.sqrt(np.mean((cell["knee_fppa_deg"] - cell["truth"]) ** 2)))
        out.write(f"  leave-one-clip-out: event FPPA as read {base:.2f}")
        for label, features in (
            ("refitted alone", ["knee_fppa_deg"]),
            ("+ lateral edges", ["knee_fppa_deg", "sil_lateral"]),
            ("all five inputs", ["knee_fppa_deg", "knee_fppa_geometric_deg", *READINGS]),
        ):
            out.write(f", {label} {loco_rmse(cell, features):.2f}")
        out.write("\n")


def write_model(path: Path, rows: pd.DataFrame, sources: list[str]) -> None:
    """Fit the jog model per view on ``rows`` and write it as TOML."""
    from screener.silhouette import READINGS

    features = ["knee_fppa_deg", "knee_fppa_geometric_deg", *READINGS]
    jogs = inside(rows[rows["task"] == "jog"])
    lines = [
        "# Research: knee FPPA of a jog from the landmarks and the body's outline",
        "# (screener/silhouette.py). Written by `python -m bench.silhouette_fppa --write-model`;",
        "# the card is silhouette_fppa.md. Renders only: never used by the report, flags or plan.",
        'name = "screener silhouette FPPA"',
        f'version = "{date.today().isoformat()}"',
        'task = "jog"',
        f"features = {json.dumps(features)}",
        f"ridge_alpha = {RIDGE_ALPHA}",
        "source = "
        + json.dumps(
            f"fitted on {jogs['clip_id'].nunique()} rendered jogs inside the envelope's "
            f"azimuth ({len(jogs)} stance phases) of {', '.join(sources)}; see "
            "silhouette_fppa.md"
        ),
    ]
    for view, cell in jogs.groupby("view"):
        params = fit_ridge(cell, features)
        lines.append(f"\n[views.{view}]  # {cell['clip_id'].nunique()} clips, {len(cell)} events")
        for key, values in params.items():
            lines.append(f"{key} = [{', '.join(f'{v:.6g}' for v in values)}]")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def rmse_interval(cell: pd.DataFrame, column: str, rng: np.random.Generator) -> tuple[float, ...]:
    """RMSE and its 95 % clip-resampled interval."""
    groups = [g for _, g in cell.groupby("clip_id")]
    draws = []
    for _ in range(BOOTSTRAP_DRAWS):
        pick = pd.concat([groups[i] for i in rng.integers(0, len(groups), len(groups))])
        draws.append(np.sqrt(np.mean((pick[column] - pick["truth"]) ** 2)))
    rmse = float(np.sqrt(np.mean((cell[column] - cell["truth"]) ** 2)))
    return rmse, float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))


def print_validation(rows: pd.DataFrame, model_path: Path) -> None:
    """The model against the event's own FPPA on data it was not fitted on."""
    from screener.silhouette import load_silhouette_model

    model = load_silhouette_model(model_path)
    out = sys.stdout
    out.write(f"\nvalidation, model {model_path} ({model.version})\n")
    jogs = inside(rows[rows["task"] == model.task]).copy()
    for view, cell in jogs.groupby("view"):
        cell = cell.assign(model=model.predict(str(view), cell))
        rng = np.random.default_rng(0)
        out.write(f"{model.task} {view}: {cell['clip_id'].nunique()} clips, {len(cell)} events\n")
        for column in ("knee_fppa_deg", "model"):
            rmse, low, high = rmse_interval(cell, column, rng)
            r = np.corrcoef(cell[column], cell["truth"])[0, 1]
            out.write(f"  {column:14s} RMSE {rmse:5.2f} ({low:.2f}-{high:.2f})  r {r:.2f}\n")
        groups = [g for _, g in cell.groupby("clip_id")]
        gains = []
        for _ in range(BOOTSTRAP_DRAWS):
            pick = pd.concat([groups[i] for i in rng.integers(0, len(groups), len(groups))])
            gains.append(
                1
                - np.sqrt(np.mean((pick["model"] - pick["truth"]) ** 2))
                / np.sqrt(np.mean((pick["knee_fppa_deg"] - pick["truth"]) ** 2))
            )
        gain = 1 - np.sqrt(np.mean((cell["model"] - cell["truth"]) ** 2)) / np.sqrt(
            np.mean((cell["knee_fppa_deg"] - cell["truth"]) ** 2)
        )
        out.write(
            f"  relative gain {gain:.1%} (paired clip-resampled 95 %: "
            f"{np.percentile(gains, 2.5):.1%} to {np.percentile(gains, 97.5):.1%})\n"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", help="VIDEO_FOLDER[=LANDMARK_FOLDER]")
    parser.add_argument("--tasks", default="jog")
    parser.add_argument("--write-model", type=Path)
    parser.add_argument("--validate", nargs="*", default=[])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--csv", type=Path, help="write the development events here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    tasks = set(args.tasks.split(","))
    if args.write_model and not args.folders:
        parser.error("--write-model needs development folders")
    rows = collect(args.folders, tasks)
    if args.csv:
        rows.to_csv(args.csv, index=False)
    if not rows.empty:
        print_study(rows)
    if args.write_model:
        write_model(
            args.write_model, rows, [Path(s.partition("=")[2] or s).name for s in args.folders]
        )
    if args.validate:
        from screener.config import SILHOUETTE_MODEL_PATH

        model_path = args.model or args.write_model or SILHOUETTE_MODEL_PATH
        print_validation(collect(args.validate, tasks), model_path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
