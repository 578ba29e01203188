"""The clinician's report: ``report.html`` (self-contained) and ``report.pdf``.

Both render one context (:func:`screener.report.context.build_context`): header, flags,
the worst event per side as a face-blurred still with the skeleton and angle drawn, time
series with events shaded, values against norms, the plan, caveats and provenance.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, select_autoescape

from screener.fileio import atomic_write

if TYPE_CHECKING:
    from screener.result import AnalysisResult

log = logging.getLogger(__name__)

__all__ = ["render_html", "write_report"]


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("screener.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        keep_trailing_newline=True,
    )


def render_html(context: dict[str, object]) -> str:
    """Render the HTML report from a context of :func:`build_context`."""
    template = _environment().get_template("report.html.j2")
    return template.render(h=context["header"], **context)


def write_report(
    result: AnalysisResult, outdir: str | Path, *, html: bool = True, pdf: bool = False
) -> list[Path]:
    """Write the report files of one analysis.

    Parameters
    ----------
    result
        The analysis (tables, summary, cleaned pose, video path, config).
    outdir
        Folder to write to (created if needed).
    html
        Write ``report.html``: one self-contained file (images inline as base64, CSS
        inline) that opens offline.
    pdf
        Write ``report.pdf`` (A4, printable).

    Returns
    -------
    list of Path
        The files written.

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
    if html:
        text = render_html(context)
        written.append(
            atomic_write(out / "report.html", lambda p: p.write_text(text, encoding="utf-8"))
        )
    if pdf:
        from screener.report.pdf import write_pdf  # matplotlib's PDF backend: only for a PDF

        written.append(atomic_write(out / "report.pdf", lambda p: write_pdf(context, p)))
    log.info("report written: %s", ", ".join(p.name for p in written))
    return written
