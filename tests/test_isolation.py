"""One bad object never stops the scan: every field the checks read, given every wrong type.

Generated, not hand-picked: a scan of the seed snapshot with every object's data recording its
reads (``snapshot.recording``) lists the fields the checks read, per kind; the same is done for
the configuration documents embedded in ConfigMaps (kubeadm's ClusterConfiguration, kube-proxy's
config). Each (kind, field) is then set to a wrong-type value on a fresh copy of that one object,
the object is loaded as the loader loads objects, and the scan must

- finish (no exception: the CLI would exit 3),
- still report every finding of the clean scan that is not about the mutated object's file,
- name the mutated object in a new KUP090 finding whenever the value's JSON type differs from
  the field's (null is the API's "unset" and needs no word).

Every (kind, field) is mutated at least once; which wrong type it gets rotates deterministically
over the variants, so each variant is used on about a sixth of the fields. Set
``KUPGRADE_ALL_VARIANTS=1`` to try every variant on every field (about seven times longer).
"""

from __future__ import annotations

import copy
import functools
import os
from dataclasses import dataclass

import pytest
import yaml

from kupgrade_lint.settings import embedded as component_config
from kupgrade_lint.catalog import load_catalog
from kupgrade_lint.engine import ScanRequest, scan
from kupgrade_lint.findings import Finding
from kupgrade_lint.snapshot.loader import add_object, load_inputs
from kupgrade_lint.snapshot.model import KubeObject, Snapshot
from kupgrade_lint.snapshot.recording import ReadLog, record
from kupgrade_lint.snapshot.shapes import expected, json_type
from kupgrade_lint.versions import KubeVersion
from tests.conftest import SEED

VARIANTS = {"int": 5, "string": "x", "list": [1], "map": {"a": 1}, "null": None, "bool": True, "huge": 10**30}
REQUEST = ScanRequest(target=KubeVersion.parse("v1.21.14"))


@dataclass(frozen=True)
class Field:
    """One field the checks read: object ``index``; ``key`` set for a document embedded in data[key]."""

    kind: str
    path: tuple
    index: int
    key: str | None
    original: object


def _generalize(path: tuple) -> tuple:
    return tuple("[]" if isinstance(p, int) else p for p in path)


@functools.lru_cache(maxsize=1)
def _base():
    catalog = load_catalog([])
    snapshot = load_inputs(SEED, [])
    clean = scan(snapshot, catalog, REQUEST)
    # Which fields are read: a scan of a copy whose objects (and embedded documents) record reads.
    logs = [ReadLog() for _ in snapshot.objects]
    recorded = _copy(snapshot, [KubeObject(record(o.data, log), o.source, o.document, o.prefix) for o, log in zip(snapshot.objects, logs)])
    embedded: dict[str, ReadLog] = {}
    real = component_config.read_documents

    def recording_load(text, *args):
        docs = real(text, *args)
        for doc in docs:
            doc.data = record(doc.data, embedded.setdefault(text, ReadLog()))
        return docs

    component_config.read_documents = recording_load
    try:
        assert scan(recorded, catalog, REQUEST).findings == clean.findings
    finally:
        component_config.read_documents = real
    fields: dict[tuple, Field] = {}
    for index, (obj, log) in enumerate(zip(snapshot.objects, logs)):
        for path in log.paths:
            fields.setdefault((obj.kind, _generalize(path)), Field(obj.kind, path, index, None, _get(obj.data, path)))
        for key, value in sorted((obj.data.get("data") or {}).items()) if obj.kind == "ConfigMap" else ():
            if value in embedded and len(list(yaml.safe_load_all(value))) == 1:
                inner = yaml.safe_load(value)
                for path in embedded[value].paths:
                    kind = f"{obj.kind}/{key}:{inner.get('kind')}"
                    fields.setdefault((kind, _generalize(path)), Field(kind, path, index, key, _get(inner, path)))
    return catalog, snapshot, clean, [fields[k] for k in sorted(fields, key=repr)]


def _get(data, path):
    for part in path:
        data = data[part]
    return data


def _set(data, path, value):
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def _copy(snapshot: Snapshot, objects: list[KubeObject]) -> Snapshot:
    return Snapshot(
        objects=objects, node_files=snapshot.node_files, registry=snapshot.registry, registry_hosts=set(snapshot.registry_hosts),
        tls=snapshot.tls, metrics=snapshot.metrics, audit_logs=snapshot.audit_logs, metadata=snapshot.metadata,
        problems=list(snapshot.problems), inputs=list(snapshot.inputs),
    )


def _mutated(snapshot: Snapshot, field: Field, value) -> tuple[Snapshot, KubeObject]:
    obj = snapshot.objects[field.index]
    data = copy.deepcopy(obj.data)
    if field.key is None:
        _set(data, field.path, value)
    else:
        inner = yaml.safe_load(data["data"][field.key])
        _set(inner, field.path, value)
        data["data"][field.key] = yaml.safe_dump(inner)
    result = _copy(snapshot, [o for i, o in enumerate(snapshot.objects) if i != field.index])
    mutated = KubeObject(data, obj.source, obj.document, obj.prefix)
    add_object(result, mutated)
    return result, obj


def _about(finding: Finding, obj: KubeObject) -> bool:
    return finding.location.file == obj.source.file and finding.location.node == obj.source.node


def _names(finding: Finding, obj: KubeObject) -> bool:
    """A not-checked finding at the object's file (and line: the object's own or the field's)."""
    return finding.rule_id == "KUP090" and _about(finding, obj) and (finding.location.line or 0) >= obj.document.start_line


