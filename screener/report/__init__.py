"""The clinician's report and the patient handout, as HTML and as PDF.

``report.html`` (the chart entry and the full screen: header, flags with their measured
accuracy, the worst event per side as a face-blurred still, time series, values against
norms, the plan, caveats, provenance) and ``handout.html`` (one page in plain words for
the patient) render one context (:func:`screener.report.context.build_context`). The PDFs
are printed from the same HTML by WeasyPrint (:mod:`screener.report.pdf`).
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape

from screener.fileio import atomic_write

if TYPE_CHECKING:
    from screener.result import AnalysisResult

log = logging.getLogger(__name__)

__all__ = ["render_handout", "render_html", "render_visit", "write_report"]


def _environment() -> Environment:
    from screener.faults import span_label

    env = Environment(
        loader=PackageLoader("screener.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        keep_trailing_newline=True,
    )
    env.filters["span_label"] = span_label
    return env


def render_html(context: dict[str, Any]) -> str:
    """Render the clinician's HTML report from a context of :func:`build_context`."""
    template = _environment().get_template("report.html.j2")
    return template.render(h=context["header"], **context)


def render_handout(plan: dict[str, Any], header: dict[str, Any]) -> str:
    """Render the patient handout (HTML) for a plan and a header (patient code, visit date)."""
    from screener.report.handout import handout_context

    template = _environment().get_template("handout.html.j2")
    return template.render(**handout_context(plan, header))


def render_visit(
    visit: dict[str, Any],
    header: dict[str, Any],
    take_labels: dict[str, str] | None = None,
    stills: dict[str, list[dict[str, Any]] | None] | None = None,
) -> str:
    """Render the clinician's visit report (HTML) of :func:`screener.visit.screen_visit`.

    Parameters
    ----------
    visit
        The visit screen.
    header
        ``patient_code`` and ``visit_date``.
    take_labels
        A readable name per recording id (e.g. the uploaded file name).
    stills
        Per recording id, its saved stills (:func:`screener.report.stills.load_stills`;
        None: none saved, which the report says).
    """
    from screener.intake import VIDEO_CANNOT_EXCLUDE
    from screener.plan import dose_text
    from screener.report.context import _fmt, chart_entry
    from screener.report.stills import visit_still_rows
    from screener.tasks import all_tasks
    from screener.visit import slot_names

    template = _environment().get_template("visit.html.j2")
    return template.render(
        h=header,
        plan=visit["plan"],
        chart=chart_entry(visit.get("intake") or {}, visit["plan"]),
        headline=visit["headline"],
        missing=visit["missing"],
        capture_notes=visit.get("capture_notes") or [],
        comparison=visit["comparison"],
        takes=visit["takes"],
        take_labels=take_labels or {},
        still_rows=visit_still_rows(visit["slots"], stills or {}, take_labels or {}),
        slot_names=slot_names(),
        task_names={t.name: t.title for t in all_tasks()},
        cannot_exclude=list(VIDEO_CANNOT_EXCLUDE),
        fmt=_fmt,
        dose_text=dose_text,
    )


def _write_text(text: str, path: Path) -> None:
    path.write_text(text, encoding="utf-8")


def _write_pdf(text: str, path: Path) -> None:
    from screener.report.pdf import html_to_pdf

    html_to_pdf(text, path)


def write_report(
    result: AnalysisResult, outdir: str | Path, *, html: bool = True, pdf: bool = False
) -> list[Path]:
    """Write the report and handout files of one analysis.

    Parameters
    ----------
    result
        The analysis (tables, summary, cleaned pose, video path, config).
    outdir
        Folder to write to (created if needed).
    html
        Write ``report.html`` and ``handout.html``: self-contained files (images inline
        as base64, CSS inline) that open offline.
    pdf
        Write ``report.pdf`` and ``handout.pdf`` (A4), printed from the same HTML.

    Returns
    -------
    list of Path
        The files written, and the ``stills`` folder (a JPEG per still and
        ``index.json``, read back by :func:`screener.report.stills.load_stills` for the
        visit report).

    Notes
    -----
    Faces are blurred in every image (face landmarks, else a head box above the
    shoulders, else the whole image). Without a readable video the stills show the
    skeleton on a blank canvas and say so. Files are written atomically.
    """
    from screener.report.context import build_context

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    if not (html or pdf):
        return []
    context = build_context(result)
    written = []
    documents = {
        "report": render_html(context),
        "handout": render_handout(context["plan"], context["header"]),
    }
    for name, text in documents.items():
        if html:
            written.append(atomic_write(out / f"{name}.html", partial(_write_text, text)))
        if pdf:
            written.append(atomic_write(out / f"{name}.pdf", partial(_write_pdf, text)))
    from screener.report.stills import write_stills

    written.append(write_stills(context["stills"], out))
    log.info("report written: %s", ", ".join(p.name for p in written))
    return written
