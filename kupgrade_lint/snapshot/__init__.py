"""The snapshot: what the checks judge, read from a directory of real files (docs/snapshot-format.md)."""
