"""Command line: ``python -m screener_synth generate --out DIR --set samples|holdout --seed N``."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from pathlib import Path
from typing import Any


def drawn_specs(args: argparse.Namespace) -> tuple[list[Any], str]:
    """The clips ``corpus`` and ``floor-contacts`` draw from their arguments, and the
    corpus sub-folder they go to."""
    from screener_synth.sets import (
        CORPUS_SEEDS,
        corpus_specs,
        with_frame_scale,
        with_lighting,
        with_other_leg,
        with_protocol,
    )

    rates = tuple(float(v) for v in args.fps.split(",")) if args.fps else ()
    specs = corpus_specs(args.split, args.n, args.seed, args.envelope, rates)
    folder = args.split if args.envelope == "wide" else f"{args.split}_{args.envelope}"
    lighting = getattr(args, "lighting", "room")
    if lighting != "room":
        seed = CORPUS_SEEDS[args.split] if args.seed is None else args.seed
        specs = with_lighting(specs, lighting, seed)
        folder = f"{folder}_{lighting}"
    exposure = getattr(args, "exposure", 0.0)
    if exposure > 0:
        specs = [dataclasses.replace(spec, exposure=exposure) for spec in specs]
        folder = f"{folder}_exposure{round(100 * exposure):03d}"
    scale = getattr(args, "frame_scale", 1)
    if scale != 1:
        specs = with_frame_scale(specs, scale)
        folder = f"{folder}_x{scale}"
    protocol = getattr(args, "protocol", "corpus")
    if protocol != "corpus":
        seed = CORPUS_SEEDS[args.split] if args.seed is None else args.seed
        specs = with_protocol(specs, protocol, seed)
        folder = f"{folder}_{protocol}"
    if getattr(args, "other_leg", False):
        specs = with_other_leg(specs)
        folder = f"{folder}_otherleg"
    return specs, folder


def _frame_scale(text: str) -> int:
    """``--frame-scale``: a whole number from 1 to 6."""
    value = int(text)
    if not 1 <= value <= 6:
        raise argparse.ArgumentTypeError(f"frame scale must be 1-6, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Render a clip set with its truth files; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m screener_synth")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="render a set of clips with truth files")
    gen.add_argument("--out", type=Path, required=True, help="output folder")
    gen.add_argument("--set", choices=("samples", "holdout", "tune"), default="samples")
    gen.add_argument(
        "--seed", type=int, default=None, help="default: 1 (samples), 100 (holdout), 200 (tune)"
    )
    gen.add_argument(
        "--only", nargs="*", default=None, help="render only clips whose name contains one of these"
    )
    gen.add_argument(
        "--per-task", type=int, default=4, help="holdout, tune: clips per task configuration"
    )
    gen.add_argument("--crf", type=int, default=26, help="x264 CRF (higher = smaller files)")
    corp = sub.add_parser("corpus", help="render a training/validation/final corpus of landmarks")
    corp.add_argument("--split", choices=("train", "val", "final"), required=True)
    corp.add_argument("--n", type=int, required=True, help="clips in the split")
    corp.add_argument("--out", type=Path, default=Path("corpus"), help="corpus folder")
    corp.add_argument("--scratch", type=Path, default=Path("corpus_videos"), help="video folder")
    corp.add_argument("--seed", type=int, default=None)
    corp.add_argument("--shard", default="0/1", help="K/N: build every N-th clip from the K-th")
    corp.add_argument(
        "--envelope",
        choices=("wide", "inside", "outside"),
        default="wide",
        help="camera ranges: the corpus' wide ones, or inside/outside the validated envelope",
    )
    corp.add_argument(
        "--fps",
        default=None,
        help="comma-separated frame rates given to the clips in turn (e.g. 120,240) instead "
        "of the corpus' 24-60 fps draw; every other draw is unchanged",
    )
    corp.add_argument(
        "--tasks",
        default=None,
        help="comma-separated tasks to build (e.g. walk); the others are drawn but not "
        "rendered, so every clip is the one the full corpus would have",
    )
    corp.add_argument(
        "--lighting",
        choices=("room", "dim", "backlit"),
        default="room",
        help="the corpus' evenly lit room, or a dim room (gain noise) or a bright window "
        "behind the subject (screener_synth.sets.LIGHTING_RANGES); every other draw is "
        "unchanged",
    )
    corp.add_argument(
        "--exposure",
        type=float,
        default=0.0,
        help="how long the shutter stays open, as a fraction of the frame interval (0-1; "
        "default 0, an instant): the body moves while it is open, as in a phone's video "
        "in a dim room (motion blur; screener_synth.clips.exposed_frames); every draw is "
        "unchanged",
    )
    corp.add_argument(
        "--frame-scale",
        type=_frame_scale,
        default=1,
        help="render every frame this many times wider and taller than the corpus' "
        "360x640 (2: 720x1280, the size the screener analyses a phone's video at); the "
        "field of view and every draw are unchanged, so the same clips at two sizes can "
        "be compared",
    )
    corp.add_argument(
        "--protocol",
        choices=("corpus", "guide"),
        default="corpus",
        help="the corpus' squats, which start on one leg, or squats that open as the capture "
        "guide asks (standing on both feet for 1.5-2.5 s, then the foot lifted); every "
        "other draw is unchanged",
    )
    corp.add_argument(
        "--other-leg",
        action="store_true",
        help="each single-leg squat on its other leg: the same body, camera and draws, the "
        "stance side swapped (with the clips rendered without it, a pair per squat)",
    )
    floor = sub.add_parser(
        "floor-contacts",
        help="add the rendered foot's floor contact to the walk and jog truth of a corpus",
    )
    floor.add_argument("--split", choices=("train", "val", "final"), required=True)
    floor.add_argument("--n", type=int, required=True, help="clips in the split, as rendered")
    floor.add_argument("--out", type=Path, default=Path("corpus"), help="corpus folder")
    floor.add_argument("--seed", type=int, default=None)
    floor.add_argument("--envelope", choices=("wide", "inside", "outside"), default="wide")
    floor.add_argument("--fps", default=None, help="as given to `corpus --fps`")
    floor.add_argument("--folder", default=None, help="corpus sub-folder (default: as `corpus`)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
    if args.command == "floor-contacts":
        from screener_synth.corpus import SpecMismatchError, add_floor_contacts

        specs, default = drawn_specs(args)
        folder = args.out / (args.folder or default)
        for spec in specs:
            if spec.task in ("walk", "jog") and (folder / f"{spec.name}.truth.json").exists():
                try:
                    seen = add_floor_contacts(spec, folder)
                except SpecMismatchError as exc:
                    print(exc, file=sys.stderr)
                    return 2
                logging.getLogger(__name__).info("%s: %d floor contacts", spec.name, seen)
        return 0
    if args.command == "corpus":
        from screener_synth.corpus import build_corpus

        index, count = (int(v) for v in args.shard.split("/"))
        specs, folder = drawn_specs(args)
        if args.tasks:
            specs = [s for s in specs if s.task in args.tasks.split(",")]
        build_corpus(specs, args.out / folder, args.scratch / folder, (index, count))
        return 0
    from screener_synth.clips import render_clip
    from screener_synth.sets import holdout_specs, sample_specs, tune_specs

    if args.set == "samples":
        specs = sample_specs(1 if args.seed is None else args.seed)
    elif args.set == "holdout":
        specs = holdout_specs(100 if args.seed is None else args.seed, per_task=args.per_task)
    else:
        specs = tune_specs(200 if args.seed is None else args.seed, per_task=args.per_task)
    if args.only:
        specs = [s for s in specs if any(o in s.name for o in args.only)]
    if not specs:
        print("no clip matches --only", file=sys.stderr)
        return 2
    for spec in specs:
        path = render_clip(spec, args.out, crf=args.crf)
        print(path)
    return 0
