"""Shared test helpers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "fixtures" / "seed-cluster"


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    """A writable copy of the seed snapshot, for tests that break it on purpose."""
    dest = tmp_path / "seed"
    shutil.copytree(SEED, dest)
    return dest
