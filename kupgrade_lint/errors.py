"""User errors: problems with the input or the invocation, never crashes.

Everything below the CLI raises one of these; only the CLI turns them into a one-line message
and an exit code.
"""

from __future__ import annotations


class KupgradeError(Exception):
    """A problem the user can fix; its message is one line that names what is wrong."""


class UsageError(KupgradeError):
    """The command line asks for something impossible (unknown target, lower target, ...)."""


class InputError(KupgradeError):
    """An input (snapshot, manifests, config) cannot be used at all."""


class CatalogError(KupgradeError):
    """A catalog file in rules/ (built-in or user-supplied) is invalid."""


class CollectionError(KupgradeError):
    """Collecting from a live cluster or node failed as a whole (not a single resource)."""
