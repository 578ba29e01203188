"""The screener's own measured accuracy, read from ``screener/models/measurement_errors.toml``.

The file is written by ``bench/accuracy.py --write-errors`` from a hold-out corpus of
rendered clips that chose nothing (docs/accuracy.md): per task, view and event metric,
the RMSE of the screener's event values against exact truth. Verdicts use these errors,
not the literature's reliability figures, to tell a clear call from one the measurement
cannot make (:func:`screener.faults.assess_metric`). A metric is withheld from the
clinical verdicts when its error exceeds ``max_reportable_error_deg``, or when the
per-side means it is judged on follow the truth too weakly (``side_r`` below
``min_tracking_r``): an RMSE alone can look small for a reading that barely moves with
the true angle, because the true angles of a screening population spread little.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from screener.fileio import cached_by_file, read_toml_model


def withheld_reason(
    error_deg: float | None, side_r: float | None, max_error_deg: float, min_tracking_r: float
) -> str | None:
    """Why a metric gets no clinical verdict: ``"error"`` (its error exceeds
    ``max_error_deg``), ``"tracking"`` (its side means correlate with the truth below
    ``min_tracking_r``), or None (it is judged). An unknown figure breaks no rule."""
    if error_deg is not None and error_deg > max_error_deg:
        return "error"
    if side_r is not None and side_r < min_tracking_r:
        return "tracking"
    return None


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MeasuredError(_Strict):
    """Event-level error of one metric for one task (and view), and how well the
    per-side means it is judged on follow the truth."""

    rmse_deg: float = Field(ge=0.0)
    bias_deg: float = 0.0
    n_events: int = Field(ge=1)
    n_clips: int = Field(ge=1)
    side_r: float | None = Field(
        None,
        ge=-1.0,
        le=1.0,
        description="Pearson r between a side's mean measured value and its mean true value "
        "over the validation clips' sides (None: too few sides to tell).",
    )
    n_sides: int | None = Field(None, ge=1, description="Sides behind side_r.")


class MeasuredErrors(_Strict):
    """The measurement-error file: ``tasks."TASK.VIEW".METRIC`` tables."""

    schema_version: int
    measured_on: str = Field(min_length=3, description="Which clips the figures come from.")
    method: str = Field(min_length=10)
    max_reportable_error_deg: float = Field(
        8.0, gt=0.0, description="A metric whose error exceeds this gets no clinical verdict."
    )
    rule_out_z: float = Field(
        1.0,
        gt=0.0,
        description="A 'no flag' needs value + z * uncertainty below the threshold, else "
        "'cannot rule out' (1.0: one measurement error).",
    )
    min_tracking_r: float = Field(
        -1.0,
        ge=-1.0,
        le=1.0,
        description="A metric whose side means correlate with the truth below this gets no "
        "clinical verdict (-1: no such rule).",
    )
    min_tracking_r_source: str = ""
    hide_untracked_values: bool = Field(
        False,
        description="Whether a metric withheld for tracking (min_tracking_r) also has its "
        "value left out of the clinical views, as one withheld for its error always does.",
    )
    hide_untracked_values_source: str = ""
    tasks: dict[str, dict[str, MeasuredError]] = Field(default_factory=dict)

    def for_task(self, task: str, view: str | None) -> dict[str, MeasuredError]:
        """Errors of a task's metrics; a ``"TASK.VIEW"`` table overrides the task's own.

        A view's entry without its own ``side_r`` (too few sides) takes the task's.
        """
        merged = dict(self.tasks.get(task, {}))
        if view is not None:
            for metric, err in self.tasks.get(f"{task}.{view}", {}).items():
                task_err = merged.get(metric)
                if err.side_r is None and task_err is not None and task_err.side_r is not None:
                    err = err.model_copy(
                        update={"side_r": task_err.side_r, "n_sides": task_err.n_sides}
                    )
                merged[metric] = err
        return merged

    def withheld_because(self, err: MeasuredError) -> str | None:
        """Why a metric with this measured error gets no clinical verdict: ``"error"``
        (RMSE above ``max_reportable_error_deg``), ``"tracking"`` (side means correlate
        with the truth below ``min_tracking_r``), or None (it is judged)."""
        return withheld_reason(
            err.rmse_deg, err.side_r, self.max_reportable_error_deg, self.min_tracking_r
        )

    def better_views(self, task: str, view: str) -> dict[str, tuple[str, MeasuredError]]:
        """Per metric withheld in ``view``, another view of the task in which it is judged
        (:meth:`withheld_because` is None; the smallest error), and that view's error."""
        here = self.for_task(task, view)
        out: dict[str, tuple[str, MeasuredError]] = {}
        for key in self.tasks:
            other_task, _, other_view = key.partition(".")
            if other_task != task or not other_view or other_view == view:
                continue
            theirs = self.for_task(task, other_view)
            for metric in self.tasks[key]:
                err = theirs[metric]
                mine = here.get(metric)
                if mine is None or self.withheld_because(mine) is None:
                    continue
                if self.withheld_because(err) is not None:
                    continue
                if metric not in out or err.rmse_deg < out[metric][1].rmse_deg:
                    out[metric] = (other_view, err)
        return out


@cached_by_file
def load_measured_errors(path: Path) -> MeasuredErrors:
    """Read and validate a measurement-error file.

    Raises
    ------
    ConfigError
        The file is missing, not TOML, or a value is out of range.
    """
    return read_toml_model(path, MeasuredErrors, "measurement-error file")
