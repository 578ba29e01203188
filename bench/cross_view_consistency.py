"""A check without a reference: do two cameras read the same angle more alike once corrected?

Usage::

    python -m bench.cross_view_consistency REFSIM/series.json [--cameras cam02,cam04]
        [--guard 0.5]

Reads the per-frame series ``bench/reference_on_renders.py`` stores (per body, camera and
metric: the geometric and the model's values and the truth, on the frames compared) and,
per body and metric, asks whether the model's values of the two cameras differ less
(RMS of the per-frame difference) than the geometric ones, and, with ``--guard g``, whether
each camera's corrected series keeps at least ``g`` times the spread (SD) of its geometric
series, so that a correction flattening every reading cannot pass. Each verdict is set
against the truth's (the model closer to the truth than the geometric angle on both
cameras). Session 19 wrote the rule with the guard of 0.5 before computing it
(docs/real_video_agreement.md). Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

METRICS = ("pelvic_obliquity_deg", "hip_adduction_deg", "knee_fppa_deg")


@dataclass(frozen=True)
class Consistency:
    """One body's and metric's verdicts.

    Attributes
    ----------
    geometric_rms_deg, model_rms_deg
        RMS of the two cameras' per-frame difference.
    spread_kept
        Each camera's model SD divided by its geometric SD, the smaller of the two.
    truth_verdict
        The model is closer to the truth than the geometric angle on both cameras.
    """

    geometric_rms_deg: float
    model_rms_deg: float
    spread_kept: float
    truth_verdict: bool

    def verdict(self, guard: float) -> bool:
        """The model agrees better across the cameras and keeps ``guard`` of the spread."""
        return self.model_rms_deg < self.geometric_rms_deg and self.spread_kept >= guard


def _rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


def consistency(first: dict[str, Any], second: dict[str, Any]) -> Consistency | None:
    """The verdicts for one body and metric from two cameras' entries (``values`` with
    ``geometric``, ``model`` and ``truth`` lists on the same frames); None without the
    model's values."""
    a, b = first["values"], second["values"]
    if "model" not in a or "model" not in b:
        return None
    n = min(len(a["geometric"]), len(b["geometric"]))
    series = {
        (cam, key): np.asarray(values[key][:n], dtype=float)
        for cam, values in (("a", a), ("b", b))
        for key in ("geometric", "model", "truth")
    }
    ok = np.all([np.isfinite(s) for s in series.values()], axis=0)
    s = {k: v[ok] for k, v in series.items()}
    kept = min(
        float(np.std(s[(c, "model")]) / np.std(s[(c, "geometric")]))
        if np.std(s[(c, "geometric")]) > 0
        else float("inf")
        for c in ("a", "b")
    )
    truth = all(
        _rmse(s[(c, "model")], s[(c, "truth")]) < _rmse(s[(c, "geometric")], s[(c, "truth")])
        for c in ("a", "b")
    )
    return Consistency(
        geometric_rms_deg=_rmse(s[("a", "geometric")], s[("b", "geometric")]),
        model_rms_deg=_rmse(s[("a", "model")], s[("b", "model")]),
        spread_kept=kept,
        truth_verdict=truth,
    )


def tally(
    series: dict[str, Any], cameras: tuple[str, str], guard: float
) -> dict[str, dict[str, int]]:
    """Per metric: bodies judged, passing with and without the guard, passing by the
    truth, and verdicts agreeing with the truth's with and without the guard."""
    out: dict[str, dict[str, int]] = {}
    for metric in METRICS:
        counts = dict.fromkeys(
            ("bodies", "pass", "pass_no_guard", "truth", "agree", "agree_no_guard"), 0
        )
        for cams in series.values():
            if not all(metric in cams.get(c, {}) for c in cameras):
                continue
            result = consistency(cams[cameras[0]][metric], cams[cameras[1]][metric])
            if result is None:
                continue
            with_guard, without = result.verdict(guard), result.verdict(0.0)
            counts["bodies"] += 1
            counts["pass"] += with_guard
            counts["pass_no_guard"] += without
            counts["truth"] += result.truth_verdict
            counts["agree"] += with_guard == result.truth_verdict
            counts["agree_no_guard"] += without == result.truth_verdict
        out[metric] = counts
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("series", type=Path)
    parser.add_argument("--cameras", default="cam02,cam04")
    parser.add_argument("--guard", type=float, default=0.5)
    args = parser.parse_args(argv)
    first, second = args.cameras.split(",")
    counts = tally(json.loads(args.series.read_text()), (first, second), args.guard)
    for metric, c in counts.items():
        print(
            f"{metric}: {c['bodies']} bodies; truth says closer on both cameras {c['truth']}; "
            f"consistency passes {c['pass_no_guard']} (agrees {c['agree_no_guard']}), "
            f"with the guard {args.guard:g} {c['pass']} (agrees {c['agree']})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
