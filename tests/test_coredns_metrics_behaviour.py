"""Every Corefile fact and every removed metric of the catalog is reported at exactly its hop.

Inputs are generated from the catalog itself: a Corefile with one line per Corefile fact, and one
PrometheusRule expression and one keep relabeling per removed metric, scanned over the whole range
(v1.14 -> newest) and over paths that start at each minor.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from kupgrade_lint.catalog import load_catalog
from kupgrade_lint.engine import ScanRequest, scan
from kupgrade_lint.snapshot.loader import load_inputs
from kupgrade_lint.versions import KubeVersion, minor_key

CATALOG = load_catalog()
FIRST, NEWEST = "v1.14.10", CATALOG.known_minors()[-1]


def _metric_minor(entry) -> str:
    return entry.removed_in or CATALOG.coredns_arrival(entry.coredns_version)[0]


def _corefile() -> str:
    """One server block per plugin; removed plugins and the plugins whose options changed, each option once."""
    lines = [".:53 {", "    ready"]
    options: dict[str, list[str]] = {}
    for change in CATALOG.coredns_corefile.values():
        if change.option is None:
            lines.append(f"    {change.plugin}")
        else:
            options.setdefault(change.plugin, [])
            if change.option not in options[change.plugin]:
                options[change.plugin].append(change.option)
    for plugin, names in sorted(options.items()):
        lines.append(f"    {plugin} example.org {{")
        lines.extend(f"       {name} x" for name in names)
        lines.append("    }")
    lines.append("}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("generated")
    (root / "cluster").mkdir()
    metrics = sorted(CATALOG.removed_metrics)
    docs = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system"},
         "data": {"Corefile": _corefile()}},
        {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "gen", "namespace": "monitoring"},
         "spec": {"groups": [{"name": "gen", "rules": [{"record": f"gen:{m}", "expr": f"sum(rate({m}[5m]))"} for m in metrics]}]}},
        {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "gen", "namespace": "monitoring"},
         "spec": {"selector": {}, "endpoints": [
             {"port": "metrics", "metricRelabelings": [{"action": "keep", "sourceLabels": ["__name__"], "regex": m} for m in metrics]}]}},
    ]
    (root / "cluster" / "generated.yaml").write_text(yaml.safe_dump_all(docs))
    return root


def _scan(root: Path, current: str, target: str):
    return scan(load_inputs(root, []), CATALOG, ScanRequest(target=KubeVersion.parse(target), current=KubeVersion.parse(current)))


def _count(report, rule_id: str) -> Counter:
    return Counter(f.hop for f in report.findings if f.rule_id == rule_id)


@pytest.fixture(scope="module")
def whole_range(generated):
    return _scan(generated, FIRST, NEWEST)


def test_every_corefile_fact_is_reported_at_the_hop_whose_kubeadm_deploys_it(whole_range):
    for rule_id, status in (("KUP042", "removed"), ("KUP043", "ignored")):
        expected = Counter(CATALOG.coredns_arrival(c.coredns_version)[0] for c in CATALOG.coredns_corefile.values() if c.status == status)
        assert _count(whole_range, rule_id) == expected, rule_id


def test_every_removed_metric_is_reported_at_its_hop_in_queries_and_relabelings(whole_range):
    expected = Counter(_metric_minor(m) for m in CATALOG.removed_metrics.values() if minor_key(_metric_minor(m)) > (1, 14))
    assert _count(whole_range, "KUP053") == expected
    assert _count(whole_range, "KUP054") == expected


@pytest.mark.parametrize("start", [m for m in CATALOG.known_minors() if (1, 16) <= minor_key(m) <= (1, 29)])
def test_a_path_that_starts_after_a_change_is_silent_about_it(generated, start: str):
    report = _scan(generated, CATALOG.last_patch(start), NEWEST)
    for rule_id in ("KUP042", "KUP043", "KUP053", "KUP054"):
        assert all(minor_key(h) > minor_key(start) for h in _count(report, rule_id)), rule_id
