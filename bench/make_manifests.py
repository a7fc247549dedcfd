"""Write a large, realistic, synthetic manifests repository, deterministically (seeded).

Shaped like what teams keep in git and hand to ``kupgrade-lint scan --manifests DIR``:

* ``teams/<team>/<app>/base/``: ``kustomization.yaml`` (a Kustomize file, not a Kubernetes
  object), one file per object (workload, Service, ConfigMap, HPA, PDB, Ingress, NetworkPolicy,
  RBAC, ServiceMonitor, PrometheusRule);
* ``teams/<team>/<app>/overlays/<env>/``: ``kustomization.yaml`` and patch files (partial
  objects, as strategic-merge patches are written);
* ``rendered/<team>/<app>.yaml``: Helm-rendered multi-document files (``# Source:`` comments,
  ``---`` separators), which take the documents beyond one per file;
* ``platform/crds/``: CustomResourceDefinitions with OpenAPI schemas;

with pod specs (images, resources, probes, env, volumes), comments, ``|`` block scalars, and a
share of removed API versions (extensions/v1beta1 Deployments/DaemonSets/Ingresses,
apps/v1beta1/v1beta2, policy/v1beta1 PDBs, batch/v1beta1 CronJobs, rbac v1beta1,
networking v1beta1 Ingress, autoscaling/v2beta1 HPAs, apiextensions v1beta1 CRDs).

Exactly ``--files`` files and ``--documents`` YAML documents (``---``-separated, kustomization
files included); the same arguments always give the same bytes. Average document ~2.5 KiB.

Usage: python bench/make_manifests.py --files 20000 --documents 50000 --out DIR [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from pathlib import Path

GENERATOR_VERSION = 1  # bump when the output changes, so cached repositories are regenerated

TEAMS = ("payments", "search", "identity", "checkout", "platform", "data", "ml", "growth", "ads", "mobile-api",
         "billing", "catalog", "shipping", "notifications", "risk", "support")
WORDS = ("api", "worker", "gateway", "indexer", "scheduler", "sync", "web", "frontend", "backend", "cache",
         "auth", "ledger", "reporter", "exporter", "consumer", "producer", "router", "mailer", "pricing", "feed")
ENVS = ("dev", "staging", "prod")
REGISTRIES = ("registry.example.com", "gcr.io/acme-prod", "quay.io/acme", "docker.io/library", "k8s.gcr.io")

# (kind, apiVersion choices as (version, weight)): the removed versions are a realistic share.
WORKLOAD_APIS = {
    "Deployment": (("apps/v1", 0.75), ("extensions/v1beta1", 0.15), ("apps/v1beta1", 0.05), ("apps/v1beta2", 0.05)),
    "StatefulSet": (("apps/v1", 0.85), ("apps/v1beta1", 0.1), ("apps/v1beta2", 0.05)),
    "DaemonSet": (("apps/v1", 0.8), ("extensions/v1beta1", 0.15), ("apps/v1beta2", 0.05)),
    "CronJob": (("batch/v1beta1", 0.9), ("batch/v1", 0.1)),
    "Job": (("batch/v1", 1.0),),
}
OTHER_APIS = {
    "Ingress": (("networking.k8s.io/v1", 0.4), ("networking.k8s.io/v1beta1", 0.3), ("extensions/v1beta1", 0.3)),
    "PodDisruptionBudget": (("policy/v1beta1", 0.8), ("policy/v1", 0.2)),
    "HorizontalPodAutoscaler": (("autoscaling/v1", 0.4), ("autoscaling/v2beta1", 0.4), ("autoscaling/v2beta2", 0.2)),
    "Role": (("rbac.authorization.k8s.io/v1", 0.8), ("rbac.authorization.k8s.io/v1beta1", 0.2)),
    "RoleBinding": (("rbac.authorization.k8s.io/v1", 0.8), ("rbac.authorization.k8s.io/v1beta1", 0.2)),
    "ClusterRole": (("rbac.authorization.k8s.io/v1", 0.7), ("rbac.authorization.k8s.io/v1beta1", 0.3)),
    "NetworkPolicy": (("networking.k8s.io/v1", 0.9), ("extensions/v1beta1", 0.1)),
    "CustomResourceDefinition": (("apiextensions.k8s.io/v1beta1", 0.7), ("apiextensions.k8s.io/v1", 0.3)),
}
# Documents of a Helm-rendered file, by weight.
RENDERED_KINDS = (
    ("Deployment", 14), ("StatefulSet", 3), ("DaemonSet", 1), ("CronJob", 3), ("Job", 1),
    ("Service", 14), ("ConfigMap", 14), ("Secret", 3), ("ServiceAccount", 3), ("Ingress", 5),
    ("HorizontalPodAutoscaler", 4), ("PodDisruptionBudget", 4), ("NetworkPolicy", 3),
    ("Role", 2), ("RoleBinding", 2), ("ClusterRole", 1), ("ServiceMonitor", 4), ("PrometheusRule", 2),
)


def _pick(rng: random.Random, choices) -> str:
    values = [c[0] for c in choices]
    weights = [c[1] for c in choices]
    return rng.choices(values, weights)[0]


class Writer:
    """Builds one document's text; every document goes through ``doc`` so the count is exact."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.serial = 0

    # -- pieces -----------------------------------------------------------------------------
    def labels(self, app: str, team: str, indent: str) -> str:
        return (f"{indent}app.kubernetes.io/name: {app}\n{indent}app.kubernetes.io/part-of: {team}\n"
                f"{indent}app.kubernetes.io/managed-by: {self.rng.choice(('Helm', 'kustomize', 'argocd'))}\n"
                f"{indent}app.kubernetes.io/instance: {app}\n{indent}app.kubernetes.io/version: \"{self.rng.randint(1, 9)}.{self.rng.randint(0, 40)}.0\"\n"
                f"{indent}helm.sh/chart: {app.rsplit('-', 1)[0]}-{self.rng.randint(0, 5)}.{self.rng.randint(0, 20)}.{self.rng.randint(0, 9)}\n"
                f"{indent}team: {team}\n")

    def metadata(self, name: str, ns: str | None, app: str, team: str, annotations: bool = True) -> str:
        out = f"metadata:\n  name: {name}\n"
        if ns:
            out += f"  namespace: {ns}\n"
        out += "  labels:\n" + self.labels(app, team, "    ")
        if annotations and self.rng.random() < 0.7:
            out += (f"  annotations:\n    owner: \"{team}@example.com\"\n"
                    f"    runbook: https://wiki.example.com/runbooks/{team}/{app}\n"
                    f"    checksum/config: {self.rng.getrandbits(256):064x}\n"
                    f"    argocd.argoproj.io/sync-wave: \"{self.rng.randint(-2, 5)}\"\n")
        return out

    def image(self, app: str) -> str:
        rng = self.rng
        tag = rng.choice((f"{rng.randint(0, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}", "latest",
                          f"sha-{rng.getrandbits(28):07x}", f"v{rng.randint(1, 3)}.{rng.randint(0, 20)}"))
        return f"{rng.choice(REGISTRIES)}/{app}:{tag}"

    def container(self, app: str, name: str, indent: str) -> str:
        rng = self.rng
        i = indent
        port = rng.choice((8080, 8000, 3000, 9090, 5000, 8443))
        out = (f"{i}- name: {name}\n{i}  image: {self.image(app)}\n"
               f"{i}  imagePullPolicy: {rng.choice(('IfNotPresent', 'Always'))}\n")
        if rng.random() < 0.3:
            out += f"{i}  args:\n" + "".join(f"{i}  - --{flag}\n" for flag in rng.sample(
                ("log-level=info", "port=8080", "metrics", "config=/etc/app/config.yaml", "v=2", "enable-profiling",
                 "max-connections=200", "leader-elect"), rng.randint(1, 4)))
        out += f"{i}  ports:\n{i}  - name: http\n{i}    containerPort: {port}\n{i}    protocol: TCP\n"
        if rng.random() < 0.4:
            out += f"{i}  - name: metrics\n{i}    containerPort: 9102\n"
        out += f"{i}  env:\n"
        for n in range(rng.randint(6, 20)):
            key = rng.choice(("LOG_LEVEL", "DB_HOST", "DB_PORT", "REDIS_URL", "FEATURE_FLAGS", "JAVA_OPTS",
                              "GOMAXPROCS", "OTEL_EXPORTER_OTLP_ENDPOINT", "REGION", "CACHE_TTL")) + f"_{n}"
            choice = rng.random()
            if choice < 0.6:
                out += f"{i}  - name: {key}\n{i}    value: \"{rng.choice(('info', 'debug', '5432', 'true', 'eu-west-1', '300'))}\"\n"
            elif choice < 0.8:
                out += (f"{i}  - name: {key}\n{i}    valueFrom:\n{i}      secretKeyRef:\n"
                        f"{i}        name: {app}-secrets\n{i}        key: {key.lower()}\n")
            else:
                out += (f"{i}  - name: {key}\n{i}    valueFrom:\n{i}      fieldRef:\n"
                        f"{i}        fieldPath: {rng.choice(('metadata.namespace', 'status.podIP', 'spec.nodeName'))}\n")
        cpu = rng.choice(("50m", "100m", "250m", "500m", "1", "2"))
        mem = rng.choice(("64Mi", "128Mi", "256Mi", "512Mi", "1Gi", "2Gi"))
        out += (f"{i}  resources:\n{i}    requests:\n{i}      cpu: {cpu}\n{i}      memory: {mem}\n"
                f"{i}    limits:\n{i}      memory: {mem}\n")
        if rng.random() < 0.8:
            for probe in ("livenessProbe", "readinessProbe"):
                out += (f"{i}  {probe}:\n{i}    httpGet:\n{i}      path: /{'healthz' if probe[0] == 'l' else 'ready'}\n"
                        f"{i}      port: http\n{i}    initialDelaySeconds: {rng.choice((5, 10, 15, 30))}\n"
                        f"{i}    periodSeconds: 10\n{i}    timeoutSeconds: {rng.choice((1, 2, 5))}\n")
        if rng.random() < 0.6:
            out += (f"{i}  startupProbe:\n{i}    tcpSocket:\n{i}      port: http\n{i}    failureThreshold: 30\n{i}    periodSeconds: 5\n"
                    f"{i}  lifecycle:\n{i}    preStop:\n{i}      exec:\n{i}        command: [\"/bin/sh\", \"-c\", \"sleep 15\"]\n")
        out += (f"{i}  volumeMounts:\n{i}  - name: config\n{i}    mountPath: /etc/app\n{i}    readOnly: true\n"
                f"{i}  - name: tmp\n{i}    mountPath: /tmp\n")
        if rng.random() < 0.5:
            out += (f"{i}  securityContext:\n{i}    runAsNonRoot: true\n{i}    runAsUser: {rng.choice((1000, 65534, 10001))}\n"
                    f"{i}    allowPrivilegeEscalation: false\n{i}    readOnlyRootFilesystem: true\n")
        return out

    def pod_spec(self, app: str, indent: str, restart: str | None = None) -> str:
        rng = self.rng
        i = indent
        out = ""
        if restart:
            out += f"{i}restartPolicy: {restart}\n"
        out += (f"{i}serviceAccountName: {app}\n{i}terminationGracePeriodSeconds: {rng.choice((30, 60, 120))}\n"
                f"{i}securityContext:\n{i}  fsGroup: 2000\n{i}  seccompProfile:\n{i}    type: RuntimeDefault\n")
        if rng.random() < 0.5:
            out += (f"{i}topologySpreadConstraints:\n{i}- maxSkew: 1\n{i}  topologyKey: topology.kubernetes.io/zone\n"
                    f"{i}  whenUnsatisfiable: ScheduleAnyway\n{i}  labelSelector:\n{i}    matchLabels:\n{i}      app.kubernetes.io/name: {app}\n")
        if rng.random() < 0.3:
            out += f"{i}nodeSelector:\n{i}  kubernetes.io/os: linux\n{i}  node-pool: {rng.choice(('general', 'compute', 'memory'))}\n"
        if rng.random() < 0.2:
            out += (f"{i}tolerations:\n{i}- key: dedicated\n{i}  operator: Equal\n{i}  value: {app}\n"
                    f"{i}  effect: NoSchedule\n")
        if rng.random() < 0.3:
            out += (f"{i}affinity:\n{i}  podAntiAffinity:\n{i}    preferredDuringSchedulingIgnoredDuringExecution:\n"
                    f"{i}    - weight: 100\n{i}      podAffinityTerm:\n{i}        topologyKey: kubernetes.io/hostname\n"
                    f"{i}        labelSelector:\n{i}          matchLabels:\n{i}            app.kubernetes.io/name: {app}\n")
        if rng.random() < 0.2:
            out += f"{i}initContainers:\n" + self.container(app, "init-migrate", i)
        out += f"{i}containers:\n" + self.container(app, app, i)
        if rng.random() < 0.5:
            out += self.container(app, "sidecar-proxy", i)
        out += f"{i}volumes:\n{i}- name: config\n{i}  configMap:\n{i}    name: {app}-config\n{i}- name: tmp\n{i}  emptyDir: {{}}\n"
        if rng.random() < 0.1:
            out += f"{i}- name: data\n{i}  hostPath:\n{i}    path: /var/lib/{app}\n"
        return out

    # -- documents --------------------------------------------------------------------------
    def workload(self, kind: str, app: str, team: str, ns: str, api: str | None = None) -> str:
        rng = self.rng
        api = api or _pick(rng, WORKLOAD_APIS[kind])
        out = f"apiVersion: {api}\nkind: {kind}\n" + self.metadata(app, ns, app, team)
        selector = f"  selector:\n    matchLabels:\n      app.kubernetes.io/name: {app}\n"
        template_meta = ("    metadata:\n      labels:\n" + self.labels(app, team, "        ")
                         + "      annotations:\n        prometheus.io/scrape: \"true\"\n")
        if kind in ("Deployment", "StatefulSet"):
            out += f"spec:\n  replicas: {rng.choice((1, 2, 3, 5))}\n"
            if kind == "StatefulSet":
                out += f"  serviceName: {app}\n"
            else:
                out += "  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 25%\n      maxUnavailable: 0\n"
            out += selector + "  template:\n" + template_meta + "    spec:\n" + self.pod_spec(app, "      ")
            if kind == "StatefulSet":
                out += ("  volumeClaimTemplates:\n  - metadata:\n      name: data\n    spec:\n      accessModes: [\"ReadWriteOnce\"]\n"
                        f"      storageClassName: {rng.choice(('standard', 'gp2', 'fast-ssd'))}\n"
                        f"      resources:\n        requests:\n          storage: {rng.choice(('10Gi', '50Gi', '100Gi'))}\n")
        elif kind == "DaemonSet":
            out += "spec:\n" + selector + "  template:\n" + template_meta + "    spec:\n" + self.pod_spec(app, "      ")
        elif kind == "Job":
            out += f"spec:\n  backoffLimit: 3\n  template:\n" + template_meta + "    spec:\n" + self.pod_spec(app, "      ", "Never")
        else:  # CronJob
            out += (f"spec:\n  schedule: \"{rng.randint(0, 59)} {rng.randint(0, 23)} * * *\"\n  concurrencyPolicy: Forbid\n"
                    "  successfulJobsHistoryLimit: 3\n  jobTemplate:\n    spec:\n      template:\n        spec:\n"
                    + self.pod_spec(app, "          ", "OnFailure"))
        return out

    def service(self, app: str, team: str, ns: str) -> str:
        rng = self.rng
        out = "apiVersion: v1\nkind: Service\n" + self.metadata(app, ns, app, team)
        out += f"spec:\n  type: {rng.choice(('ClusterIP', 'ClusterIP', 'ClusterIP', 'NodePort', 'LoadBalancer'))}\n"
        out += f"  selector:\n    app.kubernetes.io/name: {app}\n  ports:\n  - name: http\n    port: 80\n    targetPort: http\n    protocol: TCP\n"
        if rng.random() < 0.4:
            out += "  - name: metrics\n    port: 9102\n    targetPort: 9102\n"
        return out

    def configmap(self, app: str, team: str, ns: str) -> str:
        rng = self.rng
        out = "apiVersion: v1\nkind: ConfigMap\n" + self.metadata(f"{app}-config", ns, app, team)
        out += "data:\n  config.yaml: |\n    # rendered from values; edit the chart, not this file\n"
        out += f"    server:\n      port: 8080\n      readTimeout: {rng.randint(5, 60)}s\n"
        for section in rng.sample(("database", "cache", "queue", "features", "tracing", "auth", "limits", "upstreams", "logging", "metrics",
                                          "retries", "timeouts", "storage", "mail", "search", "cors"), rng.randint(4, 14)):
            out += f"    {section}:\n"
            for n in range(rng.randint(4, 12)):
                out += f"      key{n}: {rng.choice(('true', 'false', str(rng.randint(1, 5000)), 'eu-west-1', 'https://svc.example.com/' + app))}\n"
        out += f"  LOG_LEVEL: {rng.choice(('info', 'debug', 'warn'))}\n"
        out += "  application.properties: |\n" + "".join(
            f"    {rng.choice(('spring', 'server', 'management', 'app', 'kafka'))}.{rng.choice(WORDS)}.setting{n}={rng.choice(('true', 'false', str(rng.randint(1, 99999)), 'https://' + app + '.svc.cluster.local'))}\n"
            for n in range(rng.randint(10, 50)))
        if rng.random() < 0.3:
            out += "  nginx.conf: |\n    server {\n      listen 8080;\n      location / {\n        proxy_pass http://127.0.0.1:3000;\n      }\n    }\n"
        return out

    def secret(self, app: str, team: str, ns: str) -> str:
        rng = self.rng
        out = "apiVersion: v1\nkind: Secret\n" + self.metadata(f"{app}-secrets", ns, app, team, annotations=False) + "type: Opaque\ndata:\n"
        for n in range(rng.randint(2, 6)):
            out += f"  key{n}: {rng.getrandbits(192):048x}\n"
        return out

    def service_account(self, app: str, team: str, ns: str) -> str:
        return "apiVersion: v1\nkind: ServiceAccount\n" + self.metadata(app, ns, app, team)

    def ingress(self, app: str, team: str, ns: str) -> str:
        rng = self.rng
        api = _pick(rng, OTHER_APIS["Ingress"])
        out = f"apiVersion: {api}\nkind: Ingress\n" + self.metadata(app, ns, app, team, annotations=False)
        out += "  annotations:\n    kubernetes.io/ingress.class: nginx\n    nginx.ingress.kubernetes.io/proxy-body-size: 8m\n"
        out += f"spec:\n  tls:\n  - hosts:\n    - {app}.{team}.example.com\n    secretName: {app}-tls\n  rules:\n  - host: {app}.{team}.example.com\n    http:\n      paths:\n"
        if api == "networking.k8s.io/v1":
            out += f"      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: {app}\n            port:\n              name: http\n"
        else:
            out += f"      - path: /\n        backend:\n          serviceName: {app}\n          servicePort: http\n"
        return out

    def hpa(self, app: str, team: str, ns: str) -> str:
        rng = self.rng
        api = _pick(rng, OTHER_APIS["HorizontalPodAutoscaler"])
        out = f"apiVersion: {api}\nkind: HorizontalPodAutoscaler\n" + self.metadata(app, ns, app, team, annotations=False)
        out += f"spec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: {app}\n  minReplicas: 2\n  maxReplicas: {rng.choice((5, 10, 20))}\n"
        if api == "autoscaling/v1":
            out += "  targetCPUUtilizationPercentage: 70\n"
        elif api == "autoscaling/v2beta1":
            out += "  metrics:\n  - type: Resource\n    resource:\n      name: cpu\n      targetAverageUtilization: 70\n"
        else:
            out += "  metrics:\n  - type: Resource\n    resource:\n      name: cpu\n      target:\n        type: Utilization\n        averageUtilization: 70\n"
        return out

    def pdb(self, app: str, team: str, ns: str) -> str:
        api = _pick(self.rng, OTHER_APIS["PodDisruptionBudget"])
        return (f"apiVersion: {api}\nkind: PodDisruptionBudget\n" + self.metadata(app, ns, app, team, annotations=False)
                + f"spec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: {app}\n")

    def network_policy(self, app: str, team: str, ns: str) -> str:
        api = _pick(self.rng, OTHER_APIS["NetworkPolicy"])
        return (f"apiVersion: {api}\nkind: NetworkPolicy\n" + self.metadata(f"{app}-allow", ns, app, team, annotations=False)
                + f"spec:\n  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: {app}\n  policyTypes:\n  - Ingress\n"
                "  ingress:\n  - from:\n    - namespaceSelector:\n        matchLabels:\n          name: ingress-nginx\n"
                "    - podSelector:\n        matchLabels:\n          app.kubernetes.io/part-of: " + team + "\n"
                "    ports:\n    - protocol: TCP\n      port: 8080\n")

    def rbac(self, kind: str, app: str, team: str, ns: str) -> str:
        api = _pick(self.rng, OTHER_APIS[kind])
        if kind == "RoleBinding":
            return (f"apiVersion: {api}\nkind: RoleBinding\n" + self.metadata(app, ns, app, team, annotations=False)
                    + f"roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: {app}\n"
                    f"subjects:\n- kind: ServiceAccount\n  name: {app}\n  namespace: {ns}\n")
        meta = self.metadata(f"{ns}-{app}" if kind == "ClusterRole" else app, None if kind == "ClusterRole" else ns, app, team, annotations=False)
        return (f"apiVersion: {api}\nkind: {kind}\n" + meta + "rules:\n"
                "- apiGroups: [\"\"]\n  resources: [\"configmaps\", \"secrets\"]\n  verbs: [\"get\", \"list\", \"watch\"]\n"
                "- apiGroups: [\"apps\"]\n  resources: [\"deployments\"]\n  verbs: [\"get\", \"patch\"]\n")

    def service_monitor(self, app: str, team: str, ns: str) -> str:
        return ("apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\n" + self.metadata(app, ns, app, team, annotations=False)
                + f"spec:\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: {app}\n  endpoints:\n"
                "  - port: metrics\n    interval: 30s\n    path: /metrics\n")

    def prometheus_rule(self, app: str, team: str, ns: str) -> str:
        rng = self.rng
        out = ("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\n" + self.metadata(app, ns, app, team, annotations=False)
               + f"spec:\n  groups:\n  - name: {app}.rules\n    rules:\n")
        for n in range(rng.randint(2, 5)):
            out += (f"    - alert: {app.title().replace('-', '')}HighErrorRate{n}\n      expr: |\n"
                    f"        sum(rate(http_requests_total{{job=\"{app}\",code=~\"5..\"}}[5m]))\n"
                    f"          / sum(rate(http_requests_total{{job=\"{app}\"}}[5m])) > 0.0{rng.randint(1, 9)}\n"
                    f"      for: {rng.choice(('5m', '10m', '15m'))}\n      labels:\n        severity: {rng.choice(('warning', 'critical'))}\n"
                    f"      annotations:\n        summary: \"{app} error rate above threshold\"\n")
        return out

    def crd(self, n: int) -> str:
        rng = self.rng
        api = _pick(rng, OTHER_APIS["CustomResourceDefinition"])
        plural = f"widget{n}s"
        group = f"{rng.choice(TEAMS)}.example.com"
        out = (f"apiVersion: {api}\nkind: CustomResourceDefinition\nmetadata:\n  name: {plural}.{group}\n"
               f"spec:\n  group: {group}\n  scope: Namespaced\n  names:\n    kind: Widget{n}\n    plural: {plural}\n    singular: widget{n}\n")
        fields = [(k, rng.choice(("string", "integer", "boolean"))) for k in range(rng.randint(8, 25))]

        def props(indent: str) -> str:
            return "".join(f"{indent}field{k}:\n{indent}  type: {t}\n{indent}  description: Field {k} of the widget, as the operator reads it.\n"
                           for k, t in fields)

        if api.endswith("v1beta1"):
            out += ("  version: v1\n  validation:\n    openAPIV3Schema:\n      type: object\n      properties:\n"
                    "        spec:\n          type: object\n          properties:\n" + props(" " * 12))
        else:
            out += ("  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n"
                    "        type: object\n        properties:\n          spec:\n            type: object\n            properties:\n"
                    + props(" " * 14))
        return out

    def object(self, kind: str, app: str, team: str, ns: str) -> str:
        if kind in WORKLOAD_APIS:
            return self.workload(kind, app, team, ns)
        table = {
            "Service": self.service, "ConfigMap": self.configmap, "Secret": self.secret, "ServiceAccount": self.service_account,
            "Ingress": self.ingress, "HorizontalPodAutoscaler": self.hpa, "PodDisruptionBudget": self.pdb,
            "NetworkPolicy": self.network_policy, "ServiceMonitor": self.service_monitor, "PrometheusRule": self.prometheus_rule,
        }
        if kind in table:
            return table[kind](app, team, ns)
        return self.rbac(kind, app, team, ns)

    def kustomization(self, resources: list[str], ns: str | None, patches: list[str] = (), bases: list[str] = ()) -> str:
        rng = self.rng
        # About a third are written without apiVersion/kind, as Kustomize allows.
        out = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n" if rng.random() < 0.65 else "# kustomize build .\n"
        if ns:
            out += f"namespace: {ns}\n"
        out += "resources:\n" + "".join(f"- {r}\n" for r in list(bases) + list(resources))
        if patches:
            out += "patchesStrategicMerge:\n" + "".join(f"- {p}\n" for p in patches)
        if rng.random() < 0.5:
            out += f"commonLabels:\n  environment: {rng.choice(ENVS)}\n"
        if rng.random() < 0.4:
            out += f"images:\n- name: app\n  newTag: \"{rng.randint(1, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 9)}\"\n"
        return out

    def patch(self, kind: str, app: str, env: str) -> str:
        rng = self.rng
        api = "apps/v1" if kind in ("Deployment", "StatefulSet", "DaemonSet") else "batch/v1beta1"
        out = f"# {env}: only what differs from base\napiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {app}\nspec:\n"
        if kind == "CronJob":
            return out + f"  schedule: \"{rng.randint(0, 59)} */{rng.randint(2, 6)} * * *\"\n"
        if kind != "DaemonSet":
            out += f"  replicas: {rng.choice((1, 3, 6, 12))}\n"
        return out + (f"  template:\n    spec:\n      containers:\n      - name: {app}\n        resources:\n          requests:\n"
                      f"            cpu: {rng.choice(('200m', '1', '2'))}\n            memory: {rng.choice(('512Mi', '2Gi'))}\n")


