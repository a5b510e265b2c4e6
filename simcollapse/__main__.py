"""``python -m simcollapse``: the same command line as the ``simcollapse`` script."""

from simcollapse.cli import console

if __name__ == "__main__":
    console()
