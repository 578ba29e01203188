"""The ``screener`` command: a thin layer over the library.

Sub-commands live with the code they drive; each such module exposes
``register(subparsers)`` which adds its parser(s) and sets ``func`` to a callable
``(argparse.Namespace) -> int``. Expected failures (:class:`ScreenerError`) are shown as
one line on stderr with a non-zero exit code, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from screener.errors import ScreenerError

log = logging.getLogger("screener")

#: (module, pip extra needed) of the optional sub-command groups.
_PLUGINS: tuple[tuple[str, str], ...] = (
    ("screener.batch.cli", "batch"),
    ("screener.web.cli", "web"),
    ("screener.web.cli_admin", "web"),
)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every available sub-command."""
    parser = argparse.ArgumentParser(
        prog="screener",
        description="ITB movement-fault screener: video -> pose -> angles -> flags -> plan.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    from screener import cli_analyze

    cli_analyze.register(sub)
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


def configure_logging(verbose: int, quiet: bool) -> None:
    """Log to stderr: warnings by default, info with -v, debug with -vv."""
    level = (
        logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    )
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``screener`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose, args.quiet)
    try:
        code = int(args.func(args))
    except ScreenerError as exc:
        sys.stderr.write(f"screener: error: {exc.one_line()}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("screener: interrupted\n")
        return 130
    return code


if __name__ == "__main__":
    raise SystemExit(main())
