"""Errors the screener raises on purpose.

Every error a user can cause (a bad file, the wrong view, too few events) is a
:class:`ScreenerError`. Its message is one line that names the file, says what is
wrong and what to do about it, so the CLI, the batch runner and the web app can show
it as it is, without a traceback.
"""

from __future__ import annotations

from pathlib import Path


class ScreenerError(Exception):
    """Base class for every expected, user-facing failure.

    Parameters
    ----------
    problem
        What is wrong, in plain words.
    path
        The file concerned, if any.
    remedy
        What the user can do about it.
    """

    code = "screener_error"

    def __init__(self, problem: str, *, path: str | Path | None = None, remedy: str = "") -> None:
        self.problem = problem
        self.path = None if path is None else str(path)
        self.remedy = remedy
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """Return the message as one line: ``file: problem. remedy``."""
        head = f"{self.path}: " if self.path else ""
        tail = f" {self.remedy}" if self.remedy else ""
        text = f"{head}{self.problem.rstrip('.')}.{tail}"
        return " ".join(text.split())


class VideoError(ScreenerError):
    """The file is not a readable video, is empty or truncated, or its frame rate is off."""

    code = "bad_video"


class NoPersonError(ScreenerError):
    """No person, or not enough of one (feet out of frame), was found in the video."""

    code = "no_person"


class ViewError(ScreenerError):
    """The camera view does not allow the measurement (e.g. frontal metrics on a side view)."""

    code = "wrong_view"


class TooFewEventsError(ScreenerError):
    """Too few frames, steps or repetitions to compute anything trustworthy."""

    code = "too_few_events"


class ConfigError(ScreenerError):
    """A configuration, norms or plan file is invalid."""

    code = "bad_config"


class OutputError(ScreenerError):
    """The results cannot be written where asked (not a folder, read-only, disk full)."""

    code = "bad_output"
