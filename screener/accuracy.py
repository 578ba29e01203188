"""The screener's own measured accuracy, read from ``screener/models/measurement_errors.toml``.

The file is written by ``bench/accuracy.py --write-errors`` from a hold-out corpus of
rendered clips that chose nothing (docs/accuracy.md): per task, view and event metric,
the RMSE of the screener's event values against exact truth. Verdicts use these errors,
not the literature's reliability figures, to tell a clear call from one the measurement
cannot make (:func:`screener.faults.assess_metric`), and a metric whose error exceeds
``max_reportable_error_deg`` is withheld from the clinical verdicts.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from screener.errors import ConfigError
from screener.fileio import cached_by_file


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MeasuredError(_Strict):
    """Event-level error of one metric for one task (and view)."""

    rmse_deg: float = Field(ge=0.0)
    bias_deg: float = 0.0
    n_events: int = Field(ge=1)
    n_clips: int = Field(ge=1)


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
    tasks: dict[str, dict[str, MeasuredError]] = Field(default_factory=dict)

    def for_task(self, task: str, view: str | None) -> dict[str, MeasuredError]:
        """Errors of a task's metrics; a ``"TASK.VIEW"`` table overrides the task's own."""
        merged = dict(self.tasks.get(task, {}))
        if view is not None:
            merged.update(self.tasks.get(f"{task}.{view}", {}))
        return merged

    def better_views(self, task: str, view: str) -> dict[str, tuple[str, MeasuredError]]:
        """Per metric withheld in ``view``, another view of the task with its own measured
        error within ``max_reportable_error_deg`` (the smallest), and that error."""
        here = self.for_task(task, view)
        out: dict[str, tuple[str, MeasuredError]] = {}
        for key, metrics in self.tasks.items():
            other_task, _, other_view = key.partition(".")
            if other_task != task or not other_view or other_view == view:
                continue
            for metric, err in metrics.items():
                mine = here.get(metric)
                if mine is None or mine.rmse_deg <= self.max_reportable_error_deg:
                    continue
                if err.rmse_deg > self.max_reportable_error_deg:
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
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: measurement-error file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    try:
        return MeasuredErrors.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}") from exc
