"""The fields the loader drops (snapshot/unread.py) are fields no check reads.

Every object of the seed snapshot is given each dropped field (after loading, so the checks see
it), the scan runs with every read recorded (snapshot/recording.py), and no read may reach a
dropped field. A check that starts reading one fails this test: drop less, or read elsewhere.
"""

from __future__ import annotations

import copy

from kupgrade_lint.catalog import load_catalog
from kupgrade_lint.engine import ScanRequest, scan
from kupgrade_lint.snapshot.loader import load_inputs
from kupgrade_lint.snapshot.model import KubeObject
from kupgrade_lint.snapshot.recording import ReadLog, record
from kupgrade_lint.snapshot.unread import DROPPED, drop_unread
from tests.conftest import SEED
from tests.test_isolation import REQUEST, _copy, _generalize

ENTRY = {"apiVersion": "extensions/v1beta1", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}, "manager": "kubectl", "operation": "Update"}


def _with_dropped_fields(data: dict) -> dict:
    data = copy.deepcopy(data)
    for pattern in DROPPED:
        _plant(data, pattern)
    return data


def _plant(value, pattern: tuple) -> None:
    """Make ``pattern`` exist in ``value`` (two items for each "[]")."""
    head, rest = pattern[0], pattern[1:]
    if not rest:
        value[head] = {"planted": {"f:x": {}}}
        return
    if rest[0] == "[]":
        items = value.setdefault(head, [])
        while len(items) < 2:
            items.append(copy.deepcopy(ENTRY) if head == "managedFields" else {})
        for item in items:
            if rest[1:]:
                _plant(item, rest[1:])
        return
    child = value.setdefault(head, {})
    _plant(child, rest)


def test_no_check_reads_a_dropped_field():
    catalog = load_catalog([])
    snapshot = load_inputs(SEED, [])
    logs = [ReadLog() for _ in snapshot.objects]
    planted = _copy(snapshot, [KubeObject(record(_with_dropped_fields(o.data), log), o.source, o.document, o.prefix) for o, log in zip(snapshot.objects, logs)])
    assert scan(planted, catalog, REQUEST).findings
    read = {_generalize(path) for log in logs for path in log.paths}
    # The planted fields are where the checks look: their neighbours are read...
    assert ("metadata", "managedFields", "[]", "apiVersion") in read
    # ...the dropped ones never are.
    assert not [path for path in read for pattern in DROPPED if path[: len(pattern)] == pattern]


def test_drop_unread_removes_exactly_the_dropped_fields():
    data = _with_dropped_fields({"kind": "Pod", "metadata": {"name": "p"}})
    kept = copy.deepcopy(data)
    drop_unread(data)
    for entry in kept["metadata"]["managedFields"]:
        del entry["fieldsV1"]
    assert data == kept
    odd = {"kind": "Pod", "metadata": {"managedFields": [5, None, {"fieldsV1": 1}]}}
    drop_unread(odd)
    assert odd == {"kind": "Pod", "metadata": {"managedFields": [5, None, {}]}}
    for value in (None, 5, [], {"metadata": 5}, {"metadata": {"managedFields": {"fieldsV1": 1}}}):
        before = copy.deepcopy(value)
        drop_unread(value)
        assert value == before


def test_the_loader_drops_them(seed_copy):
    import json

    path = seed_copy / "cluster" / "kube-system" / "deployments" / "metrics-server.json"
    data = json.loads(path.read_text())
    data["metadata"]["managedFields"] = [copy.deepcopy(ENTRY)]
    path.write_text(json.dumps(data, indent=4))
    (obj,) = [o for o in load_inputs(seed_copy, []).objects if o.source.file.endswith("metrics-server.json")]
    assert obj.data["metadata"]["managedFields"] == [{k: v for k, v in ENTRY.items() if k != "fieldsV1"}]
