"""When a left-right difference can be called real: the norm's SDC and the measured error.

A visit sets the two legs side by side, and the norms file gives each metric a smallest
detectable change (SDC, from test-retest studies of 2D video). That figure is about the
repeatability of a careful 2D method; a difference read by this screener also carries the
screener's own error, which for some metrics is larger: on the rendered hold-outs a
walking hip adduction's left minus right erred by about 4.6° against an SDC of 3.8°, and
half of the walks whose difference passed the SDC did not truly differ by that much
(docs/accuracy.md, "How the verdicts use these errors"). So a difference is called real
only beyond the larger of the SDC and ``z`` times the difference's measured error
(``screener/models/asymmetry_errors.toml``, written by ``bench/asymmetry_error.py``).

A single-leg squat films each leg in its own clip: the file's squat figures come from
pairs of rendered squats of one patient and phone, one on each leg (``screener_synth
corpus --other-leg``); where it has none for a view and metric, the visit combines the two
takes' measured errors of a side as if independent (:func:`combined_error_deg`). The
file's figures were measured with the
default settings; a clip read otherwise (``--research-frame-model``,
``--geometric-angles``) is judged with the same figures, an approximation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from screener.fileio import cached_by_file, read_toml_model

#: ``z`` when no asymmetry-error file is given (as the file's default).
DEFAULT_Z = 1.96


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AsymmetryError(_Strict):
    """The measured error of one metric's left minus right difference in one task and view."""

    rmse_deg: float = Field(ge=0.0)
    bias_deg: float = 0.0
    n_clips: int = Field(ge=1)


class AsymmetryErrors(_Strict):
    """The asymmetry-error file: ``tasks."TASK.VIEW".METRIC`` tables."""

    schema_version: int
    measured_on: str = Field(min_length=3, description="Which clips the figures come from.")
    method: str = Field(min_length=10)
    z: float = Field(
        DEFAULT_Z,
        gt=0.0,
        description="A difference is called real beyond z times its measured error (and the "
        "norm's SDC).",
    )
    z_source: str = ""
    tasks: dict[str, dict[str, AsymmetryError]] = Field(default_factory=dict)

    def error_deg(self, task: str, view: str | None, metric: str) -> float | None:
        """The measured RMSE of a difference for a task, view and metric, or None."""
        entry = self.tasks.get(f"{task}.{view}", {}).get(metric)
        return entry.rmse_deg if entry is not None else None

    def limit_deg(self, task: str, view: str | None, metric: str, sdc: float | None) -> float:
        """The difference beyond which the sides are called different: the larger of the
        SDC and ``z`` times the measured error (either alone when the other is unknown;
        NaN when both are)."""
        return difference_limit_deg(sdc, self.error_deg(task, view, metric), self.z)


def difference_limit_deg(sdc: float | None, error_deg: float | None, z: float) -> float:
    """The larger of ``sdc`` and ``z * error_deg``, each ignored when None; NaN if both are.

    Examples
    --------
    >>> difference_limit_deg(3.8, 4.6, 1.96)
    9.016
    >>> difference_limit_deg(8.3, 4.0, 1.96)
    8.3
    """
    candidates = [v for v in (sdc, z * error_deg if error_deg is not None else None) if v]
    return round(max(candidates), 3) if candidates else math.nan


def combined_error_deg(left_error: float | None, right_error: float | None) -> float | None:
    """The error of a difference of two independent readings: ``sqrt(e_l**2 + e_r**2)``.

    Notes
    -----
    Used for a single-leg squat, whose legs are filmed in two clips, where no pair of
    rendered squats measured the difference's error. Two clips of one patient by one
    camera may err alike (the difference then errs less) or oppositely (a camera off to
    one side reads one leg up and the other down: docs/accuracy.md, "A jog's knee FPPA and
    the camera's yaw"); on the pairs, a squat's trunk lean differed by more than
    independence gives and its knee FPPA from the front by less.
    """
    if left_error is None or right_error is None:
        return None
    return math.hypot(left_error, right_error)


@cached_by_file
def load_asymmetry_errors(path: Path) -> AsymmetryErrors:
    """Read and validate an asymmetry-error file.

    Raises
    ------
    ConfigError
        The file is missing, not TOML, or a value is out of range.
    """
    return read_toml_model(path, AsymmetryErrors, "asymmetry-error file")


def exceeds(asymmetry: float | None, limit: float | None) -> bool | None:
    """Whether a difference is beyond its limit; None when either is unknown."""
    if asymmetry is None or limit is None or not math.isfinite(asymmetry):
        return None
    if not math.isfinite(limit):
        return None
    return bool(abs(asymmetry) > limit)


def call_difference(asymmetry: float | None, sdc: float | None, limit: float | None) -> str | None:
    """What a left-right difference supports, for the visit's table.

    Returns
    -------
    str or None
        ``"beyond_limit"``: beyond the limit (the larger of the SDC and the measured error
        of a difference), a difference the video can tell apart; ``"cannot_rule_out"``:
        beyond the SDC but within the limit, so it may be the patient's or the
        measurement's; ``"within"``: within both; None when the difference or both
        thresholds are unknown.

    Notes
    -----
    On hold-outs 85 and 86, each scored before it shaped anything, the calls beyond the
    limit were right 23 of 28 times and those beyond the SDC alone 35 of 54
    (docs/accuracy.md, "How the verdicts use these errors"): the middle state is where the
    measurement cannot settle it and a clinician's look can.

    Examples
    --------
    >>> call_difference(5.0, 3.8, 9.0)
    'cannot_rule_out'
    >>> call_difference(-10.0, 3.8, 9.0)
    'beyond_limit'
    """
    beyond_limit, beyond_sdc = exceeds(asymmetry, limit), exceeds(asymmetry, sdc)
    if beyond_limit:
        return "beyond_limit"
    if beyond_sdc:
        return "cannot_rule_out"
    if beyond_limit is None and beyond_sdc is None:
        return None
    return "within"


def annotate_asymmetry(
    faults: Sequence[Mapping[str, Any]], errors: AsymmetryErrors | None, task: str, view: str
) -> list[dict[str, Any]]:
    """Each fault entry with its left-right difference judged against the measured error.

    Adds ``asymmetry_error`` (the measured RMSE of the difference for the task, view and
    metric, None when not measured), ``asymmetry_limit`` (the larger of the entry's
    ``sdc`` and ``z`` times that error; None when neither is known) and
    ``asymmetry_exceeds_limit``. ``asymmetry_exceeds_sdc`` stays as it was (the SDC
    alone).
    """
    out = []
    for entry in faults:
        metric = str(entry.get("metric", ""))
        error = errors.error_deg(task, view, metric) if errors is not None else None
        z = errors.z if errors is not None else DEFAULT_Z
        limit = difference_limit_deg(entry.get("sdc"), error, z)
        shown_limit = limit if math.isfinite(limit) else None
        out.append(
            {
                **entry,
                "asymmetry_error": error,
                "asymmetry_limit": shown_limit,
                "asymmetry_exceeds_limit": exceeds(entry.get("asymmetry"), shown_limit),
            }
        )
    return out
