"""`lambdalite package`: a deployment zip for Lambda from a handler's sources."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the `package` subcommand."""
