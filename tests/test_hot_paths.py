"""The fast paths of the scan agree with the slow definitions they replace, and the work of each
check grows linearly with its input (counted calls on N and 2N objects, never timed)."""

from __future__ import annotations

import copy
import json
import random

import pytest

from kupgrade_lint.snapshot import shapes

# Values of every JSON type, for every field of the table.
_VALUES = [None, "x", 5, 1.5, True, {}, {"k": "v"}, [], ["x"], [None], [{}], {"k": 5}]


def _sample(node: shapes._Node, rng: random.Random, depth: int = 0):
    """A value shaped like what ``node`` names, with a wrong type now and then."""
    if depth > 8 or rng.random() < 0.15:
        return rng.choice(_VALUES)
    if "[]" in node.children:
        return [_sample(node.children["[]"], rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if node.children:
        out = {}
        for step, child in node.children.items():
            if step == "*":
                for i in range(rng.randint(0, 3)):
                    out[f"k{i}"] = _sample(child, rng, depth + 1)
            elif rng.random() < 0.8:
                out[step] = _sample(child, rng, depth + 1)
        return out
    types = node.types or ()
    return {"a string": "s", "a number": 3, "a boolean": False, "a mapping": {}, "a list": []}.get(types[0] if types else "", None)


@pytest.mark.parametrize("kind", sorted(shapes.SHAPES) + ["Unlisted"])
def test_the_early_exit_walk_agrees_with_the_full_walk(kind):
    rng = random.Random(kind)
    trie = shapes._trie_for(kind)
    seen = {True: 0, False: 0}
    for _ in range(400):
        data = _sample(trie, rng)
        if not isinstance(data, dict):
            continue
        found: list = []
        shapes._check(trie, data, (), False, found)
        assert shapes._conforms(trie, data, False) is (not found), data
        seen[not found] += 1
    assert seen[True] and seen[False], seen  # both outcomes were exercised


def test_a_conforming_object_builds_no_paths(monkeypatch):
    calls = []
    monkeypatch.setattr(shapes, "_check", lambda *a: calls.append(a))
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"}},
           "spec": {"containers": [{"name": "c", "image": "i", "env": [{"name": "A", "value": "1"}]}]}}
    assert shapes.refusal("Pod", pod) is None
    assert calls == []
    bad = copy.deepcopy(pod)
    bad["spec"]["containers"][0]["env"][0]["value"] = 1
    monkeypatch.undo()
    assert shapes.refusal("Pod", bad) == (("spec", "containers", 0, "env", 0, "value"), "spec.containers[0].env[0].value is a number, not a string")


# -- reports: orjson writes the bytes the json module wrote ----------------------------------------
@pytest.fixture(scope="module")
def seed_report():
    from kupgrade_lint.catalog import load_catalog
    from kupgrade_lint.config import Config
    from kupgrade_lint.engine import ScanRequest, scan
    from kupgrade_lint.snapshot.loader import load_inputs
    from kupgrade_lint.versions import KubeVersion
    from tests.conftest import SEED

    return scan(load_inputs(SEED, []), load_catalog(list(Config().catalog)), ScanRequest(target=KubeVersion.parse("v1.21.14")))


def test_json_and_sarif_reports_are_the_bytes_the_json_module_writes(seed_report):
    import io

    from kupgrade_lint.reporters import json_report, sarif

    stream = io.StringIO()
    json_report.render(seed_report, stream)
    assert stream.getvalue() == json.dumps(json_report.report_dict(seed_report), indent=2, ensure_ascii=False) + "\n"
    assert len(seed_report.findings) == 60
    doc = sarif.sarif_dict(seed_report)
    assert sarif._serialize(doc) == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("doc", [
    {"a": [], "b": {}, "c": [{}], "d": "é\u2028\x7f\x00\x1f\t\n\"\\/<>&\U0001F600", "e": None, "f": True, "g": -5, "h": [1, [2, []]]},
    {1: "a non-string key"}, ["\ud800"], [2**64], [],
])
def test_indented_json_matches_the_json_module_also_where_orjson_refuses(doc):
    from kupgrade_lint.reporters.json_report import indented_json

    assert indented_json(doc) == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# -- every check linear in the objects it reads -----------------------------------------------------
def _context(tmp_path, docs: list[dict]):
    """A prepared check context over ``docs`` written as one manifest file."""
    import yaml

    from kupgrade_lint.catalog import load_catalog
    from kupgrade_lint.config import Config
    from kupgrade_lint.engine import ScanRequest, prepare
    from kupgrade_lint.snapshot.loader import load_inputs
    from kupgrade_lint.versions import KubeVersion

    path = tmp_path / f"m{len(docs)}.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    catalog = load_catalog(list(Config().catalog))
    request = ScanRequest(target=KubeVersion.parse("v1.21.14"), current=KubeVersion.parse("v1.18.20"))
    return prepare(load_inputs(None, [str(path)]), catalog, request), catalog


def _count_calls(monkeypatch, module, name: str) -> list:
    calls: list = []
    original = getattr(module, name)

    def counting(*args, **kwargs):
        calls.append(None)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


def _grows_linearly(work) -> None:
    """``work(n)`` (a count of operations on an input of n objects) at most doubles when n doubles."""
    small, large = work(40), work(80)
    assert small > 0
    assert large <= 2 * small + 2, (small, large)


def test_service_monitors_are_matched_against_an_index_of_services(tmp_path, monkeypatch):
    from kupgrade_lint.checks import monitoring

    def work(n: int) -> int:
        docs = []
        for i in range(n):
            docs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"s{i}", "namespace": "mon", "labels": {"app": f"a{i}"}},
                         "spec": {"ports": [{"name": "metrics", "port": 10251}]}})
            docs.append({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": f"m{i}", "namespace": "mon"},
                         "spec": {"selector": {"matchLabels": {"app": f"a{i}"}}, "endpoints": [{"port": "metrics"}]}})
        ctx, catalog = _context(tmp_path, docs)
        calls = _count_calls(monkeypatch, monitoring, "_selects")
        found = list(monitoring.insecure_component_ports(ctx, catalog.rule_by_check("insecure_component_ports")[0]))
        assert len(found) == n  # every monitor still finds its own Service
        monkeypatch.undo()
        return len(calls)

    _grows_linearly(work)


