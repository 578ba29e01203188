"""The Jinja2 templates of the pages (one environment for the whole app)."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from screener import __version__
from screener.faults import clinical_faults, span_label
from screener.tasks import get_task

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["version"] = __version__
templates.env.globals["task_label"] = lambda name: get_task(str(name)).label
#: The fault entries the clinical pages show (:func:`screener.faults.clinical_faults`:
#: research measures out, values too uncertain to show blanked).
templates.env.filters["clinical_faults"] = clinical_faults
#: A flag's severity span ("could be mild to severe", :func:`screener.faults.span_label`).
templates.env.filters["span_label"] = span_label
