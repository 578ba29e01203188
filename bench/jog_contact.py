"""The jog's stance timing against the rendered foot's floor contact, per speed limit.

Usage::

    python -m bench.jog_contact [--limits 0.3,0.5,0.8,1.2] FOLDER ...

For every jog in the folders whose truth carries the rendered foot's floor contact
(``t_floor_on_s``, ``t_floor_off_s``: renders by generator 0.2.0, or corpora given them by
``python -m screener_synth floor-contacts``), the screener runs with the task given and
with the jog's stance speed limit (``EventConfig.stance_heel_speed_max_leg_per_s``, leg
lengths per second) set to each value of ``--limits`` in turn. Found stance phases are
matched to the true ones as ``bench/accuracy.py`` matches them; printed per limit: stance
phases with a contact, found, found but unmatched, start and end error (bias, SD, share
within 50 ms) and the share with both within 50 ms.

Session 8 ran it on ``corpus/jogs_lifted_inside`` and the opened hold-outs 8-13
(docs/accuracy.md, "Feet that roll and clear the floor"). The default limit is not
changed by it: an exploration, not a fit.

Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bench.accuracy import analyze_clip, match_events
from screener.config import AnalysisConfig
from screener.errors import ScreenerError


def config_with_jog_limit(limit: float) -> AnalysisConfig:
    """The default configuration with the jog's stance speed limit set to ``limit``."""
    base = AnalysisConfig()
    limits = {**base.events.stance_heel_speed_max_leg_per_s, "jog": limit}
    events = base.events.model_copy(update={"stance_heel_speed_max_leg_per_s": limits})
    return base.model_copy(update={"events": events})


def contact_errors(folders: list[Path], config: AnalysisConfig) -> dict[str, Any]:
    """Start and end errors (s) of the matched stance phases, and the counts."""
    starts: list[float] = []
    ends: list[float] = []
    n_true = n_unmatched = 0
    for folder in folders:
        for truth_path in sorted(folder.glob("jog_*.truth.json")):
            truth = json.loads(truth_path.read_text())
            timed = [
                e
                for e in truth["events"]
                if e.get("t_floor_on_s") is not None and e.get("t_floor_off_s") is not None
            ]
            if not timed:
                continue
            try:
                result = analyze_clip(truth_path, truth, config, task="jog")
            except ScreenerError as exc:
                sys.stdout.write(f"  {truth_path.name}: {exc}\n")
                n_true += len(timed)
                continue
            matched = match_events(result.events, truth)
            n_unmatched += len(result.events) - sum(m is not None for _, m in matched)
            for event, found in matched:
                if event.get("t_floor_on_s") is None or event.get("t_floor_off_s") is None:
                    continue
                n_true += 1
                if found is not None:
                    starts.append(float(found["t_start_s"]) - event["t_floor_on_s"])
                    ends.append(float(found["t_end_s"]) - event["t_floor_off_s"])
    return {
        "n_true": n_true,
        "n_unmatched": n_unmatched,
        "start_s": np.asarray(starts),
        "end_s": np.asarray(ends),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the jog's stance timing per speed limit."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--limits", default="0.3,0.5,0.8,1.2")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    for limit in (float(x) for x in args.limits.split(",")):
        found = contact_errors(args.folders, config_with_jog_limit(limit))
        start_ms, end_ms = 1000 * found["start_s"], 1000 * found["end_s"]
        if start_ms.size == 0:
            sys.stdout.write(f"limit {limit}: no stance phase with a contact found\n")
            continue
        both = np.mean((np.abs(start_ms) <= 50) & (np.abs(end_ms) <= 50))
        sys.stdout.write(
            f"limit {limit:.2f} leg/s: {found['n_true']} stance phases with a contact, "
            f"{start_ms.size} found, {found['n_unmatched']} found unmatched | start "
            f"{start_ms.mean():+.0f} ms (SD {start_ms.std():.0f}), "
            f"{np.mean(np.abs(start_ms) <= 50):.0%} within 50 ms | end {end_ms.mean():+.0f} ms "
            f"(SD {end_ms.std():.0f}), {np.mean(np.abs(end_ms) <= 50):.0%} within 50 ms | "
            f"both {both:.0%}\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
