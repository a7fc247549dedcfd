"""Collectors: turn a live cluster and its nodes into a snapshot directory.

They gather and never judge (see docs/snapshot-format.md for what they write):

- ``cluster.collect_cluster``: objects, discovery, Helm releases, webhook certificates and
  apiserver metrics, read with get/list only;
- ``node.collect_node``: a node's kubelet, static pod, kubeconfig and containerd files;
- ``merge.merge_snapshots`` and ``archive.write_tar_gz``: put node results together and pack.

What they keep of anything that can carry a secret is one allow-list, ``allowlist.py``;
``redact.py`` applies it to what is written.
"""

from kupgrade_lint.collectors.summary import CollectSummary

__all__ = ["CollectSummary"]
