"""Train a learned event model (screener/event_model.py) on a corpus; time it on another.

Usage (needs the synth extra's torch for training; the models run with numpy)::

    python -m bench.train_event_model --train corpus/train --val corpus/val
        [--kind stance|rep] [--write screener/models/event_model.npz] [--members 5]

``--kind stance`` (the default): the stance model of walks and jogs.

Every walk and jog is analysed with its true task, side and view, no correction and no
learned model; each frame and foot gives the inputs of
:func:`screener.event_model.contact_features` and, as target, whether the rendered foot
touches the floor: 1 between the posed mesh's floor contact and its toe-off
(``t_floor_on_s``, ``t_floor_off_s`` of the truth's stance events), 0 elsewhere. Frames
around a labelled stance whose contact is not seen (cut by the clip's edge) are left out.
Left and right feet are read by the same network (the inputs are turned so that the
foot's own side is positive). An ensemble of small MLPs (tanh) is trained by Adam on the
binary cross-entropy; each clip has its own body and camera, so the split by clip is
leave-body-out and leave-camera-out.

Printed, on the validation corpus: per task, the stance phases whose start and end are
both within 50 ms of the rendered foot's contact and toe-off, for the stance rule
(:func:`screener.events.detect_stance`) and for the model
(:func:`screener.event_model.find_stance`), over the clips' phases away from their edges
and over all of them.

``--kind rep``: the squat repetition model. Each single-leg squat gives, per frame, the
inputs of :func:`screener.event_model.rep_features` for its stance leg and, as target,
whether the frame lies within a labelled repetition (from the knee starting to bend to
its return straight, as the generator labels it); frames more than
:data:`UNSEEN_MARGIN_S` + 0.25 s before the first or after the last labelled repetition
are left out (a repetition cut by the clip's edge is not labelled). Printed: the
repetitions whose start and end are both within 50 ms of the labels, for the rule
(:func:`screener.events.detect_sls_reps`) and with the model's edges
(:func:`screener.event_model.refine_rep_edges`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from bench.accuracy import EDGE_S, match_events
from bench.train_frame_model import (
    analysed_clips,
    analysed_pose,
    by_clip,
    fit_applicability,
    train_ensemble,
    training_parser,
    write_model,
)
from screener.cleaning import true_runs
from screener.event_model import (
    CONTACT_TARGETS,
    REP_TARGETS,
    REP_WINDOW_OFFSETS_S,
    TASKS,
    WINDOW_OFFSETS_S,
    contact_features,
    find_stance,
    refine_rep_edges,
    rep_features,
)
from screener.events import Span, detect_sls_reps, detect_stance, stance_spans
from screener.frame_model import FrameModel
from screener.keypoints import PoseSequence
from screener.landmarks import SIDES
from screener_synth.contact import posing_artefact

#: Where the model stands against real video (written into the model's card).
REAL_VIDEO_CHECK = (
    "the woman walking across real_videos/sports2d_demo/demo.mp4 (30 fps, a side view, "
    "outside the envelope), heel strikes read from the pixels and toe-offs labelled by eye "
    "(python -m bench.real_walk_events; docs/accuracy.md)"
)
#: Frames this long before and after a labelled stance whose floor contact is not seen
#: are left out of the training targets (the contact may start or end anywhere there).
UNSEEN_MARGIN_S = 0.25
#: Walks rendered before screener_synth 0.3.0 raise the heel only in double support,
#: 90-145 ms before toe-off (a real walker: 100-467 ms, median 283). ``--older-walks
#: mask`` leaves out of their targets this much before each toe-off and
#: :data:`AFTER_TOE_OFF_S` after it, where their feet move unlike a real walker's.
TERMINAL_STANCE_S = 0.35
AFTER_TOE_OFF_S = 0.1
#: The first generator version whose walking heel rises from terminal stance.
HEEL_RISE_VERSION = (0, 3, 0)
#: The timing tolerance scored (s).
TOLERANCE_S = 0.05


@dataclass
class Clip:
    """One analysed clip: its landmarks, truth and the training rows per leg (both feet
    for the stance model, the stance leg for the squat model)."""

    name: str
    task: str
    truth_json: dict
    pose: PoseSequence
    features: dict[str, np.ndarray]
    contact: dict[str, np.ndarray]
    known: dict[str, np.ndarray]


def contact_truth(
    truth_json: dict,
    time_s: np.ndarray,
    in_stance: dict[str, np.ndarray],
    posing_artefacts: str = "keep",
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per foot and frame: on the floor (1.0) or not, and whether that is known.

    The floor contact of each labelled stance event (``t_floor_on_s`` to
    ``t_floor_off_s``) is contact; a labelled stance run (``*_in_stance``) without a seen
    contact (cut by the clip's edge, or with the foot off the floor at its middle) is
    unknown, with :data:`UNSEEN_MARGIN_S` on each side; every other frame is swing.
    ``posing_artefacts="mask"`` treats a contact the generator's posing made
    (:func:`screener_synth.contact.posing_artefact`: a swing dragged along the floor, a
    loaded walking foot lifted in mid-stance) as not seen; ``"keep"`` uses it as it is.
    """
    events = truth_json.get("events", [])
    untimed = {
        k
        for k in range(len(events))
        if posing_artefacts == "mask" and posing_artefact(events, k, truth_json["task"])
    }
    contact, known = {}, {}
    for side in SIDES:
        y = np.zeros(time_s.size)
        ok = np.ones(time_s.size, dtype=bool)
        windows = [
            (float(ev["t_floor_on_s"]), float(ev["t_floor_off_s"]))
            for k, ev in enumerate(events)
            if ev["kind"] == "stance"
            and ev["side"] == side
            and ev.get("t_floor_on_s") is not None
            and k not in untimed
        ]
        for on, off in windows:
            y[(time_s >= on - 1e-9) & (time_s <= off + 1e-9)] = 1.0
        for a, b in true_runs(np.nan_to_num(in_stance[side]) > 0):
            t0, t1 = time_s[a], time_s[b - 1]
            if not any(on <= t1 and off >= t0 for on, off in windows):
                ok[(time_s > t0 - UNSEEN_MARGIN_S) & (time_s < t1 + UNSEEN_MARGIN_S)] = False
        contact[side], known[side] = y, ok
    return contact, known


