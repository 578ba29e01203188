"""PDF from the same HTML as the on-screen report, printed by WeasyPrint.

The clinician's report and the patient handout are rendered once as HTML
(:mod:`screener.report`); this module prints that HTML to A4. WeasyPrint is a Python
package that needs the Pango text library from the operating system (Debian:
``libpango-1.0-0``, ``libpangoft2-1.0-0``; installed by ``scripts/setup-env.sh``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from screener.errors import ScreenerError

log = logging.getLogger(__name__)

for _noisy in ("weasyprint", "fontTools"):
    logging.getLogger(_noisy).setLevel(logging.ERROR)


class PdfError(ScreenerError):
    """The PDF renderer is missing or failed."""

    code = "pdf_failed"


def html_to_pdf(html: str, path: Path) -> None:
    """Print an HTML document (images inline as data URIs) to an A4 PDF.

    Parameters
    ----------
    html
        A self-contained HTML document.
    path
        The PDF file to write.

    Raises
    ------
    PdfError
        WeasyPrint or the system's Pango library is missing.
    """
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:
        raise PdfError(
            f"the PDF renderer (WeasyPrint) cannot start ({exc})",
            path=path,
            remedy="Run scripts/setup-env.sh (Debian: apt-get install libpango-1.0-0 "
            "libpangoft2-1.0-0), or leave out --pdf.",
        ) from exc
    HTML(string=html, base_url=None).write_pdf(str(path))
