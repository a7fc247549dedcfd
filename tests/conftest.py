"""Shared test helpers."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

ROOT = Path(__file__).resolve().parent.parent

# Property tests keep no examples (database=None in their settings); hypothesis's other caches go
# to a temporary directory, not into the working tree.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "kupgrade-lint-hypothesis")
SEED = ROOT / "fixtures" / "seed-cluster"


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    """A writable copy of the seed snapshot, for tests that break it on purpose."""
    dest = tmp_path / "seed"
    shutil.copytree(SEED, dest)
    return dest
