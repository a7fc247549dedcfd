"""The names of a snapshot's parts (docs/snapshot-format.md), shared by its readers and writers."""

METADATA_FILE = "kupgrade-snapshot.json"
TOP_LEVEL = frozenset({"audit", "cluster", "discovery", "helm", "nodes", "registry", "tls", "metrics", METADATA_FILE})
