"""The PDF report: the same context as the HTML, laid out on A4 pages with matplotlib."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

import matplotlib.image as mpimg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

A4_IN = (8.27, 11.69)
LEFT, TOP, BOTTOM = 0.07, 0.95, 0.05
WRAP = 105


class _TextPages:
    """Flows headings and wrapped paragraphs over as many A4 pages as needed."""

    def __init__(self, pdf: PdfPages) -> None:
        self.pdf = pdf
        self.fig: Figure | None = None
        self.y = TOP

    def _page(self) -> Figure:
        if self.fig is None:
            self.fig = Figure(figsize=A4_IN)
            self.y = TOP
        return self.fig

    def flush(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            self.fig = None

    def _need(self, height: float) -> Figure:
        if self.fig is not None and self.y - height < BOTTOM:
            self.flush()
        return self._page()

    def heading(self, text: str, size: float = 13) -> None:
        fig = self._need(0.05)
        fig.text(LEFT, self.y, text, fontsize=size, weight="bold", color="#1f4e79", va="top")
        self.y -= 0.012 + size / 500

    def para(self, text: str, size: float = 8.5, bold: bool = False, indent: float = 0.0) -> None:
        lines = textwrap.wrap(text, WRAP - int(indent * 100)) or [""]
        step = size / 560
        for line in lines:
            fig = self._need(step)
            fig.text(
                LEFT + indent,
                self.y,
                line,
                fontsize=size,
                va="top",
                weight="bold" if bold else "normal",
            )
            self.y -= step
        self.y -= step * 0.4

    def image(self, png: bytes, height_frac: float, caption: str = "") -> None:
        fig = self._need(height_frac + 0.03)
        img = mpimg.imread(io.BytesIO(png), format="png")
        h, w = img.shape[:2]
        aspect = (w / h) * (A4_IN[1] / A4_IN[0])
        width = min(0.86, height_frac * aspect)
        ax = fig.add_axes((LEFT, self.y - height_frac, width, height_frac))
        ax.imshow(img)
        ax.axis("off")
        self.y -= height_frac + 0.01
        if caption:
            self.para(caption, size=7.5)


def _flag_lines(ctx: dict[str, Any]) -> list[str]:
    fmt = ctx["fmt"]
    if not ctx["flags"]:
        return ["No movement fault reached a screening threshold."]
    return [
        f"{f['label']} – {f['side']}: {fmt(f['value'], f['unit'])} (n = {f['n_events']}), "
        f"threshold {fmt(f['threshold'], f['unit'])} ({f['status']}), severity {f['severity']}, "
        f"confidence {f['confidence']:.2f}. Source: {f['source']}"
        for f in ctx["flags"]
    ]


def _plan(pages: _TextPages, plan: dict[str, Any]) -> None:
    pages.heading("Plan")
    pages.para(f"{plan['status'].capitalize()}: {plan['message']}", bold=True)
    if plan.get("first_line"):
        pages.para(plan["first_line"]["title"], bold=True)
        for item in plan["first_line"]["items"]:
            pages.para(f"• {item}", indent=0.02)
        pages.para(plan["first_line"]["next_step"])
    pages.para(f"Lumbopelvic control: {plan['lumbopelvic_cue']}")
    for cue in plan.get("cues", []):
        pages.para(f"Cue: {cue}")
    for k, e in enumerate(plan["exercises"], 1):
        why = ", ".join(f"{i['fault'].replace('_', ' ')} ({i['side']})" for i in e["indicated_by"])
        pages.para(f"{k}. {e['name']}" + (f" – for {why}" if why else ""), bold=True)
        for step in e["setup"]:
            pages.para(f"– {step}", indent=0.02, size=8)
        d = e["dosage"]
        pages.para(
            f"Default dose (editable): {d['sets']} x {d['reps']}, {d['tempo']}; {d['load']}; "
            f"{d['frequency']}",
            indent=0.02,
            size=8,
        )
    pages.para(f"Progression: {plan['progression']['rule']}")
    pages.para(f"Goals: {plan['progression']['goals']}")


def write_pdf(ctx: dict[str, Any], path: Path) -> None:
    """Write the report context as a multi-page A4 PDF.

    Notes
    -----
    Pure matplotlib (no browser): headings are real text, so ``pdftotext`` finds them.
    """
    h = ctx["header"]
    with PdfPages(path) as pdf:
        pages = _TextPages(pdf)
        pages.heading(f"Movement screen: {h['task_name']}", size=16)
        pages.para(
            f"Video {h['video']} · analysed {h['date']} · task {h['task']} · view {h['view']} · "
            f"{h['fps']} fps, {h['n_frames']} frames · events left {h['n_events']['left']}, "
            f"right {h['n_events']['right']}"
        )
        pages.para(ctx["plan"]["disclaimer"], size=8)
        pages.heading("Findings")
        for line in _flag_lines(ctx):
            pages.para(line)
        for f in ctx["faults"]:
            if f["verdict"] != "flag":
                pages.para(f"{f['label']}, {f['side']} – {f['verdict']}: {f['note']}", size=7.5)
        pages.heading("Worst event per side (faces blurred)")
        for s in ctx["stills"]:
            pages.image(s["png"], 0.3, s["caption"])
        pages.heading("Angles over time")
        pages.image(ctx["timeseries_png"], 0.55)
        pages.heading("Values against norms")
        for r in ctx["rows"]:
            pages.para(
                f"{r['label']}, {r['side']}: mean {r['mean']} (SD {r['sd']}, worst {r['worst']}, "
                f"n = {r['n']}); norm: {r['norm']} [{r['status']}]; verdict {r['verdict']}"
                + (f" ({r['severity']})" if r["severity"] != "none" else "")
                + f"; confidence {r['confidence']}; SDC {r['sdc']}",
                size=7.5,
            )
        _plan(pages, ctx["plan"])
        pages.heading("Caveats")
        for c in ctx["caveats"]:
            pages.para(f"• {c}", size=8)
        pages.heading("Provenance")
        for k, v in ctx["provenance"]:
            pages.para(f"{k}: {v}", size=7)
        pages.heading("References", size=11)
        for k, text in ctx["sources"]:
            pages.para(f"[{k}] {text}", size=7)
        pages.flush()
