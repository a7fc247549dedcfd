"""Allow ``python -m kupgrade_lint``."""

from kupgrade_lint.cli import main

main()
