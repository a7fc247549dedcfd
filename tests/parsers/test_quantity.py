"""Kubernetes resource quantities."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kupgrade_lint.parsers.quantity import parse_quantity


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100m", Decimal("0.1")),
        ("70Mi", Decimal(70 * 2**20)),
        ("170Mi", Decimal(170 * 2**20)),
        ("1Gi", Decimal(2**30)),
        ("0.5Gi", Decimal(2**29)),
        ("512M", Decimal(512 * 10**6)),
        ("2", Decimal(2)),
        ("1e3", Decimal(1000)),
        ("1.5k", Decimal(1500)),
        (" 250m ", Decimal("0.25")),
        (3, Decimal(3)),
    ],
)
def test_quantities(text: object, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "abc", "10Xi", "Mi", "1..2", None])
def test_not_quantities(text: object) -> None:
    assert parse_quantity(text) is None


def test_binary_and_decimal_suffixes_differ() -> None:
    assert parse_quantity("100Mi") > parse_quantity("100M")