def rep_truth(truth_json: dict, time_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: within a labelled squat repetition (1.0) or not, and whether known."""
    reps = [ev for ev in truth_json.get("events", []) if ev["kind"] == "rep"]
    y = np.zeros(time_s.size)
    for ev in reps:
        y[(time_s >= ev["t_start_s"]) & (time_s <= ev["t_end_s"])] = 1.0
    if not reps:
        return y, np.zeros(time_s.size, dtype=bool)
    margin = 2 * UNSEEN_MARGIN_S
    first = min(ev["t_start_s"] for ev in reps) - margin
    last = max(ev["t_end_s"] for ev in reps) + margin
    return y, (time_s >= first) & (time_s <= last)


def heel_rises_late(truth_json: dict) -> bool:
    """True for a walk rendered before the heel rose in terminal stance (generator < 0.3.0)."""
    version = truth_json.get("generator", {}).get("version", "0.0.0")
    return truth_json["task"] == "walk" and (
        tuple(int(v) for v in version.split(".")) < HEEL_RISE_VERSION
    )


def mask_terminal_stance(
    truth_json: dict, time_s: np.ndarray, known: dict[str, np.ndarray]
) -> None:
    """Mark each seen toe-off's surroundings unknown (see :data:`TERMINAL_STANCE_S`)."""
    for ev in truth_json.get("events", []):
        if ev["kind"] != "stance" or ev.get("t_floor_off_s") is None:
            continue
        off = float(ev["t_floor_off_s"])
        inside = (time_s >= off - TERMINAL_STANCE_S) & (time_s <= off + AFTER_TOE_OFF_S)
        known[ev["side"]][inside] = False


def collect(
    folders: list[Path],
    kind: str = "stance",
    older_walks: str = "keep",
    posing_artefacts: str = "keep",
) -> list[Clip]:
    """Every walk and jog (``kind="stance"``) or single-leg squat (``"rep"``) under
    ``folders``, analysed as the module's notes describe.

    ``older_walks``: what to do with walks rendered before screener_synth 0.3.0: "keep"
    them, "drop" them, or "mask" their terminal stance (:func:`mask_terminal_stance`).
    ``posing_artefacts``: as :func:`contact_truth` takes it.
    """
    clips = []
    tasks = TASKS if kind == "stance" else ("sls",)
    for truth_path, truth_json, truth, result in analysed_clips(folders, tasks):
        late = kind == "stance" and heel_rises_late(truth_json)
        if late and older_walks == "drop":
            continue
        pose = analysed_pose(result)
        if kind == "rep":
            side = truth_json["stance_side"]
            y, ok = rep_truth(truth_json, pose.time_s)
            features = {side: rep_features(pose, side)}
            contact, known = {side: y}, {side: ok}
        else:
            merged = result.frames[["frame"]].merge(truth, on="frame", how="left")
            in_stance = {s: merged[f"{s}_in_stance"].to_numpy(float) for s in SIDES}
            contact, known = contact_truth(truth_json, pose.time_s, in_stance, posing_artefacts)
            if late and older_walks == "mask":
                mask_terminal_stance(truth_json, pose.time_s, known)
            features = {s: contact_features(pose, s, truth_json["task"]) for s in SIDES}
        name = f"{truth_path.parent.name}/{truth_json['video']}"
        clips.append(Clip(name, truth_json["task"], truth_json, pose, features, contact, known))
    return clips


def training_rows(clips: list[Clip]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Inputs, targets, mask and clip name per frame and leg."""
    x = np.vstack([f for c in clips for f in c.features.values()])
    y = np.concatenate([c.contact[s] for c in clips for s in c.features])[:, None]
    m = np.concatenate([c.known[s] for c in clips for s in c.features])[:, None]
    names = [c.name for c in clips for _ in c.features for _ in range(c.pose.n_frames)]
    return x, y, m, names


def score_spans(clip: Clip, spans: list[Span]) -> list[dict]:
    """Each true stance phase with a seen floor contact against the found phase matched
    to it as :func:`bench.accuracy.match_events` matches them."""
    t = clip.pose.time_s
    found = pd.DataFrame(
        [
            {
                "kind": span.kind,
                "side": span.side,
                "t_start_s": float(t[span.start] if span.t_start_s is None else span.t_start_s),
                "t_end_s": float(t[span.stop - 1] if span.t_end_s is None else span.t_end_s),
            }
            for span in spans
        ],
        columns=["kind", "side", "t_start_s", "t_end_s"],
    )
    rows = []
    events = clip.truth_json.get("events", [])
    for k, (ev, best) in enumerate(match_events(found, clip.truth_json)):
        if ev["kind"] != "stance" or ev.get("t_floor_on_s") is None:
            continue
        if posing_artefact(events, k, clip.task) is not None:
            continue
        rows.append(
            {
                "clip": clip.name,
                "task": clip.task,
                "near_edge": ev["t_start_s"] < EDGE_S or ev["t_end_s"] > t[-1] - EDGE_S,
                "start_error_s": np.nan if best is None else best.t_start_s - ev["t_floor_on_s"],
                "end_error_s": np.nan if best is None else best.t_end_s - ev["t_floor_off_s"],
            }
        )
    return rows


def timing_table(rows: list[dict]) -> pd.DataFrame:
    """Per task: phases, found, start and end within :data:`TOLERANCE_S` (away from the
    clip's edges, and all), biases and SDs."""
    log = pd.DataFrame(rows)
    log["both"] = (log.start_error_s.abs() <= TOLERANCE_S) & (log.end_error_s.abs() <= TOLERANCE_S)
    out = []
    for task, sub in log.groupby("task"):
        inner = sub[~sub.near_edge]
        out.append(
            {
                "task": task,
                "phases": len(sub),
                "found": f"{sub.start_error_s.notna().mean():.0%}",
                f"both within 50 ms, {EDGE_S:g} s from the edges": f"{inner.both.mean():.0%}"
                f" of {len(inner)}",
                "both within 50 ms, all": f"{sub.both.mean():.0%}",
                "start bias/SD ms": f"{1000 * sub.start_error_s.mean():+.0f}/"
                f"{1000 * sub.start_error_s.std():.0f}",
                "end bias/SD ms": f"{1000 * sub.end_error_s.mean():+.0f}/"
                f"{1000 * sub.end_error_s.std():.0f}",
            }
        )
    return pd.DataFrame(out)


def rep_timing_table(rows: list[tuple[float, float]]) -> pd.DataFrame:
    """Repetitions found, start and end within :data:`TOLERANCE_S` of the labels."""
    errors = np.array(rows, dtype=float).reshape(-1, 2)
    both = (np.abs(errors) <= TOLERANCE_S).all(axis=1)
    return pd.DataFrame(
        [
            {
                "repetitions": len(errors),
                "found": f"{np.isfinite(errors[:, 0]).mean():.0%}",
                "both within 50 ms": f"{both.mean():.0%}",
                "start bias/SD ms": f"{1000 * np.nanmean(errors[:, 0]):+.0f}/"
                f"{1000 * np.nanstd(errors[:, 0]):.0f}",
                "end bias/SD ms": f"{1000 * np.nanmean(errors[:, 1]):+.0f}/"
                f"{1000 * np.nanstd(errors[:, 1]):.0f}",
            }
        ]
    )


def compare_rep_timing(clips: list[Clip], model: FrameModel) -> dict[str, pd.DataFrame]:
    """The rule's repetitions on ``clips``, with its edges and the model's, against the
    labels (each labelled repetition matched to the found one nearest its deepest point)."""
    from screener.config import AnalysisConfig

    config = AnalysisConfig().events
    rule_rows: list[tuple[float, float]] = []
    model_rows: list[tuple[float, float]] = []
    for clip in clips:
        side = clip.truth_json["stance_side"]
        t = clip.pose.time_s
        spans = detect_sls_reps(clip.pose, side, config)
        refined, _ = refine_rep_edges(clip.pose, side, spans, model)
        peaks = np.array([t[s.peak] if s.peak is not None else np.nan for s in spans])
        for ev in clip.truth_json.get("events", []):
            if ev["kind"] != "rep":
                continue
            if not np.isfinite(peaks).any():
                rule_rows.append((np.nan, np.nan))
                model_rows.append((np.nan, np.nan))
                continue
            k = int(np.nanargmin(np.abs(peaks - ev["t_peak_s"])))
            for rows, span in ((rule_rows, spans[k]), (model_rows, refined[k])):
                start = t[span.start] if span.t_start_s is None else span.t_start_s
                end = t[span.stop - 1] if span.t_end_s is None else span.t_end_s
                rows.append((start - ev["t_start_s"], end - ev["t_end_s"]))
    return {"rule": rep_timing_table(rule_rows), "rep model": rep_timing_table(model_rows)}


def compare_timing(clips: list[Clip], model: FrameModel) -> dict[str, pd.DataFrame]:
    """The stance rule's and the model's phases on ``clips`` against the floor contact."""
    from screener.config import AnalysisConfig

    config = AnalysisConfig().events
    rule_rows, model_rows = [], []
    for clip in clips:
        masks = detect_stance(clip.pose, clip.task, config)
        rule_rows += score_spans(clip, stance_spans(masks, clip.pose.time_s, config))
        learned = find_stance(clip.pose, clip.task, model, config)
        model_rows += score_spans(clip, learned.spans)
    return {"stance rule": timing_table(rule_rows), "event model": timing_table(model_rows)}


def main(argv: list[str] | None = None) -> int:
    parser = training_parser(__doc__, epochs=30)
    parser.add_argument("--kind", choices=("stance", "rep"), default="stance")
    parser.add_argument(
        "--older-walks",
        choices=("keep", "mask", "drop"),
        default="keep",
        help="training walks rendered before screener_synth 0.3.0 (heel rising only in "
        "double support): keep them, mask their terminal stance, or leave them out",
    )
    parser.add_argument(
        "--posing-artefacts",
        choices=("keep", "mask"),
        default="keep",
        help="stance contacts made by the generator's posing (a swing dragged along the "
        "floor, a loaded walking foot lifted in mid-stance: "
        "screener_synth.contact.posing_artefact): keep them as targets, or leave them out",
    )
    parser.set_defaults(hidden=128)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    train = collect(args.train, args.kind, args.older_walks, args.posing_artefacts)
    x, y, m, names = training_rows(train)
    stance = args.kind == "stance"
    card = {
        "name": "screener event model" if stance else "screener squat repetition model",
        "version": datetime.now(UTC).strftime("%Y.%m.%d"),
        "targets": list(CONTACT_TARGETS if stance else REP_TARGETS),
        "tasks": list(TASKS if stance else ("sls",)),
        "window_offsets_s": list(WINDOW_OFFSETS_S if stance else REP_WINDOW_OFFSETS_S),
        "n_members": args.members,
        "n_layers": 3,
        "hidden": args.hidden,
        "epochs": args.epochs,
        "trained_on": (
            f"{', '.join(map(str, args.train))}: {len(train)} clips, "
            f"{int(m.sum())} frames with a known target; walks rendered before "
            f"screener_synth 0.3.0: {args.older_walks}; the posing's dragged and lifted "
            f"contacts: {args.posing_artefacts}"
        ),
        "validated_on": ", ".join(map(str, args.val)),
        "real_video_check": REAL_VIDEO_CHECK,
    }
    # no applicability check: the validation clips are scored whatever their distance
    model, xs = train_ensemble(x, y, m, args, card, loss="bce", lr=1e-3)
    val = collect(args.val, args.kind)
    xv, _, _, vnames = training_rows(val)
    centre, basis, card["applicability"] = fit_applicability(
        xs, by_clip(model.standardise(xv), vnames)
    )
    print(f"train {len(train)} clips / {len(names)} rows; val {len(val)} clips")
    tables = compare_timing(val, model) if stance else compare_rep_timing(val, model)
    against = "the rendered foot's floor contact" if stance else "the labelled repetitions"
    for label, table in tables.items():
        print(f"{label} (validation), against {against}:")
        print(table.to_string(index=False))
    card["validation_timing"] = {
        label: table.to_dict(orient="records") for label, table in tables.items()
    }
    if args.write:
        write_model(args.write, model, centre, basis)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
