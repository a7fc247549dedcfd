"""The process exit codes, decided in one place (see ``cli.exit_code_for``)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of every kupgrade-lint command.

    0 CLEAN: nothing at or above ``--fail-on`` was found.
    1 FINDINGS: at least one unsuppressed finding at or above ``--fail-on``.
    2 USAGE_OR_INPUT_ERROR: bad command line, unusable input, config or catalog, or the report
      could not be written (a closed pipe, a full disk).
    3 INTERNAL_ERROR: a bug in kupgrade-lint; please report it.
    4 NOT_CHECKED: with ``--strict``, part of the input was not checked (an unsuppressed
      ``collection`` finding) and nothing at or above ``--fail-on`` was found; findings (1)
      take precedence, because what will break is the first thing to fix.
    """

    CLEAN = 0
    FINDINGS = 1
    USAGE_OR_INPUT_ERROR = 2
    INTERNAL_ERROR = 3
    NOT_CHECKED = 4
