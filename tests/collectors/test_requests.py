"""What the collector asks the apiserver for, counted by the fake server (issue 9): one LIST
page per 500 objects per listing, nothing listed twice, no GET of single objects but the
Secrets mounted behind webhook Services, never more requests in flight than --concurrency;
and the List files written an item at a time are byte for byte what ``json.dumps`` writes."""

from __future__ import annotations

import copy
import json
import math
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from pathlib import Path

from kupgrade_lint.collectors import cluster as cluster_module
from kupgrade_lint.collectors.allowlist import object_edits
from kupgrade_lint.collectors.cluster import collect_cluster
from kupgrade_lint.collectors.kubeapi import PAGE_SIZE, parse_json
from kupgrade_lint.collectors.redact import apply_edits, edited_tree, sanitize_object
from kupgrade_lint.collectors.summary import Tally

from .fakeapi import Fault, _field_matches, _selector_matches
from .world import WANTED

WEBHOOK_SECRET_GET = "/api/v1/namespaces/webhooks/secrets/hook-tls"


def _is_object_path(path: str) -> bool:
    segs = path.strip("/").split("/")
    rest = segs[2:] if segs[0] == "api" else segs[3:]
    if rest[:1] == ["namespaces"] and len(rest) >= 3:
        rest = rest[2:]
    return len(rest) == 2


def _is_collection_path(path: str) -> bool:
    segs = path.strip("/").split("/")
    rest = segs[2:] if segs[0] == "api" else segs[3:] if segs[0] == "apis" else []
    if rest[:1] == ["namespaces"] and len(rest) >= 3:
        rest = rest[2:]
    return len(rest) == 1 and segs[0] in ("api", "apis") and len(segs) > (2 if segs[0] == "api" else 3)


def _matching(cluster, path: str, query: dict) -> int:
    """How many objects the fake server holds for this list request."""
    segs = path.strip("/").split("/")
    rest = segs[2:] if segs[0] == "api" else segs[3:]
    namespace = rest[1] if rest[0] == "namespaces" else None
    resource = rest[-1]
    items = [o for o in cluster.objects.get(resource, []) if namespace is None or o["metadata"].get("namespace") == namespace]
    if "labelSelector" in query:
        items = [o for o in items if _selector_matches(query["labelSelector"], o["metadata"].get("labels") or {})]
    if "fieldSelector" in query:
        items = [o for o in items if _field_matches(query["fieldSelector"], o)]
    return len(items)


def test_requests_one_page_per_500_objects_no_object_gets_bounded_concurrency(fake_cluster, tmp_path):
    env = fake_cluster("v1.21", page_cap=PAGE_SIZE)
    for i in range(1203):  # 1,203 more pods: 3 pages with the world's own
        env.cluster.add("pods", {"metadata": {"name": f"bulk-{i:04d}", "namespace": "bulk", "labels": {"app": "bulk"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}})
    for i in range(501):  # 501 Services: 2 pages
        env.cluster.add("services", {"metadata": {"name": f"svc-{i:04d}", "namespace": "bulk"}, "spec": {"selector": {"app": "bulk"}}})
    # Every list takes a little while, so requests overlap and concurrency shows.
    for path in ("/api/v1/pods", "/api/v1/services", "/apis/apps/v1/deployments", "/apis/apps/v1/daemonsets", "/apis/batch/v1/jobs", "/api/v1/nodes", "/api/v1/namespaces"):
        env.cluster.faults[path] = Fault(delay=0.05)
    collect_cluster(tmp_path / "snap", wanted=WANTED, kubeconfig=str(env.kubeconfig), concurrency=3)

    requests = env.cluster.requests
    assert {r.status for r in requests} == {200}
    listings: dict[tuple, list] = {}
    for r in requests:
        if _is_collection_path(r.path):
            key = (r.path, r.query.get("labelSelector"), r.query.get("fieldSelector"))
            listings.setdefault(key, []).append(r)
    assert ("/api/v1/pods", None, None) in listings and ("/api/v1/services", None, None) in listings
    for (path, labels, fields), pages in listings.items():
        n = _matching(env.cluster, path, pages[0].query)
        assert len(pages) == max(1, math.ceil(n / PAGE_SIZE)), (path, labels, fields, n)
        assert all(p.query["limit"] == str(PAGE_SIZE) for p in pages)
        starts = [p for p in pages if "continue" not in p.query]
        assert len(starts) == 1, f"{path} listed {len(starts)} times"
    pods = listings[("/api/v1/pods", None, None)]
    assert len(pods) == 3 and len(listings[("/api/v1/services", None, None)]) == 2
    # Every wanted kind is listed at most once, whichever version serves it.
    resources = Counter(path.rsplit("/", 1)[1] for path, labels, fields in listings if labels is None and fields is None and "/namespaces/" not in path)
    assert [r for r, n in resources.items() if n > 1] == []

    gets = [r.path for r in requests if _is_collection_path(r.path) is False and _is_object_path(r.path)]
    assert gets == [WEBHOOK_SECRET_GET]  # the webhook's serving certificate, nothing per object
    assert 2 <= env.cluster.max_in_flight <= 3


def test_list_files_are_byte_for_byte_json_dumps(tmp_path):
    # Each oddity in an object of its own: one that orjson refuses sends its whole object to json.
    floats = parse_json(b'{"f": [1.0, 1e-7, 1e16, -0.0, 2.5, 0.1, 123456.789e3], "nan": [NaN, Infinity, -Infinity]}')
    big = parse_json(b'{"big": 123456789012345678901234567890, "neg": -9223372036854775809, "max": 9223372036854775807}')
    text = parse_json(b'{"s": "tab\\there \\u0001 \\u001f \\u007f \\u2028 \\u00e9 \\ud83d\\ude00 \\"q\\" \\\\ </script>", "e": {}, "l": [], "n": null, "t": true}')
    items = [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "plain", "labels": {}}, "spec": {"containers": [{"name": "c", "args": []}]}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "floats"}, "spec": floats},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big"}, "spec": big},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "text"}, "spec": text},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ünïcode"}, "data": {"k": "ümlaut\nline two", "nested": [[{}], [[]]]}},
    ]
    collector = cluster_module._ClusterCollector(None, tmp_path, Tally(None), 1, 1.0, ())
    for rel, written in (("many.json", items), ("one.json", items[1:2]), ("none.json", [])):
        assert collector._write_cleaned(Path(rel), written) == len(written)
        expected = json.dumps({"apiVersion": "v1", "kind": "List", "metadata": {}, "items": written}, indent=2, ensure_ascii=False) + "\n"
        assert (tmp_path / rel).read_bytes() == expected.encode("utf-8")


