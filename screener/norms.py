"""Screening norms: thresholds, severity bands, detectable change and their sources.

The norms live in a TOML file (``screener/models/norms.toml`` by default; a clinic may
point :attr:`screener.config.AnalysisConfig.norms_path` at its own). :func:`load_norms`
reads and validates it into a :class:`Norms` object; everything downstream
(:mod:`screener.faults`, :mod:`screener.rescreen`, the report) reads thresholds from it,
never from constants in code.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from screener.errors import ConfigError
from screener.fileio import cached_by_file
from screener.tasks import all_tasks, get_task, task_names

#: Schema versions this code understands.
SUPPORTED_SCHEMA_VERSIONS: tuple[int, ...] = (1,)

Direction = Literal["above", "below"]
Status = Literal["established", "extrapolated", "provisional", "no_norm"]
Severity = Literal["none", "mild", "moderate", "severe"]
SEVERITIES: tuple[Severity, ...] = ("none", "mild", "moderate", "severe")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(_Strict):
    """A reference that figures of the norms file cite."""

    citation: str = Field(min_length=5)
    year: int = Field(ge=1900, le=2100)
    kind: Literal["peer_reviewed", "project"]
    doi: str | None = None
    pmid: str | None = None
    url: str | None = None
    figures: str = ""

    @model_validator(mode="after")
    def _identifier(self) -> Source:
        if self.kind == "peer_reviewed" and not (self.doi or self.pmid or self.url):
            raise ValueError("a peer-reviewed source needs a doi, pmid or url")
        return self

    def short(self) -> str:
        """One-line citation with its identifier."""
        ident = ""
        if self.doi:
            ident = f" doi:{self.doi}"
        elif self.pmid:
            ident = f" PMID {self.pmid}"
        elif self.url:
            ident = f" {self.url}"
        return f"{self.citation}{ident}"


class Bands(_Strict):
    """Edges of the mild, moderate and severe bands, with their source.

    For direction ``"above"`` the edges are lower bounds (a value at or above ``mild`` is
    at least mild); for ``"below"`` they are upper bounds (at or below).
    """

    mild: float
    moderate: float
    severe: float
    source: str
    basis: str = Field(min_length=3)


class MetricNorm(_Strict):
    """Norm of one event metric in one task."""

    fault: str = ""
    label: str
    direction: Direction = "above"
    status: Status
    note: str = ""
    unit: Literal["deg", "ratio", "m"] = "deg"
    sdc: float | None = Field(None, gt=0)
    sdc_source: str | None = None
    sdc_basis: str = ""
    measurement_error: float | None = Field(None, gt=0)
    measurement_error_source: str | None = None
    measurement_error_basis: str = ""
    reference_source: str | None = None
    method_source: str | None = None
    plausible_min: float | None = None
    plausible_source: str | None = None
    plausible_basis: str = ""
    bands: dict[Literal["any", "female", "male"], Bands] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> MetricNorm:
        if self.status == "no_norm" and self.bands:
            raise ValueError("status 'no_norm' cannot have bands")
        if self.status != "no_norm" and "any" not in self.bands:
            raise ValueError(f"status '{self.status}' needs at least bands.any")
        for group, band in self.bands.items():
            edges = (band.mild, band.moderate, band.severe)
            increasing = edges[0] < edges[1] < edges[2]
            decreasing = edges[0] > edges[1] > edges[2]
            if self.direction == "above" and not increasing:
                raise ValueError(
                    f"bands.{group}: with direction 'above' mild < moderate < severe is "
                    f"required, got {edges}"
                )
            if self.direction == "below" and not decreasing:
                raise ValueError(
                    f"bands.{group}: with direction 'below' mild > moderate > severe is "
                    f"required, got {edges}"
                )
        if self.sdc is not None and not self.sdc_source:
            raise ValueError("sdc needs sdc_source")
        if self.measurement_error is not None and not self.measurement_error_source:
            raise ValueError("measurement_error needs measurement_error_source")
        if self.plausible_min is not None and not self.plausible_source:
            raise ValueError("plausible_min needs plausible_source")
        return self

    def band_for(self, sex: str | None) -> tuple[Bands | None, str]:
        """The bands for a sex (falling back to ``any``) and the group used."""
        if sex in ("female", "male") and sex in self.bands:
            return self.bands[sex], sex
        if "any" in self.bands:
            return self.bands["any"], "any"
        return None, "none"

    def cited_sources(self) -> list[str]:
        """Keys of every source this metric cites."""
        keys = [self.sdc_source, self.measurement_error_source]
        keys += [self.reference_source, self.method_source, self.plausible_source]
        keys += [b.source for b in self.bands.values()]
        return [k for k in keys if k]


class TaskNorms(_Strict):
    """Norms of one task."""

    min_events: int = Field(ge=1)
    min_events_source: str
    min_events_basis: str = ""
    min_events_verdict: int = Field(ge=1)
    min_events_verdict_source: str
    min_events_verdict_basis: str = ""
    metrics: dict[str, MetricNorm]

    @model_validator(mode="after")
    def _floor(self) -> TaskNorms:
        if self.min_events_verdict > self.min_events:
            raise ValueError("min_events_verdict must not exceed min_events")
        return self


class Defaults(_Strict):
    """Project-wide figures of the confidence model."""

    unknown_accuracy_factor: float = Field(gt=0, le=1)
    unknown_accuracy_factor_source: str
    unknown_accuracy_factor_basis: str = ""


class Norms(_Strict):
    """A validated norms file.

    Attributes
    ----------
    schema_version
        Version of the file format.
    name, version
        Free text identifying the norms set (shown in the report's provenance).
    sources
        Every reference the figures cite, by key.
    defaults
        Figures of the confidence model.
    tasks
        Per norms section (``[tasks.NAME]``: one per task of the registry,
        :mod:`screener.tasks`), per metric norms.
    path
        The file the norms were read from (set by :func:`load_norms`).
    """

    schema_version: int
    name: str
    version: str = ""
    sources: dict[str, Source]
    defaults: Defaults
    tasks: dict[str, TaskNorms]
    path: str | None = None

    @model_validator(mode="after")
    def _references(self) -> Norms:
        if self.schema_version not in SUPPORTED_SCHEMA_VERSIONS:
            raise ValueError(
                f"schema_version {self.schema_version} is not supported "
                f"(supported: {', '.join(map(str, SUPPORTED_SCHEMA_VERSIONS))})"
            )
        sections = {spec.norms_section for spec in all_tasks()}
        unknown = sorted(set(self.tasks) - sections)
        if unknown:
            raise ValueError(
                f"tasks: unknown task(s) {unknown}; known: {sorted(sections)} (a new task is "
                "registered with screener.tasks.register_task)"
            )
        known = set(self.sources)
        cited = {"defaults": [self.defaults.unknown_accuracy_factor_source]}
        for task, tnorm in self.tasks.items():
            cited[f"tasks.{task}"] = [tnorm.min_events_source, tnorm.min_events_verdict_source]
            for metric, mnorm in tnorm.metrics.items():
                cited[f"tasks.{task}.metrics.{metric}"] = mnorm.cited_sources()
        for where, keys in cited.items():
            for key in keys:
                if key not in known:
                    raise ValueError(f"{where} cites source '{key}', which is not in [sources]")
        return self

    def metric(self, task: str, metric: str) -> MetricNorm | None:
        """Norm of one metric in one task, or None if the file has none."""
        tnorm = self.tasks.get(_section(task))
        if tnorm is None:
            return None
        return tnorm.metrics.get(metric)

    def task(self, task: str) -> TaskNorms:
        """Norms of one task.

        Raises
        ------
        ConfigError
            The norms file has no section for the task.
        """
        tnorm = self.tasks.get(_section(task))
        if tnorm is None:
            raise ConfigError(
                f"the norms file has no [tasks.{_section(task)}] section",
                path=self.path,
                remedy="Add the task's norms or use the bundled norms file.",
            )
        return tnorm

    def cite(self, key: str | None) -> str:
        """One-line citation of a source key ('' for None)."""
        if not key:
            return ""
        return self.sources[key].short()


def _section(task: str) -> str:
    """The norms section of a task (its registry entry's ``norms_section``)."""
    return get_task(task).norms_section if task in task_names() else task


@cached_by_file
def load_norms(path: str | Path) -> Norms:
    """Read and validate a norms file.

    Parameters
    ----------
    path
        A TOML file in the format of ``screener/models/norms.toml``.

    Returns
    -------
    Norms
        The validated norms, with ``path`` set.

    Raises
    ------
    ConfigError
        The file is missing, is not valid TOML, or a key is missing or wrong; the message
        names the file, the key (dotted path) and what is wrong.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read the norms file ({exc.strerror or exc})",
            path=path,
            remedy="Check AnalysisConfig.norms_path (bundled: screener/models/norms.toml).",
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"the norms file is not valid TOML ({exc})",
            path=path,
            remedy="Fix the syntax; compare with screener/models/norms.toml.",
        ) from exc
    data["path"] = str(path)
    try:
        return Norms.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            f"invalid norms: {_describe_errors(exc)}",
            path=path,
            remedy="Compare with the bundled screener/models/norms.toml.",
        ) from exc


def _describe_errors(exc: ValidationError, limit: int = 3) -> str:
    """Name the dotted key and the problem of the first few validation errors."""
    parts = []
    for err in exc.errors()[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"key '{where}': {err['msg']}")
    more = len(exc.errors()) - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)
