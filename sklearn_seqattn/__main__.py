"""``python -m sklearn_seqattn``: the ``seqattn`` command line."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