def plan(files: int, documents: int, rng: random.Random) -> list[tuple[str, list[tuple]]]:
    """(relative path, document specs) of every file; exactly ``files`` files and ``documents`` documents."""
    if files < 1 or documents < files:
        raise SystemExit("need --files >= 1 and --documents >= --files (every file holds a document)")
    out: list[tuple[str, list[tuple]]] = []
    crds = max(1, files // 400)
    for n in range(crds):
        out.append((f"platform/crds/widget{n}.yaml", [("crd", n)]))
    app_no = 0
    rendered: list[int] = []  # indexes of the Helm-rendered files, which take the extra documents
    while len(out) < files:
        team = TEAMS[app_no % len(TEAMS)]
        app = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{app_no}"
        ns = f"{team}-{rng.choice(('prod', 'apps', 'svc'))}"
        app_no += 1
        if rng.random() < 0.45:  # a Helm chart rendered into one file
            rendered.append(len(out))
            out.append((f"rendered/{team}/{app}.yaml", [("obj", _pick(rng, (("Deployment", 5), ("StatefulSet", 1))), app, team, ns)]))
            continue
        kind = _pick(rng, (("Deployment", 70), ("StatefulSet", 8), ("DaemonSet", 4), ("CronJob", 12), ("Job", 6)))
        base = f"teams/{team}/{app}/base"
        parts = [("workload.yaml", kind)]
        for extra, chance in (("Service", 0.8), ("ConfigMap", 0.7), ("ServiceAccount", 0.5), ("Ingress", 0.35),
                              ("HorizontalPodAutoscaler", 0.3), ("PodDisruptionBudget", 0.3), ("NetworkPolicy", 0.2),
                              ("Role", 0.15), ("RoleBinding", 0.15), ("ServiceMonitor", 0.25), ("PrometheusRule", 0.1)):
            if kind in ("CronJob", "Job") and extra in ("Service", "Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
                continue
            if rng.random() < chance:
                parts.append((f"{extra.lower()}.yaml", extra))
        for file_name, k in parts:
            out.append((f"{base}/{file_name}", [("obj", k, app, team, ns)]))
        out.append((f"{base}/kustomization.yaml", [("kustomization", [p for p, _ in parts], ns, [], [])]))
        for env in rng.sample(ENVS, rng.randint(1, 3)):
            overlay = f"teams/{team}/{app}/overlays/{env}"
            patches = ["patch-resources.yaml"] if kind != "Job" else []
            for p in patches:
                out.append((f"{overlay}/{p}", [("patch", kind, app, env)]))
            out.append((f"{overlay}/kustomization.yaml", [("kustomization", [], f"{ns}-{env}" if env != "prod" else ns, patches, ["../../base"])]))
    del out[files:]
    rendered = [i for i in rendered if i < files] or list(range(len(out)))
    extra = documents - files
    # Spread the extra documents over the rendered files, unevenly (some charts are large).
    weights = [rng.choice((1, 1, 2, 3, 5, 8)) for _ in rendered]
    total = sum(weights)
    given = 0
    for n, (i, w) in enumerate(zip(rendered, weights)):
        count = extra - given if n == len(rendered) - 1 else (extra * w) // total
        given += count
        _, specs = out[i]
        _, _, app, team, ns = specs[0]
        for _ in range(count):
            specs.append(("obj", _pick(rng, RENDERED_KINDS), app, team, ns))
    return out


def render(specs: list[tuple], path: str, w: Writer) -> str:
    rendered = path.startswith("rendered/")
    parts = []
    seen: dict[str, int] = {}
    for spec in specs:
        what = spec[0]
        if what == "crd":
            text = w.crd(spec[1])
        elif what == "kustomization":
            text = w.kustomization(spec[1], spec[2], spec[3], spec[4])
        elif what == "patch":
            text = w.patch(spec[1], spec[2], spec[3])
        else:
            _, kind, app, team, ns = spec
            seen[kind] = seen.get(kind, 0) + 1
            name = app if seen[kind] == 1 else f"{app}-{seen[kind]}"
            text = w.object(kind, name, team, ns)
            if rendered:
                text = f"# Source: {app.rsplit('-', 1)[0]}/templates/{kind.lower()}.yaml\n" + text
        parts.append(text)
    if rendered:
        return "---\n" + "---\n".join(parts)
    head = "# Managed in git; applied by Argo CD.\n" if w.rng.random() < 0.3 else ""
    return head + "---\n".join(parts)


def make(files: int, documents: int, out: Path, seed: int = 1) -> dict:
    rng = random.Random(seed)
    layout = plan(files, documents, rng)
    writer = Writer(random.Random(seed + 1))
    if out.exists():
        shutil.rmtree(out)
    total = 0
    for rel, specs in layout:
        text = render(specs, rel, writer)
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        total += len(text.encode("utf-8"))
    return {"files": len(layout), "documents": sum(len(s) for _, s in layout), "bytes": total}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, required=True)
    parser.add_argument("--documents", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    stats = make(args.files, args.documents, args.out, args.seed)
    print(f"{stats['files']} files, {stats['documents']} documents, {stats['bytes'] / 2**20:.1f} MiB "
          f"({stats['bytes'] / max(1, stats['documents']) / 1024:.2f} KiB a document) in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
