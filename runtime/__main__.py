"""`python -m runtime`: the Runtime API loop, as a `bootstrap` script runs it."""

from __future__ import annotations

import sys

from .loop import main

if __name__ == "__main__":
    sys.exit(main())
