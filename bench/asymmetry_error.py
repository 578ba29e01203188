"""How far a clip's left-right difference errs, and when a difference can be called real.

Usage::

    python -m bench.accuracy FOLDER ... --skip-auto --events-csv EVENTS.csv
    python -m bench.asymmetry_error EVENTS.csv [EVENTS.csv ...]
                                   [--write screener/models/asymmetry_errors.toml]
                                   [--check screener/models/asymmetry_errors.toml]

Reads the per-event rows of ``bench.accuracy --events-csv`` (several tables are
concatenated), keeps the clips inside the envelope of the tasks that film both legs in
one clip (walk, jog), and per clip, metric and side takes the mean of the side's events,
measured and true; single-leg squats are paired, one patient and phone on each leg, where
a folder has its ``screener_synth corpus --other-leg`` twin (folder name plus
``_otherleg``). Per task, view and metric it prints the RMSE of the measured left minus
right difference against the true one, and the spread of the true differences.

``--write`` writes those figures as the asymmetry-error file the screener reads
(:mod:`screener.asymmetry`). ``--check`` reads such a file and scores, on the clips given,
the call "the sides differ" made when a difference exceeds the norm's smallest detectable
change alone, and when it exceeds the file's limit (the larger of that change and ``z``
times the difference's RMSE): how many calls, how many of them right (the true
difference beyond the same change, the same sign), and how many true differences called,
per task, view and metric and over all of them (pairs of squats only where the file has
their task, view and metric). Fit with ``--write`` on some hold-outs and ``--check`` on others.

Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from bench.error_by_truth import inside_events
from screener.asymmetry import AsymmetryErrors, load_asymmetry_errors
from screener.config import MODELS_DIR
from screener.norms import load_norms

#: Tasks that film both legs in one clip; a single-leg squat's sides are separate clips.
BILATERAL_TASKS = ("walk", "jog")
#: Tasks whose left-right calls ``--check`` scores (a squat's from pairs of squats).
CHECKED_TASKS = (*BILATERAL_TASKS, "sls")
#: The metrics a visit compares left against right (fault metrics shown to a clinician).
METRICS = ("knee_fppa_deg", "hip_adduction_deg", "trunk_lean_deg", "pelvic_drop_deg")


#: The columns of :func:`side_differences` and :func:`squat_pair_differences`.
DIFF_COLUMNS = ["task", "view", "clip_key", "metric", "measured_diff", "true_diff"]
#: The folder suffix of ``screener_synth corpus --other-leg`` renders.
OTHER_LEG_SUFFIX = "_otherleg"


def _left_minus_right(
    events: pd.DataFrame, keep: Callable[[pd.DataFrame], pd.DataFrame]
) -> pd.DataFrame:
    """Per ``clip_key`` (after ``keep``) and metric, the left side's mean minus the right's,
    measured and true; a key without both sides measured is left out."""
    frames = []
    for metric in METRICS:
        rows = keep(inside_events(events, metric))
        if rows.empty:
            continue
        means = rows.groupby(["task", "view", "clip_key", "side"])[["measured", "truth"]].mean()
        wide = means.unstack("side")
        if ("measured", "left") not in wide or ("measured", "right") not in wide:
            continue
        wide = wide.dropna()
        frames.append(
            pd.DataFrame(
                {
                    "metric": metric,
                    "measured_diff": wide[("measured", "left")] - wide[("measured", "right")],
                    "true_diff": wide[("truth", "left")] - wide[("truth", "right")],
                }
            ).reset_index()
        )
    if not frames:
        return pd.DataFrame(columns=DIFF_COLUMNS)
    return pd.concat(frames, ignore_index=True)[DIFF_COLUMNS]


def side_differences(events: pd.DataFrame) -> pd.DataFrame:
    """Per bilateral clip inside the envelope and metric: left minus right, measured and true.

    Columns ``task``, ``view``, ``clip_key``, ``metric``, ``measured_diff``,
    ``true_diff``; a clip without both sides measured is left out.
    """
    return _left_minus_right(events, lambda rows: rows[rows["task"].isin(BILATERAL_TASKS)])


def _squat_pair_keys(rows: pd.DataFrame) -> pd.DataFrame:
    """A squat's rows keyed by its draw: the folder without ``_otherleg``, the name without
    its side, so that a squat and its other-leg twin share a key."""
    rows = rows[(rows["task"] == "sls") & (rows["side"].isin(["left", "right"]))]
    folders = [str(f).removesuffix(OTHER_LEG_SUFFIX) for f in rows["folder"]]
    draws = [re.sub(r"sls_(left|right)_", "sls_", str(c)).split("/")[-1] for c in rows["clip"]]
    return rows.assign(clip_key=[f"{f}/{d}" for f, d in zip(folders, draws, strict=True)])


def squat_pair_differences(events: pd.DataFrame) -> pd.DataFrame:
    """Per pair of single-leg squats of one patient and phone, one on each leg, and metric:
    the left squat's mean minus the right squat's, measured and true.

    A pair is a clip of a corpus folder and the clip of the same draw rendered with
    ``--other-leg`` (folder name plus ``_otherleg``, the side in the name swapped); both
    must be inside the envelope with the metric measured. Columns as
    :func:`side_differences`, ``task`` ``"sls"``.
    """
    return _left_minus_right(events, _squat_pair_keys)


def difference_errors(diffs: pd.DataFrame) -> pd.DataFrame:
    """Per task, view and metric: clips, RMSE and bias of the measured difference, and the
    spread (SD) of the true differences."""
    err = diffs["measured_diff"] - diffs["true_diff"]
    table = diffs.assign(error=err, squared=err**2)
    out = table.groupby(["task", "view", "metric"]).agg(
        clips=("error", "size"),
        rmse_deg=("squared", "mean"),
        bias_deg=("error", "mean"),
        true_sd_deg=("true_diff", "std"),
    )
    out["rmse_deg"] = np.sqrt(out["rmse_deg"])
    return pd.DataFrame(out)


def check_calls(
    diffs: pd.DataFrame, errors: AsymmetryErrors, sdc: dict[tuple[str, str], float]
) -> pd.DataFrame:
    """Score "the sides differ" with the norm's SDC alone and with the file's limit.

    Parameters
    ----------
    diffs
        :func:`side_differences`.
    errors
        The asymmetry-error file.
    sdc
        The norm's smallest detectable change per ``(task, metric)``.

    Returns
    -------
    pandas.DataFrame
        Per task, view and metric with an SDC: the limit, and for each rule (``sdc``,
        ``limit``) the calls made, the calls right (true difference beyond the SDC with
        the same sign) and the true differences beyond the SDC.

    Notes
    -----
    A pair of squats whose task, view and metric the file lacks is left out: there the
    screener combines the two squats' errors of a side as independent (the accuracy file's,
    not this file's), which this check does not reproduce.
    """
    rows = []
    for (task, view, metric), sub in diffs.groupby(["task", "view", "metric"]):
        change = sdc.get((str(task), str(metric)))
        if change is None:
            continue
        if str(task) not in BILATERAL_TASKS and (
            errors.error_deg(str(task), str(view), str(metric)) is None
        ):
            continue
        limit = errors.limit_deg(str(task), str(view), str(metric), change)
        real = (sub["true_diff"].abs() > change).to_numpy()
        same_sign = (np.sign(sub["true_diff"]) == np.sign(sub["measured_diff"])).to_numpy()
        row: dict[str, object] = {
            "task": task,
            "view": view,
            "metric": metric,
            "clips": len(sub),
            "sdc_deg": change,
            "limit_deg": limit,
            "true_beyond_sdc": int(real.sum()),
        }
        for name, threshold in (("sdc", change), ("limit", limit)):
            called = (sub["measured_diff"].abs() > threshold).to_numpy()
            row[f"{name}_calls"] = int(called.sum())
            row[f"{name}_right"] = int((called & real & same_sign).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def summarise_calls(calls: pd.DataFrame) -> pd.DataFrame:
    """Both rules' calls over every row of :func:`check_calls`.

    Returns
    -------
    pandas.DataFrame
        Per rule (``sdc``, ``limit``): ``calls``, ``right``, ``precision`` (right over
        calls), ``true_beyond_sdc`` and ``recall`` (right over the true differences beyond
        the SDC); a ratio is NaN where its denominator is 0.
    """
    counts = ["true_beyond_sdc", "sdc_calls", "sdc_right", "limit_calls", "limit_right"]
    totals = calls.reindex(columns=counts, fill_value=0).sum()  # no rows: every count 0
    true = int(totals["true_beyond_sdc"])
    rows = []
    for rule in ("sdc", "limit"):
        made, right = int(totals[f"{rule}_calls"]), int(totals[f"{rule}_right"])
        rows.append(
            {
                "rule": rule,
                "calls": made,
                "right": right,
                "precision": right / made if made else np.nan,
                "true_beyond_sdc": true,
                "recall": right / true if true else np.nan,
            }
        )
    return pd.DataFrame(rows)


def write_errors(table: pd.DataFrame, path: Path, measured_on: str) -> None:
    """Write :func:`difference_errors` as an asymmetry-error file (TOML)."""
    lines = [
        "# The screener's measured error of a clip's left minus right difference, per task,",
        "# view and metric (written by python -m bench.asymmetry_error --write).",
        "# A visit calls the sides different only beyond the larger of the norm's smallest",
        "# detectable change and z times this error (screener/asymmetry.py). Single-leg squats:",
        "# pairs of squats of one patient and phone, one on each leg (n_clips counts pairs).",
        "",
        "schema_version = 1",
        f'measured_on = "{measured_on}"',
        "method = \"per clip inside the envelope, the mean of each side's event values "
        "(default settings), measured and true; the RMSE of the measured left minus right "
        'against the true one (bench/asymmetry_error.py)"',
        "z = 1.96",
        'z_source = "as the smallest detectable change is 1.96 x sqrt(2) x SEM: a difference '
        "beyond 1.96 times its measured error is unlikely to be the measurement's alone\"",
    ]
    for row in table.reset_index().to_dict("records"):
        lines += [
            "",
            f'[tasks."{row["task"]}.{row["view"]}".{row["metric"]}]',
            f"rmse_deg = {row['rmse_deg']:.2f}",
            f"bias_deg = {row['bias_deg']:.2f}",
            f"n_clips = {int(row['clips'])}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _sdc_by_task_metric() -> dict[tuple[str, str], float]:
    norms = load_norms(MODELS_DIR / "norms.toml")
    out = {}
    for task in CHECKED_TASKS:
        for metric, norm in norms.task(task).metrics.items():
            if norm.sdc is not None:
                out[(task, metric)] = norm.sdc
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", nargs="+", type=Path, help="bench.accuracy --events-csv tables")
    parser.add_argument("--write", type=Path, help="write the asymmetry-error file here")
    parser.add_argument("--check", type=Path, help="score the calls with this file")
    parser.add_argument(
        "--min-clips",
        type=int,
        default=20,
        help="with --write: leave out a task, view and metric measured on fewer clips (or "
        "pairs of squats); the screener then falls back (the SDC, or a squat's side errors "
        "combined as independent)",
    )
    args = parser.parse_args(argv)
    events = pd.concat([pd.read_csv(p) for p in args.events], ignore_index=True)
    parts = [d for d in (side_differences(events), squat_pair_differences(events)) if len(d)]
    if not parts:
        print("no walk, jog or pair of squats inside the envelope with both sides measured")
        return 1
    diffs = pd.concat(parts, ignore_index=True)
    table = difference_errors(diffs)
    print(f"== left minus right, {diffs['clip_key'].nunique()} clips inside the envelope")
    print(table.to_string(float_format=lambda v: f"{v:.2f}"))
    if args.write:
        folders = sorted(f"corpus/{f}" for f in events["folder"].dropna().unique())
        where = ", ".join(folders) + " (inside the envelope: walks, jogs, pairs of squats)"
        write_errors(table[table["clips"] >= args.min_clips], args.write, where)
        print(f"wrote {args.write}")
    if args.check:
        calls = check_calls(diffs, load_asymmetry_errors(args.check), _sdc_by_task_metric())
        print(f"== calls 'the sides differ' ({args.check})")
        print(calls.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        print("== all of them")
        print(summarise_calls(calls).to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