def test_each_promql_expression_is_analysed_once_per_scan(tmp_path, monkeypatch):
    from kupgrade_lint.checks import monitoring

    exprs = ["rate(container_cpu_usage_seconds_total{container_name!='POD'}[5m])", "sum by (pod_name) (container_memory_rss)"]
    docs = [{"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": f"r{i}", "namespace": "mon"},
             "spec": {"groups": [{"name": "g", "rules": [{"expr": e} for e in exprs]}]}} for i in range(30)]
    ctx, catalog = _context(tmp_path, docs)
    calls = _count_calls(monkeypatch, monitoring, "analyse")
    cadvisor = list(monitoring.cadvisor_labels(ctx, catalog.rule_by_check("cadvisor_labels")[0]))
    list(monitoring.removed_metric_queries(ctx, catalog.rule_by_check("removed_metric_queries")[0]))
    assert len(cadvisor) == 60
    assert len(calls) == len(exprs)


def test_find_looks_objects_up_in_an_index(tmp_path, monkeypatch):
    from kupgrade_lint.snapshot.model import KubeObject

    def work(n: int) -> int:
        docs = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}", "namespace": "ns"}} for i in range(n)]
        ctx, _ = _context(tmp_path, docs)
        reads = []
        original = KubeObject.namespace
        monkeypatch.setattr(KubeObject, "namespace", property(lambda self: reads.append(None) or original.fget(self)))
        assert all(ctx.snapshot.find("ConfigMap", "ns", f"c{i}").name == f"c{i}" for i in range(n))
        assert ctx.snapshot.find("ConfigMap", "other", "c0") is None
        monkeypatch.undo()
        return len(reads)

    _grows_linearly(work)


