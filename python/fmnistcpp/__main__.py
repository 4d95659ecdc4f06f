"""``python -m fmnistcpp``: the command line (see `fmnistcpp.cli`)."""

import sys

from .cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
