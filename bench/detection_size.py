"""How often MediaPipe finds the person, against the body's share of the picture's long side.

Prints figures; asserts nothing. For every stored corpus clip (``corpus/*/NAME.truth.json``
with its ``NAME.keypoints.npz`` and ``NAME.truth.csv.gz``), each frame's rendered body
height (``body_bottom_px - body_top_px`` of the truth, from the posed mesh) over the
picture's long side is paired with MediaPipe's detection flag for that frame, and the
detection rate is printed per size bin and per orientation.

Usage::

    python -m bench.detection_size [CORPUS_FOLDER]

Notes
-----
MediaPipe's person detector sees the whole picture letterboxed to a square, so the body's
share of the long side, not its pixel count, is what it depends on. The renders are
360 x 640; phones' larger frames are scaled down to the same detector input. This is
where ``ChecksConfig.small_body_long_side_fraction`` comes from (docs/capture.md).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
BINS = [0.0, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.8, 1.0]


def frame_sizes(corpus: Path) -> pd.DataFrame:
    """One row per frame of every clip: orientation, body share of the long side, found."""
    rows = []
    for truth_path in sorted(corpus.glob("*/*.truth.json")):
        base = truth_path.with_name(truth_path.name.removesuffix(".truth.json"))
        keypoints = base.with_name(base.name + ".keypoints.npz")
        frames_csv = base.with_name(base.name + ".truth.csv.gz")
        if not keypoints.exists() or not frames_csv.exists():
            continue
        truth = json.loads(truth_path.read_text())
        frames = pd.read_csv(frames_csv)
        if "body_top_px" not in frames:
            continue
        long_side = max(truth["frame_size_upright"])
        size = (frames["body_bottom_px"] - frames["body_top_px"]).to_numpy() / long_side
        detected = np.load(keypoints)["detected"][: size.size]
        rows.append(
            pd.DataFrame({"orientation": truth["orientation"], "size": size, "found": detected})
        )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=REPO / "corpus")
    args = parser.parse_args(argv)
    frames = frame_sizes(args.corpus)
    if frames.empty:
        print(f"no corpus clip with keypoints and truth under {args.corpus}")
        return 1
    frames["body / long side"] = pd.cut(frames["size"], BINS)
    table = frames.groupby("body / long side", observed=True)["found"].agg(["mean", "size"])
    table.columns = ["found", "frames"]
    print(f"{len(frames)} frames")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    print(frames.groupby("orientation")["found"].mean().to_string(float_format="{:.3f}".format))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