def test_blame_still_names_the_object_being_handled_and_its_substitute(tmp_path):
    ctx, _ = _context(tmp_path, [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}", "namespace": "ns"}} for i in range(3)])
    snapshot = ctx.snapshot
    first, second, third = snapshot.objects
    snapshot.begin_stage()
    handed = list(snapshot.of_kind("ConfigMap"))
    assert [snapshot.handed(o)[1] for o in handed] == [first, second, third]
    assert snapshot.handed(second)[0] < snapshot.handed(third)[0]
    assert snapshot.handed(object()) is None
    stand_in = object.__new__(type(first))
    object.__setattr__(stand_in, "data", {})
    snapshot.begin_stage(frozenset({first.subject_key}), {second.subject_key: stand_in})
    out = list(snapshot.of_kind("ConfigMap"))
    assert out == [stand_in, third]
    assert snapshot.handed(stand_in)[1] is second and snapshot.handed(second) is None
    snapshot.begin_stage()
    assert snapshot.handed(third) is None


def test_each_certificate_text_is_parsed_once_per_scan(monkeypatch):
    from kupgrade_lint.catalog import load_catalog
    from kupgrade_lint.checks import certificate
    from kupgrade_lint.config import Config
    from kupgrade_lint.engine import ScanRequest, scan
    from kupgrade_lint.snapshot.loader import load_inputs
    from kupgrade_lint.versions import KubeVersion
    from tests.conftest import SEED

    texts: list[str] = []
    for name in ("parse_ca_bundle", "parse_pem_chain"):
        original = getattr(certificate, name)
        monkeypatch.setattr(certificate, name, lambda text, _original=original: texts.append(text) or _original(text))
    report = scan(load_inputs(SEED, []), load_catalog(list(Config().catalog)), ScanRequest(target=KubeVersion.parse("v1.21.14")))
    assert any(f.rule_id in ("KUP030", "KUP033", "KUP034", "KUP035", "KUP036") for f in report.findings)
    assert texts and len(texts) == len(set(texts))


def test_in_input_order_interleaves_kinds_as_they_came(tmp_path):
    kinds = ["Deployment", "ConfigMap", "Deployment", "Service", "ConfigMap"]
    docs = [{"apiVersion": "v1", "kind": kind, "metadata": {"name": f"o{i}", "namespace": "ns"}} for i, kind in enumerate(kinds)]
    ctx, _ = _context(tmp_path, docs)
    snapshot = ctx.snapshot
    snapshot.begin_stage()
    assert [o.name for o in snapshot.in_input_order("ConfigMap", "Deployment", "Absent")] == ["o0", "o1", "o2", "o4"]
    assert [o.name for o in snapshot.in_input_order("Service")] == ["o3"]
    assert list(snapshot.in_input_order("Absent")) == []


def test_the_json_report_written_in_batches_is_the_bytes_of_one_dump(seed_report, monkeypatch):
    import dataclasses
    import io

    from kupgrade_lint.reporters import json_report

    first = seed_report.findings[0]
    report = dataclasses.replace(seed_report, findings=(dataclasses.replace(first, message="é→😀\n\t\"x\"" * 5),) + seed_report.findings[1:])
    for batch in (1, 7, 60, 2000):
        monkeypatch.setattr(json_report, "_BATCH", batch)
        for case in (report, dataclasses.replace(report, findings=report.findings[:1]), dataclasses.replace(report, findings=())):
            stream = io.StringIO()
            json_report.render(case, stream)
            assert stream.getvalue() == json.dumps(json_report.report_dict(case), indent=2, ensure_ascii=False) + "\n", (batch, len(case.findings))


def test_last_applied_annotations_naming_no_removed_version_are_not_decoded(monkeypatch):
    from kupgrade_lint.checks import removed_api
    from kupgrade_lint.snapshot.model import KubeObject, Source

    def deployment(applied: str) -> KubeObject:
        meta = {"name": "d", "namespace": "ns", "annotations": {removed_api.LAST_APPLIED: applied}}
        return KubeObject({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta}, Source("cluster/d.json", "cluster"), None)

    decoded = _count_calls(monkeypatch, removed_api.json, "loads")
    removed = frozenset({"extensions/v1beta1", "apps/v1beta2"})
    current = deployment('{"apiVersion":"apps/v1","kind":"Deployment"}\n')
    old = deployment('{"apiVersion":"extensions/v1beta1","kind":"Deployment"}\n')
    escaped = deployment('{"apiVersion":"extensions\\/v1beta1","kind":"Deployment"}\n')
    def matching(signs):
        return [sign for sign in signs if sign[0] in removed]

    assert matching(removed_api._evidence(current, removed)) == matching(removed_api._evidence(current)) == []
    assert len(decoded) == 1  # only the call without ``removed``
    for obj in (old, escaped):
        assert [e[:2] for e in removed_api._evidence(obj, removed)][0] == ("extensions/v1beta1", "last-applied-configuration (kubectl apply)")
    assert len(decoded) == 3
