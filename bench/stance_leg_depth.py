"""The stance leg of stored single-leg squats and the lower-looking foot's depth lead.

Prints figures; asserts nothing. Reproduces the choice of
``ChecksConfig.sls_side_nearer_max_m`` (session 48, docs/capture.md, "A lifted foot
nearer the lens"):

1. Every single-leg squat (by its ``truth.json``) under the folders, filmed from the view
   asked for (``--view``, default from behind), is analysed from its stored landmarks with
   ``--side auto``, its view given, and the request under study turned off
   (``checks.sls_side_nearer_max_m`` None): the leg read, the cue that settled it and how
   much nearer the lens the pose model puts that leg's foot
   (``summary.json`` → ``stance_side_detection.nearer_m``), or the request for ``--side``.
2. For each edge of ``--edges``, a leg read from the lower-looking foot (cue
   ``lower_foot``) whose foot is more than the edge nearer becomes a request, as
   ``sls_side_nearer_max_m`` does from behind: right legs, requests and wrong legs per
   edge, all squats and those inside the envelope.

Usage::

    python -m bench.stance_leg_depth FOLDER [...] [--view posterior] [--edges 0.1,0.14]
                                     [--csv OUT.csv]

Session 48's choice::

    python -m bench.stance_leg_depth corpus --edges 0.10,0.12,0.14,0.15,0.16,0.18
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from bench.accuracy import clip_conditions, inside_envelope
from screener.config import AnalysisConfig, ViewChoice
from screener.errors import ScreenerError
from screener.keypoints import PoseSequence
from screener.pipeline import analyze_pose

log = logging.getLogger(__name__)

#: The edges session 48 compared (metres).
EDGES: tuple[float, ...] = (0.10, 0.12, 0.14, 0.15, 0.16, 0.18)


def read_stance_legs(folders: Iterable[Path], view: ViewChoice = "posterior") -> pd.DataFrame:
    """One row per stored single-leg squat filmed from ``view``: the true leg, the leg read
    with ``--side auto`` (``"asked"`` where ``--side`` was asked for, ``"refused"`` for any
    other refusal), the cue, the read foot's depth lead (``nearer_m``), and whether its
    camera lies inside the envelope; the request under study is off."""
    base = AnalysisConfig(cache_dir=None)
    config = base.model_copy(
        update={"checks": base.checks.model_copy(update={"sls_side_nearer_max_m": None})}
    )
    rows = []
    for folder in folders:
        for path in sorted(Path(folder).rglob("*.keypoints.npz")):
            truth = json.loads(
                path.with_name(path.name.replace(".keypoints.npz", ".truth.json")).read_text()
            )
            if truth.get("task") != "sls" or truth.get("view") != view:
                continue
            row = {
                "clip": str(path),
                "true": truth["stance_side"],
                "inside": inside_envelope(truth),
                "elevation_deg": clip_conditions(truth)["elevation_deg"],
            }
            try:
                result = analyze_pose(PoseSequence.load(path), task="sls", view=view, config=config)
            except ScreenerError as exc:
                row.update(read="asked" if "--side" in str(exc) else "refused", cue=None)
                row["nearer_m"] = np.nan
            else:
                detection = result.summary["stance_side_detection"] or {}
                row.update(read=result.summary["stance_side"], cue=detection.get("cue"))
                nearer = detection.get("nearer_m")
                row["nearer_m"] = np.nan if nearer is None else float(nearer)
            rows.append(row)
    return pd.DataFrame(
        rows, columns=["clip", "true", "inside", "elevation_deg", "read", "cue", "nearer_m"]
    )


def outcome(table: pd.DataFrame, edge: float | None) -> pd.Series:
    """Each squat's outcome, ``"right"``, ``"asked"`` (any refusal) or ``"wrong"``, with a
    leg read from the lower-looking foot over ``edge`` metres the nearer turned into a
    request (None: as read)."""
    asked = table["read"].isin(["asked", "refused"])
    if edge is not None:
        asked = asked | ((table["cue"] == "lower_foot") & (table["nearer_m"] > edge))
    right = ~asked & (table["read"] == table["true"])
    return pd.Series(np.where(asked, "asked", np.where(right, "right", "wrong")), index=table.index)


def edge_table(table: pd.DataFrame, edges: Sequence[float]) -> pd.DataFrame:
    """Right legs, requests and wrong legs without the request and at each edge, over all
    squats and over those inside the envelope."""
    rows = []
    for edge in (None, *edges):
        result = outcome(table, edge)
        row: dict[str, object] = {"edge_m": "off" if edge is None else f"{edge:.2f}"}
        for where, mask in (("all", slice(None)), ("inside", table["inside"].to_numpy(bool))):
            counts = result[mask].value_counts()
            for kind in ("right", "asked", "wrong"):
                row[f"{kind}_{where}"] = int(counts.get(kind, 0))
        rows.append(row)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    """Print the depth leads and the edge table; write the per-squat table with ``--csv``."""
    parser = argparse.ArgumentParser(prog="python -m bench.stance_leg_depth")
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--view", choices=("anterior", "posterior"), default="posterior")
    parser.add_argument("--edges", default=",".join(f"{e:.2f}" for e in EDGES))
    parser.add_argument("--csv", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    table = read_stance_legs(args.folders, args.view)
    if args.csv:
        table.to_csv(args.csv, index=False)
    read = outcome(table, None)
    by_foot = table[table["cue"] == "lower_foot"].assign(outcome=read)
    print(f"{len(table)} single-leg squats filmed {args.view} (the request off)")
    print("depth lead of the leg read from the lower-looking foot (m), by outcome:")
    print(by_foot.groupby("outcome")["nearer_m"].describe().round(3).to_string())
    edges = [float(v) for v in args.edges.split(",") if v]
    print("\nright / asked / wrong per edge (a lower-looking foot nearer by more: asked):")
    print(edge_table(table, edges).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