def test_redaction_copies_only_what_it_edits(fake_cluster):
    env = fake_cluster("v1.21")
    last_applied = json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"name": "a", "env": [{"name": "P", "value": "pw"}]}]}}}})
    own = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied}},
         "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x", "env": [{"name": "P", "value": "pw"}], "args": ["--password=hunter2", "--v=2"]}],
                                        "initContainers": [{"name": "i", "env": [{"name": "Q", "value": "q"}]}]}}}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "annotations": {"a": "b"}}, "data": {"k": "dg=="}, "type": "Opaque"},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "kube-system"}, "data": {"x": "https://user:pw@example.com/"}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "u"}, "spec": {"externalName": "https://user:pw@example.com/", "ports": [{"port": 1}]}},
    ]
    worlds = [obj for objects in env.cluster.objects.values() for obj in objects]
    edited = 0
    for obj in own + worlds:
        before = copy.deepcopy(obj)
        edits = object_edits(obj)
        assert sanitize_object(obj) == apply_edits(obj, edits) == edited_tree(obj, edits)
        assert obj == before  # the listed object is left as it was
        edited += bool(edits)
    assert edited >= len(own)


def test_a_manifest_with_nothing_to_redact_is_parsed_once(monkeypatch):
    from kupgrade_lint.collectors import redact

    calls = []
    real = redact._load_all
    monkeypatch.setattr(redact, "_load_all", lambda text: calls.append(text) or real(text))
    plain = "# Source: web/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n"
    assert redact.sanitize_manifest(plain).text == plain
    assert len(calls) == 1
    calls.clear()
    secret_env = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    env:\n    - name: P\n      value: hunter2\n"
    cleaned = redact.sanitize_manifest(secret_env).text
    assert "hunter2" not in cleaned and cleaned.count("\n") == secret_env.count("\n")
    assert len(calls) == 2  # the text, then the edited text (checked against the edited data)


def _userinfo_reference(node, path=()):
    """Every string leaf whose URL userinfo is stripped, in document order (the walk's definition)."""
    from kupgrade_lint.urls import strip_userinfo

    if isinstance(node, dict):
        for key, value in node.items():
            yield from _userinfo_reference(value, path + (key,))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _userinfo_reference(item, path + (i,))
    elif isinstance(node, str) and strip_userinfo(node) != node:
        yield path, strip_userinfo(node)


_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
    st.sampled_from(["plain", "https://user:pw@example.com/x", "a@b", "http://h/", "x://@", "ftp://u@h and https://v:w@k"]),
    st.text(max_size=8),
)
_trees = st.recursive(_leaves, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.sampled_from(["a", "b", "spec", "url", "x"]), kids, max_size=4), max_leaves=30)


@given(_trees)
@settings(max_examples=300, deadline=None)
def test_the_generic_walk_finds_every_url_with_userinfo(tree):
    from kupgrade_lint.collectors.allowlist import _generic_edits

    assert list(_generic_edits(tree, ())) == list(_userinfo_reference(tree))
