"""``python -m simcollapse``: the same command line as the ``simcollapse`` script."""

import sys

from simcollapse.cli import main

if __name__ == "__main__":
    sys.exit(main())
