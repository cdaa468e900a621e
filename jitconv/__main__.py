"""Command line: ``python -m jitconv bench | explain | wisdom | tune`` (see ``_cli``)."""
import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
