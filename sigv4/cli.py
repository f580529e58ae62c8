"""The signing subcommands of `lambdalite`: send, presign, canonical."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the signing subcommands; each sets `run` to its handler."""