def _cases():
    _, _, _, fields = _base()
    every = os.environ.get("KUPGRADE_ALL_VARIANTS") == "1"
    cases = []
    for i, field in enumerate(fields):
        wrong = [name for name, value in VARIANTS.items() if json_type(value) != json_type(field.original) or name == "huge"]
        chosen = wrong if every else [wrong[i % len(wrong)]]
        cases += [(field, name) for name in chosen]
    return cases


def _kinds() -> list[str]:
    return sorted({field.kind for field, _ in _cases()})


def test_the_recording_finds_the_fields_the_checks_read():
    fields = {(f.kind, _generalize(f.path)) for f in _base()[3]}
    # A sample of what must be there, including embedded configuration documents.
    for expected in [
        ("Deployment", ("spec", "template", "spec", "containers", "[]", "securityContext", "runAsUser")),
        ("Node", ("status", "nodeInfo", "kubeletVersion")),
        ("ValidatingWebhookConfiguration", ("webhooks", "[]", "clientConfig", "service", "name")),
        ("ConfigMap/ClusterConfiguration:ClusterConfiguration", ("imageRepository",)),
        ("ConfigMap/ClusterConfiguration:ClusterConfiguration", ("apiServer", "extraArgs")),
    ]:
        assert expected in fields
    assert len(fields) > 150


@pytest.mark.parametrize("kind", _kinds())
def test_every_wrong_type_of_every_field_read_is_contained(kind: str):
    catalog, snapshot, clean, _ = _base()
    failures = []
    for field, variant in _cases():
        if field.kind != kind:
            continue
        value = VARIANTS[variant]
        mutated, obj = _mutated(snapshot, field, value)
        what = f"{field.kind} {field.path} = {variant}"
        try:
            report = scan(mutated, catalog, REQUEST)
        except Exception as exc:  # noqa: BLE001 - the point of the test
            failures.append(f"{what}: {type(exc).__name__}: {exc}")
            continue
        new = set(report.findings) - set(clean.findings)
        named = any(_names(f, obj) for f in new)
        kind = field.kind.rpartition(":")[2] if field.key else field.kind
        valid = json_type(value) == json_type(field.original) or json_type(value) in (expected(kind, field.path) or ())
        # Findings elsewhere may follow from the object (a Service a ServiceMonitor selects, the
        # imageRepository every image is pulled from, the CoreDNS requests a LimitRange refuses):
        # they may change when the value is null (unset) or another valid value, or the object is
        # named as not checked; otherwise they must all still be there.
        lost = [f for f in clean.findings if f not in set(report.findings) and not _about(f, obj) and f.rule_id != "KUP090"]
        if lost and not named and value is not None and not valid:
            failures.append(f"{what}: lost {len(lost)} finding(s) elsewhere, e.g. {lost[0].location.describe()}: {lost[0].message[:80]}")
        must_name = not valid and (value is not None or isinstance(field.path[-1], int))
        if must_name and not named:
            failures.append(f"{what}: the object is not named in a KUP090 finding")
    assert not failures, "\n".join(failures)


def test_without_the_type_table_a_failing_check_names_the_object_and_field_and_goes_on(monkeypatch):
    """The engine's own containment, for what the table does not know: the check raises, the
    object is named with the field read last, and the check runs again without it."""
    from kupgrade_lint.snapshot import loader

    catalog, snapshot, clean, fields = _base()
    monkeypatch.setattr(loader, "refusal", lambda kind, data: None)
    field = next(f for f in fields if f.kind == "Deployment" and f.path[-1] == "containers")
    mutated, obj = _mutated(snapshot, field, 5)
    report = scan(mutated, catalog, REQUEST)
    new = [f for f in report.findings if f not in set(clean.findings)]
    assert new and all(f.rule_id == "KUP090" and _about(f, obj) for f in new)
    assert any(f"{obj.kind} {obj.namespace}/{obj.name}: " in f.message and "could not handle spec.template.spec.containers (a number) (TypeError)" in f.message
               and f.location.line == obj.line(*field.path) for f in new)
    lost = [f for f in clean.findings if f not in set(report.findings) and not _about(f, obj)]
    assert lost == []


def test_a_value_a_check_cannot_handle_is_named(tmp_path):
    manifest = tmp_path / "hooks.yaml"
    manifest.write_text(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: z}\n"
        "webhooks:\n- name: z.example.com\n  clientConfig:\n    url: https://z.example.com:99999/validate\n"
        "---\napiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: shop, namespace: shop}\nspec: {}\n"
    )
    report = scan(load_inputs(None, [str(manifest)]), _base()[0], ScanRequest(target=KubeVersion.parse("1.22"), current=KubeVersion.parse("v1.21.14")))
    by_rule = {(f.rule_id, f.location.line): f.message for f in report.findings if f.location.file == str(manifest)}
    # The certificate check names the URL it cannot use (port out of range) instead of failing on it.
    assert by_rule[("KUP090", 6)] == (
        "webhook z.example.com: webhooks[0].clientConfig names no endpoint kupgrade-lint can read "
        "(a URL without a host or with a port out of range?); its certificate was not checked"
    )
    assert ("KUP001", 9) in by_rule  # the other object is still checked


def test_retries_are_bounded(monkeypatch):
    """Past MAX_FAILED_OBJECTS objects one check cannot handle, the failure is a bug (exit 3)."""
    from kupgrade_lint import engine
    from kupgrade_lint.snapshot import loader

    catalog, snapshot, _, fields = _base()
    monkeypatch.setattr(loader, "refusal", lambda kind, data: None)
    monkeypatch.setattr(engine, "MAX_FAILED_OBJECTS", 0)
    field = next(f for f in fields if f.kind == "Deployment" and f.path[-1] == "containers")
    with pytest.raises(TypeError):
        scan(_mutated(snapshot, field, 5)[0], catalog, REQUEST)
