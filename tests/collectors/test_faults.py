"""The live collector under faults from the apiserver: each ends as a named gap, never a hang or a traceback.

Every fault is set on one list path; the collection must finish, record a ``collection_errors``
entry naming that resource, keep everything else, and the scan must report it as KUP090.
Timeouts and retries are kept small (conftest's fast_retries; ``timeout=`` here).
"""

from __future__ import annotations

import functools
import gzip
import json

import pytest

from kupgrade_lint.catalog import Catalog, load_catalog
from kupgrade_lint.collectors import kubeapi
from kupgrade_lint.collectors.cluster import collect_cluster
from kupgrade_lint.engine import ScanRequest, scan
from kupgrade_lint.errors import CollectionError
from kupgrade_lint.snapshot.loader import load_inputs
from kupgrade_lint.versions import KubeVersion

from .fakeapi import Fault
from .world import WANTED, b64

PODS = "/api/v1/pods"

FAULTS = {
    "connection reset": (Fault(reset=True), "no response"),
    "body cut short": (Fault(short_body=True), "no response"),
    "truncated JSON": (Fault(truncated=True), "invalid JSON"),
    "500 every time": (Fault(status=500, message="etcdserver: request timed out"), "500 Internal Server Error"),
    "429 storm": (Fault(status=429, retry_after="0.05", message="too many requests"), "429 Too Many Requests"),
    "stall mid-body": (Fault(stall=3.0), "timed out"),
    "continue token keeps expiring": (Fault(expire_continue=1000), "kept expiring"),
}


@functools.lru_cache(maxsize=1)
def _catalog() -> Catalog:
    return load_catalog([])


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_a_fault_costs_only_its_resource_and_is_reported(fake_cluster, tmp_path, name):
    fault, reason = FAULTS[name]
    env = fake_cluster("v1.21", faults={PODS: fault})
    out = tmp_path / "snap"
    summary = collect_cluster(out, kubeconfig=str(env.kubeconfig), timeout=0.5, wanted=WANTED)
    errors = [e for e in summary.errors if "pods" in e["what"]]
    assert len(errors) == 1 and reason in errors[0]["reason"], summary.errors
    assert errors[0]["what"] == "list v1 pods in all namespaces"
    # Bounded: a few attempts (and restarts, for the expiring list), never an endless loop.
    attempts = [r for r in env.cluster.requests if r.path == PODS]
    assert 1 <= len(attempts) <= (kubeapi.MAX_LIST_RESTARTS + 1) * 3 + 1, len(attempts)
    # Everything else was still collected.
    assert (out / "cluster/apps/v1/deployments.json").is_file() and not (out / "cluster/core/v1/pods.json").exists()
    assert json.loads((out / "kupgrade-snapshot.json").read_text())["collection_errors"] == list(summary.errors)
    report = scan(load_inputs(out, []), _catalog(), ScanRequest(target=KubeVersion.parse("v1.21.14")))
    gaps = [f.message for f in report.findings if f.rule_id == "KUP090"]
    assert any("list v1 pods" in m and reason in m for m in gaps), gaps


def test_429_retries_are_bounded_and_honour_retry_after(fake_cluster, tmp_path):
    env = fake_cluster("v1.21", faults={PODS: Fault(status=429, retry_after="0.05")})
    summary = collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), timeout=0.5, wanted=WANTED)
    assert [r.status for r in env.cluster.requests if r.path == PODS] == [429] * kubeapi.DEFAULT_RETRY.attempts
    assert any("after 3 attempts" in e["reason"] for e in summary.errors if "pods" in e["what"])
    policy = kubeapi.RetryPolicy(attempts=3, base_delay=0.01, max_delay=2.0)
    assert policy.delay(0, 1.5) == 1.5  # the server's Retry-After, not our backoff
    assert policy.delay(0, 60.0) == 2.0  # capped: a storm cannot stall the collection for long
    assert policy.delay(0, None) <= 0.01


def test_a_transient_fault_is_retried_and_leaves_no_gap(fake_cluster, tmp_path):
    env = fake_cluster("v1.21", faults={PODS: Fault(status=503, times=1)})
    summary = collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), timeout=0.5, wanted=WANTED)
    assert not [e for e in summary.errors if "pods" in e["what"]]
    assert json.loads((tmp_path / "cluster/core/v1/pods.json").read_text())["items"]


def test_a_release_record_of_an_unexpected_shape_costs_only_itself(fake_cluster, tmp_path):
    env = fake_cluster("v1.21")
    record = b64(gzip.compress(json.dumps({"name": "odd", "version": [1], "info": {"status": "deployed"}}).encode()))
    env.cluster.add("secrets", {
        "type": "helm.sh/release.v1",
        "metadata": {"name": "sh.helm.release.v1.odd.v1", "namespace": "apps", "labels": {"owner": "helm", "name": "odd", "status": "deployed", "version": "1"}},
        "data": {"release": b64(record)},
    })
    summary = collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), timeout=0.5, wanted=WANTED)
    assert [e["what"] for e in summary.errors if "odd" in e["what"]] == ["decode the Helm release in Secret apps/sh.helm.release.v1.odd.v1"]
    assert (tmp_path / "helm/apps/web.yaml").is_file()  # the other releases are still written


def test_a_trickling_server_is_cut_off_by_the_deadline(fake_cluster, tmp_path, monkeypatch):
    # Each read gets its bytes within the timeout, but the body never completes in time.
    monkeypatch.setattr(kubeapi, "DEADLINE_FACTOR", 1)
    env = fake_cluster("v1.21", faults={PODS: Fault(trickle=0.05)})
    summary = collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), timeout=0.25, wanted=WANTED)
    errors = [e for e in summary.errors if "pods" in e["what"]]
    assert errors and "not complete after 0.25 s" in errors[0]["reason"], summary.errors


def test_a_response_over_the_size_cap_is_refused(fake_cluster, tmp_path, monkeypatch):
    monkeypatch.setattr(kubeapi, "MAX_BODY_BYTES", 1 << 20)
    env = fake_cluster("v1.21", faults={PODS: Fault(padding=3 << 20)})
    summary = collect_cluster(tmp_path, kubeconfig=str(env.kubeconfig), timeout=0.5, wanted=WANTED)
    errors = [e for e in summary.errors if "pods" in e["what"]]
    assert errors and f"larger than {1 << 20} bytes" in errors[0]["reason"], summary.errors


def test_a_password_in_the_server_url_is_never_printed(fake_cluster, tmp_path):
    from typer.testing import CliRunner

    from kupgrade_lint.cli import app

    from .conftest import _closed_port, write_kubeconfig

    env = fake_cluster("v1.21")
    kubeconfig = write_kubeconfig(tmp_path / "kc", f"https://reader:mk-server-url-password@127.0.0.1:{_closed_port()}", env.certs.ca.cert_pem, env.cluster.token)
    with pytest.raises(CollectionError) as raised:
        collect_cluster(tmp_path / "direct", kubeconfig=str(kubeconfig), timeout=0.5, wanted=WANTED)
    assert "mk-server-url-password" not in str(raised.value) and "https://127.0.0.1:" in str(raised.value)
    result = CliRunner().invoke(app, ["collect", "--kubeconfig", str(kubeconfig), "--to", str(tmp_path / "out")])
    assert result.exit_code != 0 and "cannot connect to https://127.0.0.1:" in result.stderr
    assert "mk-server-url-password" not in result.output + result.stderr
