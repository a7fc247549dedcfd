"""deploy/rbac.yaml's ClusterRole grants get and list on exactly what the scan needs
(``scan_needs.cluster_role_rules``, the source the collector's list plan comes from), and every
request the collector makes is allowed by it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kupgrade_lint.catalog import load_catalog
from kupgrade_lint.collectors.cluster import collect_cluster
from kupgrade_lint.scan_needs import VERBS, cluster_role_rules, wanted_kinds

from .world import CATALOG, WANTED

RBAC = Path(__file__).resolve().parents[2] / "deploy" / "rbac.yaml"


def _cluster_role() -> dict:
    docs = [d for d in yaml.safe_load_all(RBAC.read_text()) if d]
    roles = [d for d in docs if d["kind"] == "ClusterRole" and d["metadata"]["name"] == "kupgrade-lint-reader"]
    assert len(roles) == 1
    bindings = [d for d in docs if d["kind"] == "ClusterRoleBinding"]
    assert bindings[0]["roleRef"]["name"] == "kupgrade-lint-reader"
    sa = [d for d in docs if d["kind"] == "ServiceAccount"][0]
    assert bindings[0]["subjects"] == [{"kind": "ServiceAccount", "name": sa["metadata"]["name"], "namespace": sa["metadata"]["namespace"]}]
    return roles[0]


def request_attributes(method: str, path: str, query: dict) -> dict:
    """What the apiserver authorizes a request as, after requestinfo.go
    (https://github.com/kubernetes/kubernetes/blob/v1.21.8/staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go)."""
    verb = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}[method]
    segs = path.strip("/").split("/")
    if segs[0] == "api" and len(segs) > 2:
        group, rest = "", segs[2:]
    elif segs[0] == "apis" and len(segs) > 3:
        group, rest = segs[1], segs[3:]
    else:
        return {"resource_request": False, "verb": verb, "path": path}
    namespace = None
    if rest[0] == "namespaces" and len(rest) > 2:
        namespace, rest = rest[1], rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    if name is None and verb == "get":
        verb = "watch" if query.get("watch") in ("1", "true") else "list"
    if name is None and verb == "delete":
        verb = "deletecollection"
    return {
        "resource_request": True,
        "verb": verb,
        "group": group,
        "resource": resource + (f"/{subresource}" if subresource else ""),
        "namespace": namespace,
        "name": name,
    }


def allowed(role: dict, attrs: dict) -> bool:
    """RBAC rule matching (https://kubernetes.io/docs/reference/access-authn-authz/rbac/)."""
    for rule in role["rules"]:
        if attrs["verb"] not in rule["verbs"] and "*" not in rule["verbs"]:
            continue
        if not attrs["resource_request"]:
            for url in rule.get("nonResourceURLs") or []:
                if url == attrs["path"] or (url.endswith("*") and attrs["path"].startswith(url[:-1])):
                    return True
            continue
        if "nonResourceURLs" in rule:
            continue
        groups, resources = rule.get("apiGroups") or [], rule.get("resources") or []
        if attrs["group"] not in groups and "*" not in groups:
            continue
        if attrs["resource"] not in resources and "*" not in resources:
            continue
        names = rule.get("resourceNames")
        if names and attrs["name"] not in names:
            continue
        return True
    return False


def test_cluster_role_grants_only_get_and_list():
    role = _cluster_role()
    verbs = {v for rule in role["rules"] for v in rule["verbs"]}
    assert verbs == {"get", "list"}
    assert not [r for r in role["rules"] if "*" in (r.get("resources") or []) + (r.get("apiGroups") or [])]


@pytest.mark.parametrize("shape", ["v1.14", "v1.21"])
def test_every_request_is_allowed_by_the_cluster_role(fake_cluster, tmp_path, shape):
    env = fake_cluster(shape)
    collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), wanted=WANTED)
    role = _cluster_role()
    requests = env.cluster.requests
    assert len(requests) > 50
    denied = [(r.method, r.path, r.query) for r in requests if not allowed(role, request_attributes(r.method, r.path, r.query))]
    assert denied == []
    # The matcher is not vacuous: something the collector must never do is denied.
    assert not allowed(role, request_attributes("GET", "/api/v1/namespaces/x/pods/p/exec", {}))
    assert not allowed(role, request_attributes("DELETE", "/api/v1/namespaces/x/pods/p", {}))
    assert not allowed(role, request_attributes("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {}))
    assert not allowed(role, request_attributes("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles", {"watch": "true"}))
    assert not allowed(role, request_attributes("GET", "/logs", {}))


def _granted(role: dict) -> dict[str, set[str]]:
    granted: dict[str, set[str]] = {}
    for rule in role["rules"]:
        if "nonResourceURLs" in rule:
            continue
        assert sorted(rule["verbs"]) == sorted(VERBS), rule
        assert not rule.get("resourceNames"), rule
        for group in rule["apiGroups"]:
            granted.setdefault(group, set()).update(rule["resources"])
    return granted


def test_cluster_role_grants_exactly_what_the_scan_needs():
    needed = {group: set(resources) for group, resources in cluster_role_rules(CATALOG).items()}
    granted = _granted(_cluster_role())
    missing = {g: sorted(r - granted.get(g, set())) for g, r in needed.items() if r - granted.get(g, set())}
    extra = {g: sorted(r - needed.get(g, set())) for g, r in granted.items() if r - needed.get(g, set())}
    assert missing == {}, f"deploy/rbac.yaml lacks {missing}"
    assert extra == {}, f"deploy/rbac.yaml grants more than the scan needs: {extra}"


def test_the_collector_and_the_role_share_one_source():
    # The fixtures hand the collector exactly what the CLI computes.
    assert WANTED == wanted_kinds(CATALOG)
    needed = cluster_role_rules(CATALOG)
    for want in WANTED:
        for group in want.groups:
            assert group in needed, (want.kind, group)
    # A kind added to the catalog is needed at once, in every group that serves it.
    catalog = load_catalog()
    catalog.add_document({"apis": [{
        "api_version": "cert-manager.io/v1alpha2", "kind": "Certificate", "read_by": "kube-apiserver",
        "deprecated_in": None, "removed_in": "1.22", "replacement": "cert-manager.io/v1",
        "sources": ["https://cert-manager.io/docs/releases/upgrading/remove-deprecated-apis/"],
    }]}, "user.yaml")
    assert cluster_role_rules(catalog)["cert-manager.io"] == {"certificates"}
