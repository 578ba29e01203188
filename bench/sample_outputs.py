"""Write the sample videos' tables, then compare two such runs (before and after a change).

Prints figures; asserts nothing. For changes that must leave results alone (memory or
speed work): run it on the code before the change and after it, then compare.

1. ``write OUTDIR``: every ``sample_videos/*.mp4`` analysed (keypoints from the cache
   when present, ``--cache-dir``), ``frames.csv``, ``events.csv`` and ``summary.json``
   written to ``OUTDIR/<video stem>/`` (no report: it is drawn from these).
2. ``compare A B``: per video, whether each file is byte-identical; where not, the
   largest difference of each numeric column of the two tables, the text cells that
   differ, and the leaves of ``summary.json`` that differ (its ``analysed_at`` time
   aside).

Usage::

    python -m bench.sample_outputs write /tmp/before [--cache-dir DIR]
    python -m bench.sample_outputs compare /tmp/before /tmp/after
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FILES = ("frames.csv", "events.csv", "summary.json")
#: Leaves of summary.json that differ between any two runs.
VOLATILE = {"provenance.analysed_at"}


def write_outputs(outdir: Path, cache_dir: Path | None) -> None:
    """Analyse every sample video and write its tables (no report) to ``outdir``."""
    import screener
    from screener.config import AnalysisConfig
    from screener.errors import ScreenerError

    config = AnalysisConfig() if cache_dir is None else AnalysisConfig(cache_dir=cache_dir)
    for video in sorted((REPO / "sample_videos").glob("*.mp4")):
        try:
            result = screener.analyze(video, config=config)
        except ScreenerError as exc:
            (outdir / video.stem).mkdir(parents=True, exist_ok=True)
            (outdir / video.stem / "error.txt").write_text(str(exc) + "\n")
            sys.stdout.write(f"{video.name}: {exc}\n")
            continue
        result.write(outdir / video.stem, report=False)
        sys.stdout.write(
            f"{video.name}: {len(result.frames)} frames, {len(result.events)} events\n"
        )


def _leaves(obj: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            out.update(_leaves(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(obj, list):
        out = {}
        for i, v in enumerate(obj):
            out.update(_leaves(v, f"{prefix}[{i}]"))
        return out
    return {prefix: obj}


def _compare_tables(a: Path, b: Path) -> list[str]:
    import numpy as np
    import pandas as pd

    ta, tb = pd.read_csv(a, keep_default_na=False), pd.read_csv(b, keep_default_na=False)
    if list(ta.columns) != list(tb.columns) or len(ta) != len(tb):
        return [f"  shape or columns differ: {ta.shape} {tb.shape}"]
    lines = []
    for col in ta.columns:
        x = pd.to_numeric(ta[col].replace("", np.nan), errors="coerce").to_numpy(float)
        y = pd.to_numeric(tb[col].replace("", np.nan), errors="coerce").to_numpy(float)
        numeric = np.isfinite(x) | (ta[col].astype(str) == "")
        if numeric.all() and (np.isfinite(y) | (tb[col].astype(str) == "")).all():
            if not np.array_equal(np.isnan(x), np.isnan(y)):
                lines.append(f"  {col}: empty in different rows")
                continue
            diff = np.nanmax(np.abs(x - y)) if np.isfinite(x).any() else 0.0
            if diff > 0:
                lines.append(f"  {col}: max |difference| {diff:.3g}")
        else:
            n = int((ta[col].astype(str) != tb[col].astype(str)).sum())
            if n:
                lines.append(f"  {col}: {n} text cell(s) differ")
    return lines


def _compare_summaries(a: Path, b: Path) -> list[str]:
    la = _leaves(json.loads(a.read_text()))
    lb = _leaves(json.loads(b.read_text()))
    lines = []
    for key in sorted(set(la) | set(lb)):
        if key in VOLATILE:
            continue
        va, vb = la.get(key, "<absent>"), lb.get(key, "<absent>")
        if va == vb:
            continue
        if isinstance(va, float) and isinstance(vb, float) and math.isfinite(va - vb):
            lines.append(f"  {key}: {va!r} vs {vb!r} (difference {abs(va - vb):.3g})")
        else:
            lines.append(f"  {key}: {va!r} vs {vb!r}")
    return lines


def compare_outputs(before: Path, after: Path) -> int:
    """Print what differs between two ``write`` folders; return the number of files."""
    n_diff = 0
    for folder in sorted(p for p in before.iterdir() if p.is_dir()):
        other = after / folder.name
        for name in (*FILES, "error.txt"):
            a, b = folder / name, other / name
            if not a.exists() and not b.exists():
                continue
            if a.exists() != b.exists():
                sys.stdout.write(f"{folder.name}/{name}: only in one run\n")
                n_diff += 1
                continue
            if a.read_bytes() == b.read_bytes():
                sys.stdout.write(f"{folder.name}/{name}: identical\n")
                continue
            if name.endswith(".csv"):
                lines = _compare_tables(a, b)
            elif name == "summary.json":
                lines = _compare_summaries(a, b)
            else:
                lines = ["  text differs"]
            verdict = "differs" if lines else "same values (formatting or volatile fields only)"
            n_diff += bool(lines)
            sys.stdout.write(
                f"{folder.name}/{name}: {verdict}\n" + "".join(f"{x}\n" for x in lines)
            )
    sys.stdout.write(f"{n_diff} file(s) with different values\n")
    return n_diff


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write")
    w.add_argument("outdir", type=Path)
    w.add_argument("--cache-dir", type=Path, default=None)
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "write":
        write_outputs(args.outdir, args.cache_dir)
        return 0
    return 1 if compare_outputs(args.before, args.after) else 0


if __name__ == "__main__":
    raise SystemExit(main())
