"""Unit tests of kupgrade_lint.parsers."""
