"""Building a large heap of parsed objects without paying the cyclic garbage collector for it.

CPython's cyclic collector runs every few hundred allocations of container objects, and each
run of its oldest generation walks every container alive. Parsing a snapshot allocates millions
of dicts and lists that live until the scan ends and never form cycles (JSON and YAML data are
trees), so those runs find nothing and cost most of the time spent reading: ``json.loads`` of
the 100,000-object benchmark snapshot takes 14.5 s with the collector running and 5.3 s without
(bench/RESULTS.md). Inside ``bulk_allocation`` the collector is paused; on leaving, everything
allocated so far is moved to the permanent generation (``gc.freeze``), so later collections
(during the checks) no longer walk it. Reference counting still frees every object that is
dropped, so memory is not held back; only cyclic garbage made meanwhile waits for the next
collection (``gc.freeze`` docs: https://docs.python.org/3/library/gc.html#gc.freeze).
"""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def bulk_allocation() -> Iterator[None]:
    """Pause the cyclic collector while the body allocates long-lived objects, then freeze them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()
