"""YAML/JSON documents with the line of every key, item and block scalar."""

from __future__ import annotations

import pytest

from kupgrade_lint.parsers.yaml_documents import YamlError, load_documents

KUBEADM_CONFIG = """apiVersion: v1
kind: ConfigMap
metadata:
  name: kubeadm-config
  namespace: kube-system
data:
  ClusterConfiguration: |
    apiServer:
      extraArgs:
        insecure-port: "8080"
    kind: ClusterConfiguration
  folded: >
    one
    two
  plain: x
"""


def test_line_of_keys_and_nearest_ancestor() -> None:
    (doc,) = load_documents(KUBEADM_CONFIG)
    assert doc.start_line == 1
    assert doc.line_of(("kind",)) == 2
    assert doc.line_of(("metadata", "namespace")) == 5
    assert doc.line_of(("data", "ClusterConfiguration")) == 7
    assert doc.line_of(("metadata", "labels", "missing")) == 3
    assert doc.line_of(()) == 1


def test_block_scalar_content_lines() -> None:
    (doc,) = load_documents(KUBEADM_CONFIG)
    path = ("data", "ClusterConfiguration")
    assert doc.content_line(path, 1) == 8
    assert doc.content_line(path, 3) == 10
    assert doc.content_line(("data", "folded"), 2) == 14
    # A plain scalar has no content lines of its own: its key's line.
    assert doc.content_line(("data", "plain"), 3) == 15


def test_multiple_documents_and_empty_ones() -> None:
    docs = load_documents("---\n# comment only\n---\napiVersion: v1\nkind: Service\n---\napiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n  - name: b\n")
    assert [d.data["kind"] for d in docs] == ["Service", "Pod"]
    assert [d.start_line for d in docs] == [4, 7]
    assert docs[1].line_of(("spec", "containers", 1)) == 12
    assert docs[1].line_of(("spec", "containers", 1, "name")) == 12


def test_list_items() -> None:
    (doc,) = load_documents("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Node\n  metadata:\n    name: a\n- apiVersion: v1\n  kind: Node\n")
    assert doc.line_of(("items", 0)) == 4
    assert doc.line_of(("items", 0, "metadata", "name")) == 7
    assert doc.line_of(("items", 1, "kind")) == 9


def test_json_input() -> None:
    (doc,) = load_documents('{\n  "apiVersion": "apps/v1",\n  "kind": "Deployment",\n  "metadata": {\n    "name": "metrics-server"\n  }\n}\n')
    assert doc.data["metadata"]["name"] == "metrics-server"
    assert doc.line_of(("metadata", "name")) == 5


def test_timestamps_stay_strings() -> None:
    (doc,) = load_documents('metadata:\n  creationTimestamp: 2019-06-01T10:00:00Z\n')
    assert doc.data["metadata"]["creationTimestamp"] == "2019-06-01T10:00:00Z"


def test_error_names_the_line() -> None:
    with pytest.raises(YamlError) as info:
        load_documents("apiVersion: v1\nkind: Pod\nspec:\n  image: registry.example.com:5000/web: 1.2\n")
    assert info.value.line == 4
    assert str(info.value).startswith("line 4: not valid YAML: mapping values are not allowed")


def test_unterminated_quote_names_where_it_opens() -> None:
    with pytest.raises(YamlError) as info:
        load_documents('a: 1\nb: "open\nc: 2\n')
    assert info.value.line == 2
    assert "quoted scalar" in str(info.value)


JSON_LIST = """{
  "apiVersion": "v1",
  "kind": "List",
  "items": [
    {
      "apiVersion": "apps/v1",
      "kind": "Deployment",
      "metadata": {"name": "a", "annotations": {"x": "has \\"quotes\\", [brackets] and {braces}"}},
      "spec": {"empty": [], "none": {}, "nested": [[1, 2], [3]],
               "containers": [
                 {"name": "c", "args": ["--a", "--b"]}
               ]}
    },
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b"}}
  ]
}
"""


def test_json_lines_match_the_yaml_parser_and_items_resolve_alone():
    from kupgrade_lint.parsers.yaml_documents import _yaml_index

    (fast,) = load_documents(JSON_LIST)
    reference, _ = _yaml_index(JSON_LIST, 1)
    paths = [
        ("items", 0), ("items", 0, "metadata", "annotations", "x"), ("items", 0, "spec", "empty"),
        ("items", 0, "spec", "nested", 1), ("items", 0, "spec", "nested", 0, 1), ("items", 0, "spec", "containers", 0, "args", 1),
        ("items", 1), ("items", 1, "metadata", "name"), ("kind",),
    ]
    for path in paths:
        assert fast.line_of(path) == reference[path], path
    # the per-item index of a List (what findings use) agrees with a full index
    (whole,) = load_documents(JSON_LIST)
    assert whole.lines[("items", 0, "spec", "containers", 0, "args", 1)] == 11
    assert whole.view(("items", 1)).line_of(("metadata", "name")) == 14
