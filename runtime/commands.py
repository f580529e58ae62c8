"""The runtime's subcommands of `lambdalite`: invoke, serve, package."""

from __future__ import annotations

import argparse
from typing import Any

from . import package


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the runtime's subcommands; each sets `run` to its handler."""
    package.register(sub)
