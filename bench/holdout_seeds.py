"""Check a hold-out's draw against every stored clip before it is rendered.

Usage::

    python -m bench.holdout_seeds --seed 46000 --n 40 --envelope inside FOLDER [FOLDER ...]
        [--split final] [--protocol guide] [--lighting dim] [--exposure 1.0]

The arguments are those of ``python -m screener_synth corpus``: the clips that command
would render are drawn here (:func:`screener_synth.cli.drawn_specs`, nothing rendered) and
each clip's seed, which decides its body, camera and faults, is looked up among the seeds
of every ``*.truth.json`` under the folders (the corpus, sealed hold-outs, the samples).
Prints the clips whose seed a stored clip already has, with that clip, and exits 1 if
any: a hold-out must be clips no model was trained or tuned on (session 23: a run seed
that an exploration set had used was caught only after its render had begun).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def stored_seeds(folders: Iterable[Path]) -> dict[int, list[Path]]:
    """Clip seed -> the truth files that have it, for every ``*.truth.json`` under
    ``folders`` (files without a seed, or not JSON, are skipped with a note)."""
    from bench.accuracy import find_clips

    seeds: dict[int, list[Path]] = {}
    for path in find_clips([Path(folder) for folder in folders]):
        try:
            seed = json.loads(path.read_text()).get("seed")
        except (OSError, json.JSONDecodeError, AttributeError) as exc:
            log.warning("%s: skipped (%s)", path, exc)
            continue
        if seed is not None:
            seeds.setdefault(int(seed), []).append(path)
    return seeds


def clashes(specs: Iterable[Any], stored: dict[int, list[Path]]) -> list[tuple[str, int, Path]]:
    """(clip name, seed, a stored clip with that seed) for each drawn clip already stored."""
    return [
        (spec.name, int(spec.seed), stored[spec.seed][0]) for spec in specs if spec.seed in stored
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.holdout_seeds", description=__doc__)
    parser.add_argument("folders", type=Path, nargs="+", help="folders of stored clips")
    parser.add_argument("--split", choices=("train", "val", "final"), default="final")
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--envelope", choices=("wide", "inside", "outside"), default="inside")
    parser.add_argument("--fps", default=None)
    parser.add_argument("--lighting", choices=("room", "dim", "backlit"), default="room")
    parser.add_argument("--exposure", type=float, default=0.0)
    parser.add_argument("--protocol", choices=("corpus", "guide"), default="corpus")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    from screener_synth.cli import drawn_specs

    specs, folder = drawn_specs(args)
    stored = stored_seeds(args.folders)
    found = clashes(specs, stored)
    print(
        f"seed {args.seed}: {len(specs)} clips drawn for {folder}; "
        f"{sum(len(v) for v in stored.values())} stored clips, {len(stored)} seeds"
    )
    for name, seed, path in found:
        print(f"  {name}: seed {seed} is {path}'s")
    print("no clash" if not found else f"{len(found)} clash(es): choose another --seed")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
