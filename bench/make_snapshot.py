"""Write a large, realistic, synthetic snapshot directory (docs/snapshot-format.md), deterministically.

The same ``--objects``/``--nodes``/``--seed`` always give the same bytes. The snapshot looks like
what ``kupgrade-lint collect`` writes for a kubeadm/kubespray cluster running v1.14:

* ``cluster/<group>/<version>/<resource>.json``: one indented ``kind: List`` per resource, as the
  collector writes them (kupgrade_lint/collectors/cluster.py), objects as ``kubectl get -o json``
  prints them: ``kubectl.kubernetes.io/last-applied-configuration`` annotations (some with removed
  apiVersions), ``metadata.managedFields`` with ``fieldsV1``, status blocks;
* ``cluster/manual/<namespace>.yaml``: a share of the objects (``--yaml-share``) as hand-assembled
  multi-document YAML, as ``kubectl get -o yaml`` prints them (sorted keys, ``|`` block scalars);
* kube-system ConfigMaps: kubeadm-config (ClusterConfiguration), kube-proxy (KubeProxyConfiguration
  and kubeconfig), coredns (Corefile), kubelet-config-1.14; Prometheus configuration and Grafana
  dashboards; PrometheusRules with many expressions; ServiceMonitors and PodMonitors;
* ``helm/<namespace>/<release>.yaml`` rendered release manifests;
* ``nodes/<node>/...`` for ``--nodes`` nodes: kubespray (kubelet.service + kubelet.env) and kubeadm
  (unit + 10-kubeadm.conf + kubeadm-flags.env + /etc/default/kubelet + config.yaml) layouts,
  kubeconfigs, and static pod manifests on the control-plane nodes;
* ``registry/<host>/<repository>/tags.json``, ``tls/`` (the seed fixture's certificates) and
  ``metrics/kube-apiserver.txt``.

Usage: python bench/make_snapshot.py --objects 50000 --nodes 500 --out /tmp/kupgrade-bench/50k
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
SEED_TLS = REPO / "fixtures" / "seed-cluster" / "tls"
REGISTRY = "myregistry"
IMAGE_REPOSITORY = f"{REGISTRY}/google-containers"
CLUSTER_VERSION = "v1.14.10"
DOMAIN = "bench-k8s.local"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
GENERATOR_VERSION = 1  # bump when the output changes, so cached snapshots are regenerated

# Share of the application objects per kind (namespaces, nodes and kube-system objects come on top,
# inside the same --objects budget).
KIND_MIX: tuple[tuple[str, float], ...] = (
    ("Pod", 0.36),
    ("ReplicaSet", 0.12),
    ("Deployment", 0.08),
    ("Service", 0.08),
    ("ConfigMap", 0.10),
    ("ServiceAccount", 0.06),
    ("StatefulSet", 0.015),
    ("DaemonSet", 0.005),
    ("Job", 0.03),
    ("CronJob", 0.01),
    ("Ingress", 0.03),
    ("NetworkPolicy", 0.02),
    ("ResourceQuota", 0.005),
    ("LimitRange", 0.005),
    ("PrometheusRule", 0.01),
    ("ServiceMonitor", 0.02),
    ("PodMonitor", 0.005),
    ("HelmObject", 0.02),
)

# (kind) -> (group dir, version, resource) as the collector lists them on a v1.14 cluster.
LISTED = {
    "Namespace": ("core", "v1", "namespaces"),
    "Node": ("core", "v1", "nodes"),
    "Pod": ("core", "v1", "pods"),
    "Service": ("core", "v1", "services"),
    "ConfigMap": ("core", "v1", "configmaps"),
    "ServiceAccount": ("core", "v1", "serviceaccounts"),
    "LimitRange": ("core", "v1", "limitranges"),
    "ResourceQuota": ("core", "v1", "resourcequotas"),
    "Deployment": ("apps", "v1", "deployments"),
    "DaemonSet": ("apps", "v1", "daemonsets"),
    "StatefulSet": ("apps", "v1", "statefulsets"),
    "ReplicaSet": ("apps", "v1", "replicasets"),
    "Job": ("batch", "v1", "jobs"),
    "CronJob": ("batch", "v1beta1", "cronjobs"),
    "Ingress": ("extensions", "v1beta1", "ingresses"),
    "NetworkPolicy": ("networking.k8s.io", "v1", "networkpolicies"),
    "PodSecurityPolicy": ("policy", "v1beta1", "podsecuritypolicies"),
    "MutatingWebhookConfiguration": ("admissionregistration.k8s.io", "v1beta1", "mutatingwebhookconfigurations"),
    "ValidatingWebhookConfiguration": ("admissionregistration.k8s.io", "v1beta1", "validatingwebhookconfigurations"),
    "CustomResourceDefinition": ("apiextensions.k8s.io", "v1beta1", "customresourcedefinitions"),
    "APIService": ("apiregistration.k8s.io", "v1", "apiservices"),
    "ServiceMonitor": ("monitoring.coreos.com", "v1", "servicemonitors"),
    "PodMonitor": ("monitoring.coreos.com", "v1", "podmonitors"),
    "PrometheusRule": ("monitoring.coreos.com", "v1", "prometheusrules"),
}

API_VERSION = {kind: (v if g == "core" else f"{g}/{v}") for kind, (g, v, _) in LISTED.items()}

# apiVersions seen in last-applied annotations / managedFields, with weights: old manifests
# applied years ago still carry removed versions.
APPLIED_VERSIONS = {
    "Deployment": (("apps/v1", 6), ("extensions/v1beta1", 2), ("apps/v1beta1", 1), ("apps/v1beta2", 1)),
    "DaemonSet": (("apps/v1", 6), ("extensions/v1beta1", 3), ("apps/v1beta2", 1)),
    "StatefulSet": (("apps/v1", 7), ("apps/v1beta1", 2), ("apps/v1beta2", 1)),
    "Ingress": (("extensions/v1beta1", 5), ("networking.k8s.io/v1beta1", 4), ("networking.k8s.io/v1", 1)),
    "CronJob": (("batch/v1beta1", 9), ("batch/v2alpha1", 1)),
    "NetworkPolicy": (("networking.k8s.io/v1", 8), ("extensions/v1beta1", 2)),
}

CADVISOR_EXPRS = (
    'sum by (namespace, pod_name, container_name) (rate(container_cpu_usage_seconds_total{{namespace="{ns}", image!="", container_name!="POD"}}[5m]))',
    'sum by (namespace, pod, container) (container_memory_working_set_bytes{{namespace="{ns}", container!="POD", container!=""}})',
    'sum by (pod_name) (container_memory_rss{{namespace="{ns}", container_name="{app}"}}) / 1024 / 1024 > 900',
    'rate(container_network_receive_bytes_total{{namespace="{ns}", pod=~"{app}-.*"}}[5m])',
)
OTHER_EXPRS = (
    'histogram_quantile(0.99, sum by (le, service) (rate(http_request_duration_seconds_bucket{{namespace="{ns}", service="{app}"}}[5m]))) > 0.5',
    'sum(rate(http_requests_total{{namespace="{ns}", service="{app}", code=~"5.."}}[5m])) / sum(rate(http_requests_total{{namespace="{ns}", service="{app}"}}[5m])) > 0.05',
    'kube_deployment_status_replicas_available{{namespace="{ns}", deployment="{app}"}} < kube_deployment_spec_replicas{{namespace="{ns}", deployment="{app}"}}',
    'increase(kube_pod_container_status_restarts_total{{namespace="{ns}", pod=~"{app}-.*"}}[1h]) > 5',
    'up{{job="{app}", namespace="{ns}"}} == 0',
    'avg_over_time(process_resident_memory_bytes{{job="{app}"}}[10m]) > 2e9',
)


class _KubectlDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Dump like ``kubectl get -o yaml``: sorted keys, multi-line strings as ``|`` blocks."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_KubectlDumper.add_representer(str, _str)


def fields_v1(value: Any) -> Any:
    """The server-side-apply ``fieldsV1`` set of a (partial) object, as the apiserver writes it."""
    if isinstance(value, dict):
        out: dict[str, Any] = {".": {}} if value else {}
        for key, item in value.items():
            out[f"f:{key}"] = fields_v1(item)
        return out
    if isinstance(value, list):
        out = {".": {}}
        for i, item in enumerate(value):
            if isinstance(item, dict) and "name" in item:
                out[f'k:{{"name":"{item["name"]}"}}'] = fields_v1(item)
            elif isinstance(item, dict) and "containerPort" in item:
                out[f'k:{{"containerPort":{item["containerPort"]},"protocol":"TCP"}}'] = fields_v1(item)
            else:
                out[f"v:{json.dumps(item, sort_keys=True)}" if not isinstance(item, dict) else f"i:{i}"] = {}
        return out
    return {}


@dataclass
class Generator:
    """Build every file of the snapshot in memory per resource, then write them out."""

    objects: int
    nodes: int
    seed: int
    yaml_share: float
    rng: random.Random = field(init=False)
    lists: dict[str, list[dict]] = field(default_factory=dict)
    manual: dict[str, list[dict]] = field(default_factory=dict)
    helm: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    count: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    # -- small helpers -------------------------------------------------------------------------
    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def stamp(self, year_from: int = 2019) -> str:
        r = self.rng
        return f"{r.randint(year_from, 2023)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}Z"

    def pick(self, weighted: tuple[tuple[str, int], ...]) -> str:
        return self.rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]

    def hexid(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def meta(self, kind: str, name: str, namespace: str | None, labels: dict | None = None, annotations: dict | None = None) -> dict:
        group, version, resource = LISTED.get(kind, ("core", "v1", kind.lower() + "s"))
        base = "/api/v1" if group == "core" else f"/apis/{group}/{version}"
        link = f"{base}/namespaces/{namespace}/{resource}/{name}" if namespace else f"{base}/{resource}/{name}"
        m: dict[str, Any] = {}
        if annotations:
            m["annotations"] = annotations
        m["creationTimestamp"] = self.stamp()
        if labels:
            m["labels"] = labels
        m["name"] = name
        if namespace:
            m["namespace"] = namespace
        m["resourceVersion"] = str(self.rng.randint(1000, 90_000_000))
        m["selfLink"] = link
        m["uid"] = self.uid()
        return m

    def add(self, obj: dict, namespace: str | None = None, manual_ok: bool = True) -> None:
        """File an object under its collector List, or (for ``yaml_share`` of them) a hand-made YAML file."""
        self.count += 1
        kind = obj["kind"]
        if manual_ok and namespace and self.rng.random() < self.yaml_share:
            self.manual.setdefault(namespace, []).append(obj)
            return
        self.lists.setdefault(kind, []).append(obj)

    def managed(self, obj: dict, applied_version: str | None, extra: list[dict] | None = None) -> None:
        """last-applied annotation (kubectl apply) and managedFields, the engine's evidence of the version in use."""
        meta = obj["metadata"]
        entries = []
        spec_part = {k: v for k, v in obj.items() if k in ("spec", "data")}
        if applied_version:
            applied = {
                "apiVersion": applied_version,
                "kind": obj["kind"],
                "metadata": {"annotations": {}, "labels": meta.get("labels", {}), "name": meta["name"], "namespace": meta.get("namespace")},
                **spec_part,
            }
            meta.setdefault("annotations", {})[LAST_APPLIED] = json.dumps(applied, separators=(",", ":")) + "\n"
            entries.append({
                "apiVersion": applied_version,
                "fieldsType": "FieldsV1",
                "fieldsV1": fields_v1({"metadata": {"annotations": {LAST_APPLIED: ""}, "labels": meta.get("labels", {})}, **spec_part}),
                "manager": "kubectl",
                "operation": "Update",
                "time": self.stamp(2020),
            })
        entries.extend(extra or [])
        if entries:
            meta["managedFields"] = entries

    # -- the cluster -----------------------------------------------------------------------------
    def build(self) -> None:
        r = self.rng
        n_ns = max(3, self.objects // 250)
        self.namespaces = [f"team-{i:03d}" for i in range(n_ns - 2)] + ["monitoring", "ingress-nginx"]
        for ns in ["default", "kube-system", "kube-public"] + self.namespaces:
            self.add({"apiVersion": "v1", "kind": "Namespace", "metadata": self.meta("Namespace", ns, None), "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}, manual_ok=False)
        self.node_names = [f"master-{i + 1}" for i in range(self.masters)] + [f"worker-{i + 1:03d}" for i in range(self.nodes - self.masters)]
        for node in self.node_names:
            self.add(self.node_object(node), manual_ok=False)
        self.kube_system()
        budget = max(0, self.objects - self.count)
        kinds = [k for k, _ in KIND_MIX]
        weights = [w for _, w in KIND_MIX]
        plan = r.choices(kinds, weights=weights, k=budget)
        self.apps: dict[str, list[str]] = {}
        for i, kind in enumerate(plan):
            ns = r.choice(self.namespaces)
            app = f"app-{r.randint(0, max(10, budget // 20)):05d}"
            self.apps.setdefault(ns, []).append(app)
            getattr(self, "make_" + kind.lower())(ns, app, i)

    @property
    def masters(self) -> int:
        return 1 if self.nodes < 3 else 3 if self.nodes < 100 else 5

    def node_object(self, name: str) -> dict:
        r = self.rng
        kubelet = CLUSTER_VERSION if r.random() < 0.9 else r.choice(["v1.13.12", "v1.14.3", "v1.12.10"])
        ip = f"10.40.{r.randint(0, 255)}.{r.randint(1, 254)}"
        labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
        if name.startswith("master"):
            labels["node-role.kubernetes.io/master"] = ""
        conditions = [
            {"lastHeartbeatTime": self.stamp(2023), "lastTransitionTime": self.stamp(), "message": msg, "reason": reason, "status": status, "type": typ}
            for typ, reason, msg, status in (
                ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available", "False"),
                ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", "False"),
                ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available", "False"),
                ("Ready", "KubeletReady", "kubelet is posting ready status. AppArmor enabled", "True"),
            )
        ]
        images = [
            {"names": [f"{IMAGE_REPOSITORY}/{img}@sha256:{self.hexid(64)}", f"{IMAGE_REPOSITORY}/{img}:{CLUSTER_VERSION}"], "sizeBytes": r.randint(10**6, 3 * 10**8)}
            for img in ("kube-proxy", "pause-amd64", "coredns")
        ] + [
            {"names": [f"{REGISTRY}/apps/app-{r.randint(0, 999):05d}@sha256:{self.hexid(64)}", f"{REGISTRY}/apps/app-{r.randint(0, 999):05d}:{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 9)}"], "sizeBytes": r.randint(10**6, 10**9)}
            for _ in range(r.randint(5, 25))
        ]
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": self.meta("Node", name, None, labels, {"kubeadm.alpha.kubernetes.io/cri-socket": "/var/run/dockershim.sock", "node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}),
            "spec": {"podCIDR": f"10.233.{r.randint(64, 127)}.0/24"},
            "status": {
                "addresses": [{"address": ip, "type": "InternalIP"}, {"address": name, "type": "Hostname"}],
                "allocatable": {"cpu": "7800m", "ephemeral-storage": "94998384074", "memory": "15766736Ki", "pods": "110"},
                "capacity": {"cpu": "8", "ephemeral-storage": "103079844Ki", "memory": "16393424Ki", "pods": "110"},
                "conditions": conditions,
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "images": images,
                "nodeInfo": {
                    "architecture": "amd64", "bootID": self.uid(), "containerRuntimeVersion": "docker://18.9.7",
                    "kernelVersion": "4.15.0-58-generic", "kubeProxyVersion": kubelet, "kubeletVersion": kubelet,
                    "machineID": self.hexid(32), "operatingSystem": "linux", "osImage": "Ubuntu 18.04.3 LTS", "systemUUID": self.uid().upper(),
                },
            },
        }

    def kube_system(self) -> None:
        ks = "kube-system"
        master_ip = "10.40.34.34"
        cluster_configuration = f"""apiServer:
  certSANs:
  - kubernetes
  - kubernetes.default
  - kubernetes.default.svc
  - kubernetes.default.svc.{DOMAIN}
  - 10.233.0.1
  - localhost
  - 127.0.0.1
  - lb-apiserver.kubernetes.local
  - {master_ip}
  extraArgs:
    allow-privileged: "true"
    apiserver-count: "{self.masters}"
    authorization-mode: Node,RBAC
    bind-address: 0.0.0.0
    enable-admission-plugins: NodeRestriction,PodSecurityPolicy,Initializers
    endpoint-reconciler-type: lease
    feature-gates: VolumeSubpathEnvExpansion=true,PodPriority=true
    insecure-bind-address: 0.0.0.0
    insecure-port: "8080"
    kubelet-preferred-address-types: InternalDNS,InternalIP,Hostname,ExternalDNS,ExternalIP
    service-node-port-range: 30000-32767
    storage-backend: etcd3
  timeoutForControlPlane: 5m0s
apiVersion: kubeadm.k8s.io/v1beta1
certificatesDir: /etc/kubernetes/ssl
clusterName: {DOMAIN}
controlPlaneEndpoint: {master_ip}:6443
controllerManager:
  extraArgs:
    bind-address: 0.0.0.0
    configure-cloud-routes: "false"
    feature-gates: VolumeSubpathEnvExpansion=true
    horizontal-pod-autoscaler-use-rest-clients: "true"
    node-cidr-mask-size: "24"
    node-monitor-grace-period: 40s
    pod-eviction-timeout: 5m0s
dns:
  type: CoreDNS
etcd:
  external:
    caFile: /etc/ssl/etcd/ssl/ca.pem
    certFile: /etc/ssl/etcd/ssl/node-master-1.pem
    endpoints:
    - https://{master_ip}:2379
    keyFile: /etc/ssl/etcd/ssl/node-master-1-key.pem
featureGates:
  CoreDNS: true
imageRepository: {IMAGE_REPOSITORY}
kind: ClusterConfiguration
kubernetesVersion: {CLUSTER_VERSION}
networking:
  dnsDomain: {DOMAIN}
  podSubnet: 10.233.64.0/18
  serviceSubnet: 10.233.0.0/18
scheduler:
  extraArgs:
    bind-address: 0.0.0.0
    feature-gates: VolumeSubpathEnvExpansion=true
useHyperKubeImage: false
"""
        cluster_status = "apiEndpoints:\n" + "".join(
            f"  master-{i + 1}:\n    advertiseAddress: 10.40.34.{34 + i}\n    bindPort: 6443\n" for i in range(self.masters)
        ) + "apiVersion: kubeadm.k8s.io/v1beta1\nkind: ClusterStatus\n"
        self.add({"apiVersion": "v1", "kind": "ConfigMap", "data": {"ClusterConfiguration": cluster_configuration, "ClusterStatus": cluster_status},
                  "metadata": self.meta("ConfigMap", "kubeadm-config", ks)}, manual_ok=False)
        kube_proxy = """apiVersion: kubeproxy.config.k8s.io/v1alpha1
bindAddress: 0.0.0.0
clientConnection:
  acceptContentTypes: ""
  burst: 10
  contentType: application/vnd.kubernetes.protobuf
  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
  qps: 5
clusterCIDR: 10.233.64.0/18
configSyncPeriod: 15m0s
conntrack:
  max: null
  maxPerCore: 32768
  min: 131072
  tcpCloseWaitTimeout: 1h0m0s
  tcpEstablishedTimeout: 24h0m0s
enableProfiling: false
featureGates:
  VolumeSubpathEnvExpansion: true
  SupportIPVSProxyMode: true
healthzBindAddress: 0.0.0.0:10256
hostnameOverride: ""
iptables:
  masqueradeAll: false
  masqueradeBit: 14
  minSyncPeriod: 0s
  syncPeriod: 30s
ipvs:
  excludeCIDRs: null
  minSyncPeriod: 0s
  scheduler: rr
  syncPeriod: 30s
kind: KubeProxyConfiguration
metricsBindAddress: 127.0.0.1:10249
mode: ipvs
nodePortAddresses: []
oomScoreAdj: -999
portRange: ""
udpIdleTimeout: 250ms"""
        kubeconfig = f"""apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
    server: https://{master_ip}:6443
  name: default
contexts:
- context:
    cluster: default
    namespace: default
    user: default
  name: default
current-context: default
users:
- name: default
  user:
    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token"""
        self.add({"apiVersion": "v1", "kind": "ConfigMap", "data": {"config.conf": kube_proxy, "kubeconfig.conf": kubeconfig},
                  "metadata": self.meta("ConfigMap", "kube-proxy", ks, {"app": "kube-proxy"})}, manual_ok=False)
        corefile = f""".:53 {{
    errors
    health
    kubernetes {DOMAIN} in-addr.arpa ip6.arpa {{
      pods insecure
      upstream /etc/resolv.conf
      fallthrough in-addr.arpa ip6.arpa
    }}
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
}}
"""
        self.add({"apiVersion": "v1", "kind": "ConfigMap", "data": {"Corefile": corefile}, "metadata": self.meta("ConfigMap", "coredns", ks)}, manual_ok=False)
        kubelet_config = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: cgroupfs\nclusterDNS:\n- 10.233.0.10\n" \
                         f"clusterDomain: {DOMAIN}\nfeatureGates:\n  RotateKubeletServerCertificate: true\n  VolumeSubpathEnvExpansion: true\nmaxPods: 110\n"
        self.add({"apiVersion": "v1", "kind": "ConfigMap", "data": {"kubelet": kubelet_config}, "metadata": self.meta("ConfigMap", "kubelet-config-1.14", ks)}, manual_ok=False)
        # kube-proxy DaemonSet and CoreDNS Deployment
        proxy_container = {
            "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf", "--hostname-override=$(NODE_NAME)", "--resource-container=", "--feature-gates=SupportIPVSProxyMode=true"],
            "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}}],
            "image": f"{IMAGE_REPOSITORY}/kube-proxy:{CLUSTER_VERSION}", "imagePullPolicy": "IfNotPresent", "name": "kube-proxy",
            "securityContext": {"privileged": True},
        }
        ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": self.meta("DaemonSet", "kube-proxy", ks, {"k8s-app": "kube-proxy"}),
              "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}}, "template": {"metadata": {"labels": {"k8s-app": "kube-proxy"}}, "spec": {"containers": [proxy_container], "hostNetwork": True, "serviceAccountName": "kube-proxy"}}}}
        self.add(ds, manual_ok=False)
        coredns = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": self.meta("Deployment", "coredns", ks, {"k8s-app": "kube-dns"}),
                   "spec": {"replicas": 2, "selector": {"matchLabels": {"k8s-app": "kube-dns"}}, "template": {"metadata": {"labels": {"k8s-app": "kube-dns"}}, "spec": {
                       "containers": [{"args": ["-conf", "/etc/coredns/Corefile"], "image": f"{IMAGE_REPOSITORY}/coredns:1.3.1", "name": "coredns",
                                       "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}}}]}}}}
        self.add(coredns, manual_ok=False)
        self.add({"apiVersion": "v1", "kind": "LimitRange", "metadata": self.meta("LimitRange", "limits", ks),
                  "spec": {"limits": [{"type": "Container", "min": {"memory": "128Mi"}, "max": {"cpu": "2"}, "default": {"cpu": "500m"}}]}}, manual_ok=False)
        for name, port in (("kube-scheduler", 10251), ("kube-controller-manager", 10252)):
            self.add({"apiVersion": "v1", "kind": "Service", "metadata": self.meta("Service", f"{name}-prometheus-discovery", ks, {"k8s-app": name}),
                      "spec": {"clusterIP": "None", "ports": [{"name": "http-metrics", "port": port, "protocol": "TCP", "targetPort": port}], "selector": {"component": name}}}, manual_ok=False)
            self.add({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": self.meta("ServiceMonitor", name, "monitoring", {"k8s-app": name}),
                      "spec": {"endpoints": [{"interval": "30s", "port": "http-metrics"}], "jobLabel": "k8s-app", "namespaceSelector": {"matchNames": [ks]},
                               "selector": {"matchLabels": {"k8s-app": name}}}}, manual_ok=False)
        # Webhooks (services x and y have captured certificates in tls/), PSPs, CRDs, APIServices.
        for kind, name, svc, ns in (("MutatingWebhookConfiguration", "mutate-deploy.x.com", "x", ks), ("ValidatingWebhookConfiguration", "validate.y.com", "y", "y-system"),
                                    ("ValidatingWebhookConfiguration", "policy.z.com", "z", "z-system")):
            self.add({"apiVersion": API_VERSION[kind], "kind": kind, "metadata": self.meta(kind, name, None),
                      "webhooks": [{"clientConfig": {"caBundle": "LS0tLS1CRUdJTi...", "service": {"name": svc, "namespace": ns, "path": "/hook"}},
                                    "failurePolicy": "Ignore", "name": name, "rules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["deployments"]}]}]},
                     manual_ok=False)
        for name in ("restricted", "privileged", "psp-team"):
            psp = {"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": self.meta("PodSecurityPolicy", name, None),
                   "spec": {"fsGroup": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"}, "seLinux": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}, "volumes": ["*"]}}
            self.managed(psp, self.pick((("policy/v1beta1", 1), ("extensions/v1beta1", 1))))
            self.add(psp, manual_ok=False)
        for i in range(max(3, self.objects // 2000)):
            self.add({"apiVersion": "apiextensions.k8s.io/v1beta1", "kind": "CustomResourceDefinition", "metadata": self.meta("CustomResourceDefinition", f"things{i}.example{i}.com", None),
                      "spec": {"group": f"example{i}.com", "names": {"kind": f"Thing{i}", "plural": f"things{i}"}, "scope": "Namespaced", "version": "v1"}}, manual_ok=False)
        for group in ("metrics.k8s.io", "custom.metrics.k8s.io"):
            self.add({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": self.meta("APIService", f"v1beta1.{group}", None),
                      "spec": {"group": group, "groupPriorityMinimum": 100, "insecureSkipTLSVerify": True, "service": {"name": "metrics-server", "namespace": ks}, "version": "v1beta1", "versionPriority": 100}}, manual_ok=False)
        # Prometheus configuration and Grafana dashboards (PromQL inside ConfigMaps).
        scrape = "global:\n  scrape_interval: 30s\nscrape_configs:\n" + "".join(
            f"- job_name: {job}\n  static_configs:\n  - targets: ['{master_ip}:{port}']\n" for job, port in (("scheduler", 10251), ("controller-manager", 10252), ("kubelet-resource", 10250))
        ) + "- job_name: kubelet-resource-metrics\n  metrics_path: /metrics/resource/v1alpha1\n  scheme: https\n"
        self.add({"apiVersion": "v1", "kind": "ConfigMap", "data": {"prometheus.yml": scrape}, "metadata": self.meta("ConfigMap", "prometheus-config", "monitoring")}, manual_ok=False)
        for d in range(max(1, self.objects // 5000)):
            panels = [{"id": p, "title": f"panel {p}", "type": "graph",
                       "targets": [{"expr": self.rng.choice(CADVISOR_EXPRS + OTHER_EXPRS).format(ns="$namespace", app=f"app-{p:05d}"), "refId": "A"}]}
                      for p in range(40)]
            dashboard = json.dumps({"title": f"dashboard {d}", "panels": panels, "schemaVersion": 16}, indent=2)
            self.add({"apiVersion": "v1", "kind": "ConfigMap", "data": {f"dashboard-{d}.json": dashboard},
                      "metadata": self.meta("ConfigMap", f"grafana-dashboard-{d}", "monitoring", {"grafana_dashboard": "1"})}, manual_ok=False)

    # -- application objects (one make_<kind> per KIND_MIX entry) -------------------------------
    def pod_spec(self, app: str, ns: str) -> dict:
        r = self.rng
        containers = []
        for c in range(1 if r.random() < 0.7 else 2):
            name = app if c == 0 else "sidecar"
            container: dict[str, Any] = {
                "image": f"{REGISTRY}/apps/{app}:{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 9)}" if c == 0 else f"{REGISTRY}/tools/envoy:1.{r.randint(8, 14)}.0",
                "imagePullPolicy": "IfNotPresent",
                "name": name,
                "ports": [{"containerPort": 8080 + c, "name": "http" if c == 0 else "admin", "protocol": "TCP"}],
                "resources": {"limits": {"cpu": "1", "memory": "512Mi"}, "requests": {"cpu": "200m", "memory": "256Mi"}},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "env": [{"name": "APP_NAME", "value": app}, {"name": "NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
                        {"name": "JAVA_OPTS", "value": "-Xmx384m -XX:+UseG1GC"}],
                "volumeMounts": [{"mountPath": "/etc/app", "name": "config"}],
            }
            if r.random() < 0.01:
                container["args"] = ["--master=http://10.40.34.34:8080", "--v=2"]
            if r.random() < 0.1:
                container["securityContext"] = {"runAsUser": 1000 + r.randint(0, 100), "runAsNonRoot": True}
            containers.append(container)
        spec: dict[str, Any] = {
            "containers": containers,
            "dnsPolicy": "ClusterFirst",
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "securityContext": {"fsGroup": 2000} if r.random() < 0.3 else {},
            "serviceAccountName": app if r.random() < 0.5 else "default",
            "terminationGracePeriodSeconds": 30,
            "volumes": [{"configMap": {"defaultMode": 420, "name": f"{app}-config"}, "name": "config"}],
        }
        return spec

    def workload(self, kind: str, ns: str, app: str, spec_extra: dict, status: dict) -> dict:
        labels = {"app": app, "team": ns}
        spec = {**spec_extra, "selector": {"matchLabels": {"app": app}}, "template": {"metadata": {"creationTimestamp": None, "labels": labels}, "spec": self.pod_spec(app, ns)}}
        obj = {"apiVersion": API_VERSION[kind], "kind": kind, "metadata": self.meta(kind, app, ns, labels, {"deployment.kubernetes.io/revision": str(self.rng.randint(1, 30))}), "spec": spec, "status": status}
        version = self.pick(APPLIED_VERSIONS[kind]) if kind in APPLIED_VERSIONS else API_VERSION[kind]
        controller = {"apiVersion": API_VERSION[kind], "fieldsType": "FieldsV1", "fieldsV1": fields_v1({"metadata": {"annotations": {"deployment.kubernetes.io/revision": ""}}, "status": status}),
                      "manager": "kube-controller-manager", "operation": "Update", "time": self.stamp(2022)}
        self.managed(obj, version if self.rng.random() < 0.85 else None, [controller])
        return obj

    def replica_status(self) -> dict:
        n = self.rng.randint(1, 5)
        return {"availableReplicas": n, "conditions": [
            {"lastTransitionTime": self.stamp(), "lastUpdateTime": self.stamp(), "message": "Deployment has minimum availability.", "reason": "MinimumReplicasAvailable", "status": "True", "type": "Available"},
            {"lastTransitionTime": self.stamp(), "lastUpdateTime": self.stamp(), "message": "ReplicaSet has successfully progressed.", "reason": "NewReplicaSetAvailable", "status": "True", "type": "Progressing"},
        ], "observedGeneration": n + 3, "readyReplicas": n, "replicas": n, "updatedReplicas": n}

    def make_deployment(self, ns: str, app: str, i: int) -> None:
        spec = {"progressDeadlineSeconds": 600, "replicas": self.rng.randint(1, 5), "revisionHistoryLimit": 10,
                "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"}}
        self.add(self.workload("Deployment", ns, f"{app}-{i}", spec, self.replica_status()), ns)

    def make_statefulset(self, ns: str, app: str, i: int) -> None:
        spec = {"podManagementPolicy": "OrderedReady", "replicas": 3, "serviceName": app, "updateStrategy": {"type": "RollingUpdate"},
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}}]}
        self.add(self.workload("StatefulSet", ns, f"{app}-{i}", spec, {"replicas": 3, "readyReplicas": 3, "currentRevision": f"{app}-{self.hexid(10)}"}), ns)

    def make_daemonset(self, ns: str, app: str, i: int) -> None:
        spec = {"revisionHistoryLimit": 10, "updateStrategy": {"rollingUpdate": {"maxUnavailable": 1}, "type": "RollingUpdate"}}
        self.add(self.workload("DaemonSet", ns, f"{app}-{i}", spec, {"currentNumberScheduled": self.nodes, "desiredNumberScheduled": self.nodes, "numberReady": self.nodes}), ns)

    def make_replicaset(self, ns: str, app: str, i: int) -> None:
        name = f"{app}-{i}-{self.hexid(10)}"
        obj = self.workload("ReplicaSet", ns, name, {"replicas": 0}, {"observedGeneration": 2, "replicas": 0})
        obj["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "blockOwnerDeletion": True, "controller": True, "kind": "Deployment", "name": f"{app}-{i}", "uid": self.uid()}]
        self.add(obj, ns)

    def make_pod(self, ns: str, app: str, i: int) -> None:
        r = self.rng
        name = f"{app}-{i}-{self.hexid(10)}-{self.hexid(5)}"
        spec = self.pod_spec(app, ns)
        spec["nodeName"] = r.choice(self.node_names)
        spec["priority"] = 0
        spec["tolerations"] = [{"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
                               {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}]
        statuses = [{"containerID": f"docker://{self.hexid(64)}", "image": c["image"], "imageID": f"docker-pullable://{c['image'].split(':')[0]}@sha256:{self.hexid(64)}",
                     "lastState": {}, "name": c["name"], "ready": True, "restartCount": r.randint(0, 3), "state": {"running": {"startedAt": self.stamp(2023)}}} for c in spec["containers"]]
        status = {"conditions": [{"lastProbeTime": None, "lastTransitionTime": self.stamp(2023), "status": "True", "type": t} for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
                  "containerStatuses": statuses, "hostIP": f"10.40.{r.randint(0, 255)}.{r.randint(1, 254)}", "phase": "Running",
                  "podIP": f"10.233.{r.randint(64, 127)}.{r.randint(1, 254)}", "qosClass": "Burstable", "startTime": self.stamp(2023)}
        labels = {"app": app, "pod-template-hash": self.hexid(10)}
        meta = self.meta("Pod", name, ns, labels)
        meta["generateName"] = name.rsplit("-", 1)[0] + "-"
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "blockOwnerDeletion": True, "controller": True, "kind": "ReplicaSet", "name": meta["generateName"][:-1], "uid": self.uid()}]
        obj = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}
        self.managed(obj, None, [
            {"apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": fields_v1({"metadata": {"generateName": "", "labels": labels, "ownerReferences": meta["ownerReferences"]}, "spec": spec}),
             "manager": "kube-controller-manager", "operation": "Update", "time": self.stamp(2023)},
            {"apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": fields_v1({"status": status}), "manager": "kubelet", "operation": "Update", "time": self.stamp(2023)},
        ])
        self.add(obj, ns)

    def make_service(self, ns: str, app: str, i: int) -> None:
        r = self.rng
        name = f"{app}-{i}"
        ports = [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]
        if r.random() < 0.3:
            ports.append({"name": "metrics", "port": 9090, "protocol": "TCP", "targetPort": 9090})
        obj = {"apiVersion": "v1", "kind": "Service", "metadata": self.meta("Service", name, ns, {"app": app}),
               "spec": {"clusterIP": f"10.233.{r.randint(0, 63)}.{r.randint(1, 254)}", "ports": ports, "selector": {"app": app}, "sessionAffinity": "None", "type": "ClusterIP"},
               "status": {"loadBalancer": {}}}
        self.managed(obj, "v1")
        self.add(obj, ns)

    def make_configmap(self, ns: str, app: str, i: int) -> None:
        r = self.rng
        props = "".join(f"{app}.setting{k}={r.randint(0, 10**6)}\n" for k in range(r.randint(5, 40)))
        data = {"application.properties": props, "LOG_LEVEL": r.choice(["info", "debug", "warn"])}
        if r.random() < 0.2:
            data["config.yaml"] = "server:\n  port: 8080\nupstreams:\n" + "".join(f"- name: svc{k}\n  url: http://svc{k}.{ns}.svc:80\n" for k in range(r.randint(2, 10)))
        obj = {"apiVersion": "v1", "data": data, "kind": "ConfigMap", "metadata": self.meta("ConfigMap", f"{app}-config-{i}", ns, {"app": app})}
        self.managed(obj, "v1" if r.random() < 0.6 else None)
        self.add(obj, ns)

    def make_serviceaccount(self, ns: str, app: str, i: int) -> None:
        obj = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": self.meta("ServiceAccount", f"{app}-{i}", ns), "secrets": [{"name": f"{app}-{i}-token-{self.hexid(5)}"}]}
        if self.rng.random() < 0.05:
            obj["automountServiceAccountToken"] = False
        self.add(obj, ns)

    def make_job(self, ns: str, app: str, i: int) -> None:
        spec = {"backoffLimit": 6, "completions": 1, "parallelism": 1}
        obj = self.workload("Job", ns, f"{app}-{i}-{self.rng.randint(10**9, 2 * 10**9)}", spec, {"completionTime": self.stamp(2023), "startTime": self.stamp(2023), "succeeded": 1})
        del obj["spec"]["selector"]
        obj["spec"]["template"]["spec"]["restartPolicy"] = "OnFailure"
        if self.rng.random() < 0.8:
            obj["metadata"]["ownerReferences"] = [{"apiVersion": "batch/v1beta1", "blockOwnerDeletion": True, "controller": True, "kind": "CronJob", "name": app, "uid": self.uid()}]
        self.add(obj, ns)

    def make_cronjob(self, ns: str, app: str, i: int) -> None:
        tpl = {"metadata": {"creationTimestamp": None}, "spec": self.pod_spec(app, ns)}
        tpl["spec"]["restartPolicy"] = "OnFailure"
        obj = {"apiVersion": "batch/v1beta1", "kind": "CronJob", "metadata": self.meta("CronJob", f"{app}-{i}", ns, {"app": app}),
               "spec": {"concurrencyPolicy": "Forbid", "failedJobsHistoryLimit": 1, "jobTemplate": {"metadata": {"creationTimestamp": None}, "spec": {"template": tpl}},
                        "schedule": f"{self.rng.randint(0, 59)} * * * *", "successfulJobsHistoryLimit": 3, "suspend": False},
               "status": {"lastScheduleTime": self.stamp(2023)}}
        self.managed(obj, self.pick(APPLIED_VERSIONS["CronJob"]))
        self.add(obj, ns)

    def make_ingress(self, ns: str, app: str, i: int) -> None:
        name = f"{app}-{i}"
        obj = {"apiVersion": "extensions/v1beta1", "kind": "Ingress", "metadata": self.meta("Ingress", name, ns, {"app": app}, {"kubernetes.io/ingress.class": "nginx"}),
               "spec": {"rules": [{"host": f"{name}.{ns}.apps.{DOMAIN}", "http": {"paths": [{"backend": {"serviceName": name, "servicePort": 80}, "path": "/"}]}}],
                        "tls": [{"hosts": [f"{name}.{ns}.apps.{DOMAIN}"], "secretName": f"{name}-tls"}]},
               "status": {"loadBalancer": {"ingress": [{"ip": "10.40.34.100"}]}}}
        self.managed(obj, self.pick(APPLIED_VERSIONS["Ingress"]))
        self.add(obj, ns)

    def make_networkpolicy(self, ns: str, app: str, i: int) -> None:
        obj = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": self.meta("NetworkPolicy", f"{app}-{i}", ns),
               "spec": {"ingress": [{"from": [{"podSelector": {"matchLabels": {"app": app}}}], "ports": [{"port": 8080, "protocol": "TCP"}]}],
                        "podSelector": {"matchLabels": {"app": app}}, "policyTypes": ["Ingress"]}}
        self.managed(obj, self.pick(APPLIED_VERSIONS["NetworkPolicy"]))
        self.add(obj, ns)

    def make_resourcequota(self, ns: str, app: str, i: int) -> None:
        self.add({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": self.meta("ResourceQuota", f"quota-{i}", ns),
                  "spec": {"hard": {"limits.cpu": "40", "limits.memory": "80Gi", "pods": "200"}}, "status": {"hard": {"pods": "200"}, "used": {"pods": str(self.rng.randint(0, 200))}}}, ns)

    def make_limitrange(self, ns: str, app: str, i: int) -> None:
        self.add({"apiVersion": "v1", "kind": "LimitRange", "metadata": self.meta("LimitRange", f"limits-{i}", ns),
                  "spec": {"limits": [{"default": {"cpu": "500m", "memory": "512Mi"}, "defaultRequest": {"cpu": "100m", "memory": "128Mi"}, "type": "Container"}]}}, ns)

    def make_prometheusrule(self, ns: str, app: str, i: int) -> None:
        r = self.rng
        groups = []
        for g in range(r.randint(2, 6)):
            rules = []
            for k in range(r.randint(5, 20)):
                expr = r.choice(CADVISOR_EXPRS if r.random() < 0.3 else OTHER_EXPRS).format(ns=ns, app=app)
                if k % 2:
                    rules.append({"expr": expr + "\n", "record": f"{ns}:{app}:rule{g}_{k}"})
                else:
                    rules.append({"alert": f"{app.title()}Alert{g}{k}", "annotations": {"message": f"{{{{ $labels.namespace }}}}/{app} misbehaves ({k})."},
                                  "expr": expr + "\n", "for": "15m", "labels": {"severity": r.choice(["warning", "critical"])}})
            groups.append({"name": f"{app}.rules.{g}", "rules": rules})
        obj = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": self.meta("PrometheusRule", f"{app}-{i}", ns, {"prometheus": "k8s", "role": "alert-rules"}),
               "spec": {"groups": groups}}
        self.managed(obj, "monitoring.coreos.com/v1" if r.random() < 0.5 else None)
        self.add(obj, ns)

    def make_servicemonitor(self, ns: str, app: str, i: int) -> None:
        r = self.rng
        endpoint: dict[str, Any] = {"interval": "30s", "port": r.choice(["http", "metrics"])}
        if r.random() < 0.02:
            endpoint["path"] = "/metrics/resource/v1alpha1"
        self.add({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": self.meta("ServiceMonitor", f"{app}-{i}", ns, {"app": app}),
                  "spec": {"endpoints": [endpoint], "namespaceSelector": {"matchNames": [ns]}, "selector": {"matchLabels": {"app": app}}}}, ns)

    def make_podmonitor(self, ns: str, app: str, i: int) -> None:
        self.add({"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor", "metadata": self.meta("PodMonitor", f"{app}-{i}", ns, {"app": app}),
                  "spec": {"podMetricsEndpoints": [{"interval": "30s", "port": "metrics"}], "selector": {"matchLabels": {"app": app}}}}, ns)

    def make_helmobject(self, ns: str, app: str, i: int) -> None:
        """One object of a Helm release's rendered manifest (releases hold several)."""
        release = f"{app}-chart"
        r = self.rng
        kind = r.choice(["Deployment", "Service", "ConfigMap", "Ingress"])
        labels = {"app.kubernetes.io/instance": release, "app.kubernetes.io/managed-by": "Tiller", "helm.sh/chart": f"{app}-1.{r.randint(0, 9)}.0"}
        if kind == "Deployment":
            obj = {"apiVersion": self.pick((("apps/v1", 3), ("extensions/v1beta1", 2), ("apps/v1beta2", 1))), "kind": kind, "metadata": {"labels": labels, "name": f"{release}-{i}"},
                   "spec": {"replicas": 2, "selector": {"matchLabels": {"app": app}}, "template": {"metadata": {"labels": {"app": app}}, "spec": self.pod_spec(app, ns)}}}
        elif kind == "Service":
            obj = {"apiVersion": "v1", "kind": kind, "metadata": {"labels": labels, "name": f"{release}-{i}"}, "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}], "selector": {"app": app}}}
        elif kind == "ConfigMap":
            obj = {"apiVersion": "v1", "kind": kind, "metadata": {"labels": labels, "name": f"{release}-{i}"}, "data": {"values.yaml": "replicaCount: 2\nimage:\n  tag: latest\n"}}
        else:
            obj = {"apiVersion": self.pick((("extensions/v1beta1", 1), ("networking.k8s.io/v1beta1", 1))), "kind": kind, "metadata": {"labels": labels, "name": f"{release}-{i}"},
                   "spec": {"rules": [{"host": f"{release}.apps.{DOMAIN}", "http": {"paths": [{"backend": {"serviceName": release, "servicePort": 80}, "path": "/"}]}}]}}
        self.count += 1
        self.helm.setdefault((ns, release), []).append(obj)

    # -- nodes ---------------------------------------------------------------------------------
    def node_files(self, node: str, index: int) -> dict[str, str]:
        r = self.rng
        ip = f"10.40.{34 + index // 250}.{34 + index % 200}"
        files: dict[str, str] = {}
        http_kubeconfig = r.random() < 0.02
        kubeconfig = f"""apiVersion: v1
clusters:
- cluster:
    certificate-authority: /etc/kubernetes/ssl/ca.crt
    server: {'http://10.40.34.34:8080' if http_kubeconfig else 'https://10.40.34.34:6443'}
  name: {DOMAIN}
contexts:
- context:
    cluster: {DOMAIN}
    user: system:node:{node}
  name: system:node:{node}@{DOMAIN}
current-context: system:node:{node}@{DOMAIN}
kind: Config
preferences: {{}}
users:
- name: system:node:{node}
  user:
    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem
    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem
"""
        files["/etc/kubernetes/kubelet.conf"] = kubeconfig
        files["/etc/containerd/config.toml"] = 'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "myregistry/google-containers/pause:3.1"\n'
        master = node.startswith("master")
        if master or index % 2 == 0:  # kubespray layout
            files["/etc/systemd/system/kubelet.service"] = KUBESPRAY_UNIT
            files["/etc/kubernetes/kubelet.env"] = KUBESPRAY_ENV.format(ip=ip, node=node, domain=DOMAIN, repo=IMAGE_REPOSITORY,
                                                                      extra=r.choice(["", " --experimental-allocatable-ignore-eviction", " --keep-terminated-pod-volumes=true", " --cadvisor-port=0"]))
        else:  # kubeadm layout
            files["/usr/lib/systemd/system/kubelet.service"] = KUBEADM_UNIT
            files["/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"] = KUBEADM_DROPIN
            files["/var/lib/kubelet/kubeadm-flags.env"] = f'KUBELET_KUBEADM_ARGS="--cgroup-driver=systemd --network-plugin=cni --pod-infra-container-image={IMAGE_REPOSITORY}/pause:3.1"\n'
            files["/etc/default/kubelet"] = f'KUBELET_EXTRA_ARGS="--node-ip={ip} --node-labels=pool=workers{r.choice(["", " --allow-privileged=true", " --feature-gates=PodPriority=true"])}"\n'
            files["/var/lib/kubelet/config.yaml"] = KUBELET_CONFIG.format(domain=DOMAIN, gates=r.choice(["", "  CSIBlockVolume: true\n", "  DynamicKubeletConfig: true\n"]))
        if master:
            files["/etc/kubernetes/admin.conf"] = kubeconfig.replace(f"system:node:{node}", "kubernetes-admin")
            files["/etc/kubernetes/manifests/kube-apiserver.yaml"] = static_pod("kube-apiserver", ip, [
                f"--advertise-address={ip}", "--allow-privileged=true", f"--apiserver-count={self.masters}", "--authorization-mode=Node,RBAC",
                "--bind-address=0.0.0.0", "--client-ca-file=/etc/kubernetes/ssl/ca.crt", "--enable-admission-plugins=NodeRestriction,PodSecurityPolicy,Initializers",
                "--enable-bootstrap-token-auth=true", "--endpoint-reconciler-type=lease", "--etcd-servers=https://10.40.34.34:2379",
                "--feature-gates=VolumeSubpathEnvExpansion=true,PodPriority=true", "--insecure-bind-address=0.0.0.0", "--insecure-port=8080",
                "--kubelet-preferred-address-types=InternalDNS,InternalIP,Hostname,ExternalDNS,ExternalIP", "--secure-port=6443",
                "--service-account-key-file=/etc/kubernetes/ssl/sa.pub", "--service-cluster-ip-range=10.233.0.0/18", "--storage-backend=etcd3",
                "--tls-cert-file=/etc/kubernetes/ssl/apiserver.crt", "--tls-private-key-file=/etc/kubernetes/ssl/apiserver.key"])
            files["/etc/kubernetes/manifests/kube-controller-manager.yaml"] = static_pod("kube-controller-manager", ip, [
                "--bind-address=0.0.0.0", "--configure-cloud-routes=false", "--feature-gates=VolumeSubpathEnvExpansion=true", "--horizontal-pod-autoscaler-use-rest-clients=true",
                "--kubeconfig=/etc/kubernetes/controller-manager.conf", "--leader-elect=true", "--node-cidr-mask-size=24", "--node-monitor-grace-period=40s",
                "--pod-eviction-timeout=5m0s", "--use-service-account-credentials=true"])
            files["/etc/kubernetes/manifests/kube-scheduler.yaml"] = static_pod("kube-scheduler", ip, [
                "--bind-address=0.0.0.0", "--feature-gates=VolumeSubpathEnvExpansion=true", "--kubeconfig=/etc/kubernetes/scheduler.conf", "--leader-elect=true"])
        return files

    # -- writing -------------------------------------------------------------------------------
    def write(self, out: Path) -> dict[str, int]:
        stats = {"objects": self.count, "nodes": len(self.node_names), "files": 0, "bytes": 0}

        def put(rel: str, text: str) -> None:
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            data = text.encode("utf-8")
            path.write_bytes(data)
            stats["files"] += 1
            stats["bytes"] += len(data)

        put("kupgrade-snapshot.json", json.dumps({
            "format_version": 1, "created_by": "bench/make_snapshot.py", "created_at": "2024-01-01T00:00:00Z",
            "server_version": {"major": "1", "minor": "14", "gitVersion": CLUSTER_VERSION, "platform": "linux/amd64"},
            "collection_errors": [{"what": "list batch/v1 jobs in namespace restricted", "reason": "403 Forbidden"}],
        }, indent=2) + "\n")
        for kind, items in sorted(self.lists.items()):
            group, version, resource = LISTED[kind]
            put(f"cluster/{group}/{version}/{resource}.json", json.dumps({"apiVersion": "v1", "kind": "List", "metadata": {}, "items": items}, indent=2, ensure_ascii=False) + "\n")
        for ns, items in sorted(self.manual.items()):
            put(f"cluster/manual/{ns}.yaml", yaml.dump_all(items, Dumper=_KubectlDumper, sort_keys=True, default_flow_style=False, allow_unicode=True))
        for (ns, release), items in sorted(self.helm.items()):
            put(f"helm/{ns}/{release}.yaml", yaml.dump_all(items, Dumper=_KubectlDumper, sort_keys=False, default_flow_style=False, explicit_start=True))
        for index, node in enumerate(self.node_names):
            for path, text in self.node_files(node, index).items():
                put(f"nodes/{node}{path}", text)
        # Registry: kubeadm's images for some of the hops' versions (so some are missing), and the apps.
        versions = ["v1.14.10", "v1.15.12", "v1.16.15", "v1.17.17", "v1.18.20", "v1.19.16", "v1.20.15", "v1.21.14", "v1.22.17", "v1.23.17"]
        for image in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"):
            put(f"registry/{IMAGE_REPOSITORY}/{image}/tags.json", json.dumps({"name": f"google-containers/{image}", "tags": versions}))
        put(f"registry/{IMAGE_REPOSITORY}/coredns/tags.json", json.dumps({"name": "google-containers/coredns", "tags": ["1.3.1", "1.6.2", "1.6.5", "1.6.7", "1.7.0", "v1.8.0", "v1.8.4"]}))
        for image in ("pause", "pause-amd64"):
            put(f"registry/{IMAGE_REPOSITORY}/{image}/tags.json", json.dumps({"name": f"google-containers/{image}", "tags": ["3.1", "3.2", "3.4.1", "3.5", "3.6"]}))
        apps = sorted({app for apps in self.apps.values() for app in apps}) if hasattr(self, "apps") else []
        for app in apps:
            put(f"registry/{REGISTRY}/apps/{app}/tags.json", json.dumps({"name": f"apps/{app}", "tags": [f"{a}.{b}.{c}" for a in range(1, 3) for b in range(0, 5) for c in range(0, 3)]}))
        if SEED_TLS.is_dir():
            for pem in sorted(SEED_TLS.glob("*.pem")):
                put(f"tls/{pem.name}", pem.read_text(encoding="utf-8"))
        put("metrics/kube-apiserver.txt", "# kupgrade-lint kept only: apiserver_requested_deprecated_apis\n"
            'apiserver_requested_deprecated_apis{group="extensions",removed_release="1.22",resource="ingresses",subresource="",version="v1beta1"} 1\n')
        return stats


def static_pod(component: str, ip: str, flags: list[str]) -> str:
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"creationTimestamp": None, "labels": {"component": component, "tier": "control-plane"}, "name": component, "namespace": "kube-system"},
        "spec": {
            "containers": [{
                "command": [component] + flags, "image": f"{IMAGE_REPOSITORY}/{component}:{CLUSTER_VERSION}", "imagePullPolicy": "IfNotPresent",
                "livenessProbe": {"failureThreshold": 8, "httpGet": {"host": ip, "path": "/healthz", "port": 6443, "scheme": "HTTPS"}, "initialDelaySeconds": 15, "timeoutSeconds": 15},
                "name": component, "resources": {"requests": {"cpu": "250m"}},
                "volumeMounts": [{"mountPath": "/etc/kubernetes/ssl", "name": "k8s-certs", "readOnly": True}],
            }],
            "hostNetwork": True, "priorityClassName": "system-cluster-critical",
            "volumes": [{"hostPath": {"path": "/etc/kubernetes/ssl", "type": "DirectoryOrCreate"}, "name": "k8s-certs"}],
        },
        "status": {},
    }
    return yaml.dump(pod, Dumper=_KubectlDumper, sort_keys=True, default_flow_style=False)


KUBESPRAY_UNIT = """[Unit]
Description=Kubernetes Kubelet Server
Documentation=https://github.com/GoogleCloudPlatform/kubernetes
After=docker.service
Wants=docker.socket

[Service]
User=root
EnvironmentFile=-/etc/kubernetes/kubelet.env
ExecStartPre=-/bin/mkdir -p /var/lib/kubelet/volume-plugins
ExecStart=/usr/local/bin/kubelet \\
\t\t$KUBE_LOGTOSTDERR \\
\t\t$KUBE_LOG_LEVEL \\
\t\t$KUBELET_API_SERVER \\
\t\t$KUBELET_ADDRESS \\
\t\t$KUBELET_PORT \\
\t\t$KUBELET_HOSTNAME \\
\t\t$KUBE_ALLOW_PRIV \\
\t\t$KUBELET_ARGS \\
\t\t$DOCKER_SOCKET \\
\t\t$KUBELET_NETWORK_PLUGIN \\
\t\t$KUBELET_VOLUME_PLUGIN \\
\t\t$KUBELET_CLOUDPROVIDER
Restart=always
RestartSec=10s

[Install]
WantedBy=multi-user.target
"""

KUBESPRAY_ENV = """### Upstream source https://github.com/kubernetes/release/blob/master/debian/xenial/kubeadm/channel/stable/etc/systemd/system/kubelet.service.d/
### All upstream values should be present in this file

# logging to stderr means we get it in the systemd journal
KUBE_LOGTOSTDERR="--logtostderr=true"
KUBE_LOG_LEVEL="--v=2"
# The address for the info server to serve on (set to 0.0.0.0 or "" for all interfaces)
KUBELET_ADDRESS="--address={ip} --node-ip={ip}"
# The port for the info server to serve on
# KUBELET_PORT="--port=10250"
# You may leave this blank to use the actual hostname
KUBELET_HOSTNAME="--hostname-override={node}"

KUBELET_ARGS="--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf \\
--kubeconfig=/etc/kubernetes/kubelet.conf \\
--authentication-token-webhook \\
--enforce-node-allocatable="" \\
--client-ca-file=/etc/kubernetes/ssl/ca.crt \\
--rotate-certificates \\
--pod-manifest-path=/etc/kubernetes/manifests \\
--pod-infra-container-image={repo}/pause-amd64:3.1 \\
--node-status-update-frequency=10s \\
--cgroup-driver=cgroupfs \\
--max-pods=110 \\
--anonymous-auth=false \\
--read-only-port=0 \\
--fail-swap-on=True \\
--feature-gates=VolumeSubpathEnvExpansion=true \\
--runtime-cgroups=/systemd/system.slice --kubelet-cgroups=/systemd/system.slice \\
 --cluster-dns=10.233.0.10 --cluster-domain={domain} --resolv-conf=/etc/resolv.conf --kube-reserved cpu=200m,memory=512M{extra} --node-labels=   "
KUBELET_NETWORK_PLUGIN="--network-plugin=cni --cni-conf-dir=/etc/cni/net.d --cni-bin-dir=/opt/cni/bin"
KUBELET_VOLUME_PLUGIN="--volume-plugin-dir=/var/lib/kubelet/volume-plugins"
# Should this cluster be allowed to run privileged docker containers
KUBE_ALLOW_PRIV="--allow-privileged=true"
KUBELET_CLOUDPROVIDER=""

PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
"""

KUBEADM_UNIT = """[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/home/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
"""

KUBEADM_DROPIN = """# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the KUBELET_KUBEADM_ARGS variable dynamically
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# This is a file that the user can use for overrides of the kubelet args as a last resort.
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
"""

KUBELET_CONFIG = """address: 0.0.0.0
apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  anonymous:
    enabled: false
  webhook:
    cacheTTL: 2m0s
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
cgroupDriver: systemd
clusterDNS:
- 10.233.0.10
clusterDomain: {domain}
evictionHard:
  imagefs.available: 15%
  memory.available: 100Mi
  nodefs.available: 10%
featureGates:
  RotateKubeletServerCertificate: true
{gates}kind: KubeletConfiguration
maxPods: 110
rotateCertificates: true
staticPodPath: /etc/kubernetes/manifests
"""


def generate(out: Path, objects: int, nodes: int, seed: int = 1, yaml_share: float = 0.25) -> dict[str, int]:
    """Write the snapshot into ``out`` (replaced if it exists) and return what was written."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    gen = Generator(objects, nodes, seed, yaml_share)
    gen.build()
    return gen.write(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=10_000, help="Kubernetes objects in cluster/ and helm/ (default 10000)")
    parser.add_argument("--nodes", type=int, default=None, help="node directories and Node objects (default objects/100)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--yaml-share", type=float, default=0.25, help="share of namespaced objects written as multi-document YAML (default 0.25)")
    parser.add_argument("--out", type=Path, required=True, help="snapshot directory to (re)create")
    args = parser.parse_args(argv)
    nodes = args.nodes if args.nodes is not None else max(1, args.objects // 100)
    stats = generate(args.out, args.objects, nodes, args.seed, args.yaml_share)
    print(f"{args.out}: {stats['objects']} objects, {stats['nodes']} nodes, {stats['files']} files, {stats['bytes'] / 2**20:.1f} MiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
