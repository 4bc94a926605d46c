"""`python -m generator`: the `packets` command, where the console script is not on the PATH."""

from generator.cli import main

if __name__ == "__main__":  # pragma: no cover
    main(prog_name="packets")
