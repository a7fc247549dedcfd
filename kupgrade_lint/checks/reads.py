"""The kinds of cluster objects the checks and the facts modules read, and the API groups serving them.

``kupgrade_lint.scan_needs`` joins this table with the catalog to decide what a live scan lists;
``tests/test_scan_needs.py`` fails when a check (or ``component_config``/``cluster_facts``) asks
the snapshot for a kind (``of_kind``/``find``) that is missing here, so a new check cannot be
silently blind on live clusters.
"""

from __future__ import annotations

# kind -> groups that serve it, best first. ``extensions`` only where the kind lived there once.
CHECK_READS: dict[str, tuple[str, ...]] = {
    "ConfigMap": ("",),
    "LimitRange": ("",),
    "Node": ("",),
    "Pod": ("",),
    "ReplicationController": ("",),
    "Service": ("",),
    "ServiceAccount": ("",),
    "DaemonSet": ("apps", "extensions"),
    "Deployment": ("apps", "extensions"),
    "ReplicaSet": ("apps", "extensions"),
    "StatefulSet": ("apps",),
    "CronJob": ("batch",),
    "Job": ("batch",),
    "MutatingWebhookConfiguration": ("admissionregistration.k8s.io",),
    "ValidatingWebhookConfiguration": ("admissionregistration.k8s.io",),
    # In-tree volume plugins and their CSI drivers (checks/in_tree_plugin.py).
    "PersistentVolume": ("",),
    "StorageClass": ("storage.k8s.io",),
    "CSIDriver": ("storage.k8s.io",),
    # Serving certificates of conversion webhooks and aggregated APIs (checks/certificate.py).
    "APIService": ("apiregistration.k8s.io",),
    "CustomResourceDefinition": ("apiextensions.k8s.io",),
    # Prometheus Operator objects, when their CRDs are installed.
    "PodMonitor": ("monitoring.coreos.com",),
    "PrometheusRule": ("monitoring.coreos.com",),
    "ServiceMonitor": ("monitoring.coreos.com",),
    "Prometheus": ("monitoring.coreos.com",),  # remoteWrite writeRelabelConfigs (checks/monitoring.py)
}
