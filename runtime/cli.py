"""The `lambdalite` command line: signing commands from sigv4, the rest here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand registered."""
    from sigv4 import cli as sigv4_cli

    from . import commands

    parser = argparse.ArgumentParser(
        prog="lambdalite",
        description="Sign AWS requests, run Lambda handlers locally, package them.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sigv4_cli.register(sub)
    commands.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `lambdalite` console script."""
    args = build_parser().parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
