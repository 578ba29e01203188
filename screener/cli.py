"""The ``screener`` command: a thin layer over the library.

Sub-commands live with the code they drive; each such module exposes
``register(subparsers)`` which adds its parser(s) and sets ``func`` to a callable
``(argparse.Namespace) -> int``. Expected failures (:class:`ScreenerError`) are shown as
one line on stderr with a non-zero exit code, never as a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import importlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from screener.errors import ScreenerError

log = logging.getLogger("screener")

#: (module, pip extra needed) of the optional sub-command groups.
_PLUGINS: tuple[tuple[str, str], ...] = (
    ("screener.batch.cli", "batch"),
    ("screener.web.cli", "web"),
    ("screener.web.cli_admin", "web"),
)


#: Sub-commands of the core library (no extra needed), by the module that registers them.
_CORE_COMMANDS: dict[str, str] = {"analyze": "screener.cli_analyze"}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Build the argument parser.

    Parameters
    ----------
    command
        The sub-command about to run (see :func:`command_of`). When it is a core one
        (``analyze``) only its parser is built and the optional groups are not imported;
        otherwise (None, a plugin's command, a typo) every available sub-command is.

    Notes
    -----
    Importing the web and batch groups' modules and building their parsers costs about
    0.05 s of every ``screener analyze`` process; ``screener --help`` and any other
    command still see them all.
    """
    parser = argparse.ArgumentParser(
        prog="screener",
        description="ITB movement-fault screener: video -> pose -> angles -> flags -> plan.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    if command in _CORE_COMMANDS:
        importlib.import_module(_CORE_COMMANDS[command]).register(sub)
        return parser
    for module_name in _CORE_COMMANDS.values():
        importlib.import_module(module_name).register(sub)
    for module_name, extra in _PLUGINS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            log.debug(
                "sub-commands of %s unavailable (%s); pip install 'screener[%s]'",
                module_name,
                exc,
                extra,
            )
            continue
        module.register(sub)
    return parser


def command_of(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv`` (the first argument not an option), or None.

    The global options (``-v``, ``-q``) take no value, so the first argument that does not
    start with ``-`` names the sub-command; None when help is asked for before it (the
    help lists every sub-command).
    """
    for arg in argv:
        if arg in ("-h", "--help"):
            return None
        if not arg.startswith("-"):
            return arg
    return None


def configure_logging(verbose: int, quiet: bool) -> None:
    """Log to stderr: warnings by default, info with -v, debug with -vv.

    Python warnings of libraries (numpy RuntimeWarnings on empty slices, matplotlib
    UserWarnings) go to the ``py.warnings`` logger, shown from ``-v`` on: the screener
    reports what matters in its own words. MediaPipe's native start-up lines are kept off
    the terminal by :func:`screener.pose.quiet_native_stderr` (shown with ``-vv``).
    """
    level = (
        logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    )
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").setLevel(logging.WARNING if verbose else logging.ERROR)


#: glibc ``mallopt`` parameters (malloc.h) and the values ``screener analyze`` sets.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD_BYTES, _TRIM_THRESHOLD_BYTES = 4 * 1024 * 1024, 1024 * 1024
#: The trim threshold while the video is decoded (:func:`frame_memory_reused`).
_DECODING_TRIM_THRESHOLD_BYTES = 4 * 1024 * 1024


def return_freed_memory_promptly() -> bool:
    """Make glibc hand large freed blocks back to the system soon; True if it was set.

    Notes
    -----
    By default glibc raises its mmap threshold each time a large block is freed (up to
    32 MiB) and its trim threshold with it, so arrays and frames freed after pose
    estimation stay resident while the analysis and report libraries load. Fixed at
    4 MiB (blocks above it are mapped and unmapped on their own; a frame of the pose
    model's size, 2.7 MiB, is still reused from the heap) with the heap trimmed from
    1 MiB free, measured on a 1080x1920 clip with ``screener analyze --no-cache``
    (December 2026, loaded machine): peak 514 MiB and 17.4 CPU s with glibc's defaults,
    413 MiB and 17.8 CPU s with these, 408 MiB and 20.5 CPU s with a 256 KiB mmap
    threshold (page faults on every frame). Nothing happens on other C libraries.

    PyArrow (``frames.parquet``) is also told to allocate from the C library
    (``ARROW_DEFAULT_MEMORY_POOL=system``, unless the variable is already set; read when
    pyarrow first allocates, so this must run before): its own allocator, mimalloc, kept
    the 15-18 MiB of writing the frames of a 10-minute clip after the file was written,
    at the process's peak (``bench/analysis_memory.py``, December 2026).
    """
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    if not sys.platform.startswith("linux"):
        return False
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES)
        return True
    return False


@contextmanager
def frame_memory_reused(enabled: bool = True) -> Iterator[None]:
    """While the pose pass decodes the video, keep freed heap for the next frame instead
    of returning it to the system at once.

    Notes
    -----
    With the trim threshold of :func:`return_freed_memory_promptly` (1 MiB), each frame
    the pose pass frees (the 720x1280 RGB frame, 2.6 MiB, and MediaPipe's copy of it)
    leaves more than 1 MiB free at the top of a heap, which glibc hands back to the
    system, and the next frame faults the same pages in again. Inside, the threshold is
    4 MiB (the mmap threshold: no block from the heap is larger), so the pages are
    reused; on leaving it is 1 MiB again and the heap is trimmed. Measured 3 December
    2026, ``screener analyze --no-cache`` of the 1080x1920, 60 fps, 5-s benchmark clip,
    10 pairs alternating with the code before (2 cores, quiet): page faults 265k -> 226k
    a run, system CPU 1.42 -> 1.27 s, CPU 11.49 -> 11.28 s (medians; lower in 7 of the
    10 pairs), peak memory unchanged (306-334 MiB against 306-339); 4K clip peaks
    375-386 MiB against 375-378. Kept over the searches as well (the whole video stage),
    the 4K clip peaked at 397 MiB in one run of six (402 MiB with 8 MiB). Nothing happens
    unless ``enabled`` (:func:`return_freed_memory_promptly` set the thresholds).
    """
    if not enabled:
        yield
        return
    libc = ctypes.CDLL("libc.so.6")
    libc.mallopt(_M_TRIM_THRESHOLD, _DECODING_TRIM_THRESHOLD_BYTES)
    try:
        yield
    finally:
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES)
        libc.malloc_trim(0)


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector, e.g. while the analysis libraries load.

    Notes
    -----
    Importing pandas and SciPy makes hundreds of thousands of objects that live as long
    as the process, and the collector runs over them again and again while they are
    made: about 0.1 of the 0.18 CPU s the collector took in a cached ``screener analyze``
    of a 1080x1920 clip (December 2026). On leaving, the objects then alive are frozen
    (:func:`gc.freeze`: later collections skip them) and collection resumes; memory is
    still freed by reference counting meanwhile. For a process that analyses one video;
    nothing happens if the collector is already off.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


#: Sub-commands whose native libraries' start-up lines are hidden unless ``-v``.
_QUIET_NATIVE_COMMANDS = frozenset({"analyze", "batch"})


@contextmanager
def native_stderr_hidden(enabled: bool = True) -> Iterator[None]:
    """Hide what native code (MediaPipe's C++ glog/absl, TensorFlow Lite) writes to stderr.

    File descriptor 2 is pointed at a temporary file for the duration; Python's
    ``sys.stderr`` (logging, error lines, progress bars) keeps writing to the terminal.
    Nothing happens when ``enabled`` is False or ``sys.stderr`` is not descriptor 2 (e.g.
    under a test runner's capture).

    Notes
    -----
    Child processes started meanwhile (Dask workers) inherit the hidden descriptor 2:
    their native lines are hidden too. What was hidden is logged at DEBUG level.
    """
    try:
        real = enabled and sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        real = False
    if not real:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    python_stderr = sys.stderr
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        terminal = open(  # noqa: SIM115 - closed below, after fd 2 is restored
            saved, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False
        )
        sys.stderr = terminal
        try:
            yield
        finally:
            terminal.flush()
            os.dup2(saved, 2)
            sys.stderr = python_stderr
            for handler in logging.getLogger().handlers:
                if isinstance(handler, logging.StreamHandler) and handler.stream is terminal:
                    handler.setStream(python_stderr)
            terminal.close()
            os.close(saved)
            capture.seek(0)
            hidden = capture.read(64 * 1024).decode("utf-8", "replace").strip()
            if hidden:
                log.debug("native libraries wrote to stderr:\n%s", hidden)


#: Cycles an idle OpenBLAS worker thread spins before it sleeps, as a power of two
#: (``OPENBLAS_THREAD_TIMEOUT``; OpenBLAS's own default is 28), in ``screener analyze``.
_BLAS_THREAD_TIMEOUT_LOG2 = 16


def idle_blas_threads_sleep() -> None:
    """Let OpenBLAS's worker threads sleep soon after a call instead of spinning.

    Notes
    -----
    NumPy and SciPy each load OpenBLAS with a worker thread per extra core. After a
    threaded call a worker spins, waiting for the next one, for 2**28 CPU cycles (about
    0.1 s) before it sleeps, so each threaded call of the analysis (the frame model's
    products among them) left a core busy doing nothing, unless another thread needed
    it. ``screener analyze --no-cache`` of the 1080x1920, 60 fps, 5-s benchmark clip
    (December 2026, 2 cores, measured per thread): NumPy's worker 0.30-0.32 CPU s and
    SciPy's 0.10 s, doing almost nothing else; with 2**16 cycles (about 25 us) 0.01-0.02
    and 0.00 s. The threads and how the work is split between
    them are unchanged, so every result is bit-identical (one thread instead,
    ``OPENBLAS_NUM_THREADS=1``, changes the last digits of the frame model's angles).
    OpenBLAS reads the variable when it is loaded: this must run before NumPy is
    imported (:func:`main` calls it before building the parser). A value already set is
    kept.
    """
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", str(_BLAS_THREAD_TIMEOUT_LOG2))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``screener`` console script."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = command_of(arguments)
    if command == "analyze":  # one video per process, NumPy not yet imported
        idle_blas_threads_sleep()
    parser = build_parser(command)
    args = parser.parse_args(arguments)
    quiet_native = args.verbose == 0 and args.command in _QUIET_NATIVE_COMMANDS
    with native_stderr_hidden(quiet_native):
        configure_logging(args.verbose, args.quiet)
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    """Run the chosen sub-command; expected failures become one line on stderr."""
    try:
        code = int(args.func(args))
    except ScreenerError as exc:
        sys.stderr.write(f"screener: error: {exc.one_line()}\n")
        return 2
    except OSError as exc:
        # A file-system failure no ScreenerError describes: one line, no traceback.
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"screener: error: {where}{exc.strerror or exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("screener: interrupted\n")
        return 130
    return code


if __name__ == "__main__":
    raise SystemExit(main())
