"""The pre-commit entry point: ``kupgrade-lint-precommit [scan options] FILE...``.

pre-commit appends the names of the changed files to the hook's arguments; ``scan`` takes
manifests only as repeated ``--manifests`` options. This turns every positional argument into
``--manifests FILE`` and runs ``kupgrade-lint scan`` with the rest unchanged. Which options take
a value is read from the scan command itself, so a new option needs no change here.
"""

from __future__ import annotations

import sys

USAGE = "usage: kupgrade-lint-precommit [scan options] FILE...  (pre-commit passes the files)"


def _value_options() -> tuple[frozenset[str], frozenset[str]]:
    """(options of ``scan`` that take a value, all option names of ``scan``)."""
    import typer.main

    from kupgrade_lint.cli import app

    scan = typer.main.get_command(app).commands["scan"]
    takes_value: set[str] = set()
    names: set[str] = set()
    for param in scan.params:
        opts = [*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ())]
        names.update(o for o in opts if o.startswith("-"))
        if not getattr(param, "is_flag", False) and not getattr(param, "count", False):
            takes_value.update(o for o in param.opts if o.startswith("-"))
    return frozenset(takes_value), frozenset(names)


def scan_arguments(argv: list[str]) -> tuple[list[str], list[str]]:
    """(the ``kupgrade-lint`` arguments for ``argv``, the files found in it).

    Options are kept as given (``--opt value`` and ``--opt=value``); every other argument is a
    file and becomes ``--manifests FILE``; everything after ``--`` is a file.
    """
    takes_value, _ = _value_options()
    options: list[str] = []
    files: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            files.extend(argv[i + 1 :])
            break
        if arg.startswith("-") and arg != "-":
            options.append(arg)
            if "=" not in arg and arg in takes_value and i + 1 < len(argv):
                options.append(argv[i + 1])
                i += 1
        else:
            files.append(arg)
        i += 1
    manifests = [part for f in files for part in ("--manifests", f)]
    return ["scan", *options, *manifests], files


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns 2 when no file is given (a scan would go live)."""
    args, files = scan_arguments(list(sys.argv[1:] if argv is None else argv))
    if not files:
        print(f"kupgrade-lint-precommit: error: no files to scan. {USAGE}", file=sys.stderr)
        return 2
    from kupgrade_lint import cli

    sys.argv = ["kupgrade-lint", *args]
    cli.main()
    return 0
