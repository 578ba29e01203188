"""A task's stance timing against the rendered foot's floor contact, per speed limit.

Usage::

    python -m bench.stance_contact [--task jog|walk] [--limits 0.3,0.5,0.8,1.2] FOLDER ...
    python -m bench.stance_contact --task walk --breakdown FOLDER ...

For every clip of the task (default: jog) in the folders whose truth carries the
rendered foot's floor contact
(``t_floor_on_s``, ``t_floor_off_s``: renders by generator 0.2.0, or corpora given them by
``python -m screener_synth floor-contacts``), the screener runs with the task given and
with its stance speed limit (``EventConfig.stance_heel_speed_max_leg_per_s``, leg
lengths per second) set to each value of ``--limits`` in turn. Found stance phases are
matched and timed as ``bench/accuracy.py`` does (:func:`bench.accuracy.compare_events`,
:func:`bench.accuracy.report_floor_timing`): per limit, the stance phases found, and
against the rendered contact the shares of every true stance phase whose start, end or
both are within 50 ms, with the biases and SDs of the found ones.

Session 8 ran it on ``corpus/jogs_lifted_inside`` and the opened hold-outs 8-13
(docs/accuracy.md, "Feet that roll and clear the floor"); session 9 with ``--task walk``
on ``corpus/walks_roll_inside``, the opened hold-outs 8-14 and ``corpus/val`` ("Stance
timing on a real walk"). The default limits are not changed by it: an exploration, not
a fit.

``--breakdown`` screens the clips once with the default settings and prints where the
timing misses: per view and per frame rate the share of found stance phases with start
and end within 50 ms of the contact and the biases and SDs, and the percentiles of the
start and end errors (session 19, docs/accuracy.md).

Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from bench.accuracy import Tally, analyze_clip, compare_events, load_truth, report_floor_timing
from screener.config import AnalysisConfig
from screener.errors import ScreenerError


def config_with_stance_limit(limit: float, task: str = "jog") -> AnalysisConfig:
    """The default configuration with ``task``'s stance speed limit set to ``limit``."""
    base = AnalysisConfig()
    limits = {**base.events.stance_heel_speed_max_leg_per_s, task: limit}
    events = base.events.model_copy(update={"stance_heel_speed_max_leg_per_s": limits})
    return base.model_copy(update={"events": events})


def tally_stances(folders: list[Path], config: AnalysisConfig, task: str = "jog") -> Tally:
    """The clips of ``task`` with a rendered floor contact, screened with ``config`` and
    compared as :func:`bench.accuracy.compare_events` compares them."""
    tally = Tally()
    for folder in folders:
        for truth_path in sorted(folder.glob(f"{task}_*.truth.json")):
            truth_json, truth = load_truth(truth_path)
            if not any(e.get("t_floor_on_s") is not None for e in truth_json["events"]):
                continue
            try:
                result = analyze_clip(truth_path, truth_json, config, task=task)
            except ScreenerError as exc:
                sys.stdout.write(f"  {truth_path.name}: {exc}\n")
                continue
            compare_events(tally, result.events, truth_json, truth)
    return tally


def floor_breakdown(tally: Tally) -> dict[str, pd.DataFrame]:
    """Where the found stance phases miss the rendered contact: ``"view"`` and ``"fps"``
    tables (phases, share with start and end within 50 ms, start and end bias and SD, s)
    and ``"percentiles"`` of the start and end errors (s). The view and frame rate are
    read from the clip's name (``walk_ante_30fps_...``)."""
    log = pd.DataFrame(tally.floor_log, columns=["clip", "task", "edge", "start", "end"])
    found = log[np.isfinite(log["start"]) & np.isfinite(log["end"])].copy()
    found["view"] = np.where(found["clip"].str.contains("_ante_"), "anterior", "posterior")
    found["fps"] = found["clip"].str.extract(r"_(\d+)fps")[0].astype(float)
    found["both_50ms"] = (found["start"].abs() <= 0.05) & (found["end"].abs() <= 0.05)
    stats = {
        "phases": ("both_50ms", "size"),
        "both_50ms": ("both_50ms", "mean"),
        "start_bias_s": ("start", "mean"),
        "start_sd_s": ("start", "std"),
        "end_bias_s": ("end", "mean"),
        "end_sd_s": ("end", "std"),
    }
    percentiles = found[["start", "end"]].quantile([0.05, 0.25, 0.5, 0.75, 0.95])
    return {
        "view": found.groupby("view").agg(**stats),
        "fps": found.groupby("fps").agg(**stats),
        "percentiles": percentiles,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the task's stance timing per speed limit."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--task", choices=("jog", "walk"), default="jog")
    parser.add_argument("--limits", default="0.3,0.5,0.8,1.2")
    parser.add_argument(
        "--breakdown", action="store_true", help="default settings: where the timing misses"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if args.breakdown:
        tally = tally_stances(args.folders, AnalysisConfig(), args.task)
        report_floor_timing(tally)
        for name, table in floor_breakdown(tally).items():
            sys.stdout.write(f"\n{name}:\n{table.to_string(float_format=lambda v: f'{v:.3f}')}\n")
        return 0
    for limit in (float(x) for x in args.limits.split(",")):
        tally = tally_stances(args.folders, config_with_stance_limit(limit, args.task), args.task)
        sys.stdout.write(
            f"\nlimit {limit:.2f} leg/s: {tally.events_found} of {tally.events_true} "
            "stance phases found\n"
        )
        sys.stdout.flush()
        report_floor_timing(tally)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
