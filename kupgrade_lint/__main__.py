"""Allow ``python -m kupgrade_lint``."""

from kupgrade_lint.cli import main

# Guarded: the loader's worker processes are spawned and import the main module again.
if __name__ == "__main__":
    main()
