"""``python -m simcollapse.bench ...``: the same as ``simcollapse bench ...``."""

from __future__ import annotations

import argparse
import sys

from simcollapse.bench.cli import add_arguments, run

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m simcollapse.bench", description=__doc__)
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
