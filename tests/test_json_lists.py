"""Snapshot files written as ``collect`` and ``kubectl get -o json`` write them (one pretty-printed
``kind: List`` per resource) are read item by item; the scan gives exactly what reading each
file whole gives: the same objects, problems, findings, lines and columns."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kupgrade_lint.catalog import load_catalog
from kupgrade_lint.engine import ScanRequest, scan
from kupgrade_lint.parsers import json_layout
from kupgrade_lint.snapshot import loader
from kupgrade_lint.snapshot.loader import load_inputs
from kupgrade_lint.versions import KubeVersion

MANAGED = [
    {"apiVersion": "extensions/v1beta1", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:rules": {}}}, "manager": "kubectl", "operation": "Update"},
    {"apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {".": {}}}}, "manager": "helm", "operation": "Apply"},
]


def _as_lists(root: Path, indent: int | None, managed: bool) -> None:
    """Rewrite the JSON object files under cluster/ as one List per directory, as collect writes them."""
    groups: dict[Path, list] = {}
    for path in sorted((root / "cluster").rglob("*.json")):
        data = json.loads(path.read_text())
        for obj in data["items"] if data.get("kind", "").endswith("List") else [data]:
            if managed:
                obj.setdefault("metadata", {})["managedFields"] = json.loads(json.dumps(MANAGED))
            groups.setdefault(path.parent, []).append(obj)
        path.unlink()
    for directory, items in groups.items():
        items.append({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "broken", "namespace": "x"}, "spec": {"containers": 5}})
        items.append({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "ñandú", "namespace": "x", "labels": {"ä": "ö"}}})
        items.append({"no": "kind"})
        text = json.dumps({"apiVersion": "v1", "kind": "List", "metadata": {}, "items": items}, indent=indent, ensure_ascii=False)
        (directory / "objects.json").write_text(text + "\n", encoding="utf-8")


def _everything(root: Path):
    snapshot = load_inputs(root, [])
    report = scan(snapshot, load_catalog([]), ScanRequest(target=KubeVersion.parse("v1.21.14")))
    objects = [(o.source.file, o.prefix, o.data, o.location("metadata", "name"), o.location("spec", "containers", 0, "image")) for o in snapshot.objects]
    problems = [(p.file, p.line, p.message) for p in snapshot.problems]
    return objects, problems, [f.to_dict() if hasattr(f, "to_dict") else f for f in report.findings]


@pytest.mark.parametrize(("indent", "managed"), [(2, True), (4, False), (None, True)])
def test_lists_read_item_by_item_give_the_same_scan(seed_copy: Path, monkeypatch, indent, managed):
    _as_lists(seed_copy, indent, managed)
    calls = []
    real = json_layout.split_list

    def spy(*args, **kwargs):
        calls.append(real(*args, **kwargs))
        return calls[-1]

    monkeypatch.setattr(loader, "split_list", spy)
    by_item = _everything(seed_copy)
    monkeypatch.setattr(loader, "split_list", lambda *args, **kwargs: None)
    whole = _everything(seed_copy)
    assert by_item == whole
    assert calls and all((c is None) == (indent is None) for c in calls)  # compact JSON is read whole
    objects, problems, findings = by_item
    assert any("containers" in message and "not checked" in message for _, _, message in problems)
    assert any("is not a Kubernetes object" in message for _, _, message in problems)
    assert findings
    if managed:
        entries = [entry for _, _, data, _, _ in objects for entry in data["metadata"].get("managedFields", [])]
        assert entries and all("fieldsV1" not in entry and entry["fieldsType"] == "FieldsV1" for entry in entries)


def test_a_broken_item_is_one_problem_naming_the_file(seed_copy: Path):
    items = [{"kind": "Pod", "apiVersion": "v1", "metadata": {"name": f"p{i}", "namespace": "x"}} for i in range(3)]
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=2)
    (seed_copy / "cluster" / "pods.json").write_text(text.replace('"p1"', "1" + "0" * 5000))
    (seed_copy / "cluster" / "cut.json").write_text(text[: len(text) // 2])
    problems = {p.file: (p.line, p.message) for p in load_inputs(seed_copy, []).problems}
    assert problems["cluster/pods.json"][1] == "a number of more than 4300 digits; not checked"
    assert problems["cluster/cut.json"][1].startswith("not valid YAML")  # as before: what YAML makes of it


def test_a_look_up_reads_the_items_span_again_through_the_tree(seed_copy: Path):
    items = [{"kind": "Pod", "apiVersion": "v1", "metadata": {"name": f"p{i}", "namespace": "x"}} for i in range(3)]
    path = seed_copy / "cluster" / "pods.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=2))
    snapshot = load_inputs(seed_copy, [])
    (pod,) = [o for o in snapshot.objects if o.name == "p1"]
    assert pod.document.layout is not None
    assert pod.line("metadata", "name") == 1 + path.read_text().splitlines().index('        "name": "p1",')
    # The file swapped for another after it was read: the look-up refuses it (the tree checks
    # that it is the same file), as reading the whole file again does.
    from kupgrade_lint.errors import InputError

    (seed_copy / "cluster" / "other.json").write_text(path.read_text())
    os.replace(seed_copy / "cluster" / "other.json", path)
    (other,) = [o for o in snapshot.objects if o.name == "p2"]
    with pytest.raises(InputError, match="changed while the snapshot was read"):
        other.line("metadata", "name")


def test_the_tree_reads_a_span_of_a_file(tmp_path: Path):
    from kupgrade_lint.snapshot.tree import Tree

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.json").write_bytes(b"0123456789")
    tree = Tree(tmp_path)
    assert tree.read("a/f.json", span=(2, 5)) == b"234"
    assert tree.read("a/f.json", span=(8, 20)) == b"89"
    assert tree.read("a/f.json") == b"0123456789"
