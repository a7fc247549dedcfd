"""YAML/JSON documents with the line of every key, item and block scalar."""

from __future__ import annotations

import pytest

from kupgrade_lint.parsers.yaml_documents import YamlError, load_documents, read_documents

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


# -- bounded work on hostile input -------------------------------------------------------------

BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['lol'] * 9)}]\n"
    for prev, name in zip([None, *"abcdefgh"], "abcdefghi")
)


def test_alias_bomb_is_refused_before_anything_is_expanded(monkeypatch):
    from kupgrade_lint.parsers import yaml_documents

    def never(*args, **kwargs):
        raise AssertionError("the document was expanded")

    children_calls = [0]  # a count: a list of the nodes would have an exponential repr
    real_children = yaml_documents._children
    monkeypatch.setattr(yaml_documents, "_construct", never)
    monkeypatch.setattr(yaml_documents, "_index_node", never)
    def counted(node):
        children_calls[0] += 1
        return real_children(node)

    monkeypatch.setattr(yaml_documents, "_children", counted)
    docs = yaml_documents.read_documents(BOMB)
    assert [p.line for p in docs.problems] == [1]
    assert "aliases would expand the document by 490,329,036 nodes" in docs.problems[0].message
    # The measure's work is bounded by what is written out (28 nodes, 99 edges between them), not
    # by the 490 million nodes the aliases stand for: each node and edge is looked at at most twice.
    assert children_calls[0] <= 2 * (28 + 99)


def test_alias_budget_grows_with_the_text_and_has_a_ceiling():
    from kupgrade_lint.parsers import yaml_documents as yd

    # Ten aliases of a 50-item list add 500 nodes: fine. Aliases adding more than the budget are not.
    ok = "base: &b [" + ", ".join(["x"] * 50) + "]\nuse: [" + ", ".join(["*b"] * 10) + "]\n"
    assert not read_documents(ok).problems
    big = "base: &b [" + ", ".join(["x"] * 1000) + "]\nuse: [" + ", ".join(["*b"] * 200) + "]\n"
    (problem,) = read_documents(big).problems
    assert f"the limit for {len(big):,} characters is {yd.ALIAS_NODES_PER_CHAR * len(big):,}" in problem.message
    assert yd.ALIAS_NODES_MAX >= yd.ALIAS_NODES_PER_CHAR * len(big)


def test_merge_keys_and_plain_aliases_still_work():
    (doc,) = read_documents("defaults: &d {a: 1, b: 2}\nthing:\n  <<: *d\n  b: 3\nlist: [*d]\n")
    assert doc.data["thing"] == {"a": 1, "b": 3} and doc.data["list"] == [{"a": 1, "b": 2}]


def _json_reads_deep() -> bool:
    import json

    try:
        json.loads("[" * 3000 + "]" * 3000)
    except RecursionError:
        return False
    return True


_JSON_READS_DEEP = _json_reads_deep()


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a: &a [*a]\n", 1, "an alias refers to the node that contains it"),
        ("a: " + "[" * 300 + "]" * 300 + "\n", 1, "nested more than 256 levels deep"),
        ("k:\n  " + "\n  ".join(["x: 1"] * 2) + "\n", 3, "key 'x' is given twice in one mapping; the last value is the one checked"),
        ("a: !custom 5\n", 1, "unknown YAML tag '!custom'"),
        ("a: " + "1" * 4301 + "\n", 1, "a number of 4301 digits (more than 4300)"),
        ("{\"a\": " + "1" * 4301 + "}", 1, "a number of more than 4300 digits"),
        # Python's JSON decoder raises RecursionError this deep up to 3.12; 3.13's reads it (and the
        # document is then judged as what it is, which the next case shows).
        pytest.param("[" * 3000 + "]" * 3000, 1, "JSON nested too deep to read", marks=pytest.mark.skipif(_JSON_READS_DEEP, reason="this Python's JSON decoder reads 3000 levels")),
    ],
)
def test_each_limit_is_one_problem_naming_the_line(text: str, line: int, message: str):
    docs = read_documents(text)
    assert [(p.line, message in p.message) for p in docs.problems] == [(line, True)], docs.problems


def test_size_limits_are_checked_before_parsing(monkeypatch):
    from kupgrade_lint.parsers import yaml_documents as yd

    monkeypatch.setattr(yd, "MAX_DOCUMENT_CHARS", 100)
    docs = read_documents("a: 1\n---\nb: " + "x" * 200 + "\n---\nc: 3\n")
    assert [d.data for d in docs] == [{"a": 1}, {"c": 3}]
    assert [(p.line, "document not checked" in p.message) for p in docs.problems] == [(2, True)]  # its "---" line
    monkeypatch.setattr(yd, "MAX_TEXT_CHARS", 10)
    assert "not checked" in read_documents("a: 1\nb: 2\nc: 3\n").problems[0].message


def test_crlf_and_bom_read_like_lf():
    text = "a: 1\n---\nkind: B\nspec:\n  x: |\n    one\n    two\n"
    lf = read_documents(text)
    for variant in (text.replace("\n", "\r\n"), "\ufeff" + text, "\ufeff" + text.replace("\n", "\r\n")):
        docs = read_documents(variant)
        assert [d.data for d in docs] == [d.data for d in lf]
        assert [(d.start_line, d.lines, d.block_starts) for d in docs] == [(d.start_line, d.lines, d.block_starts) for d in lf]


def test_directives_and_blank_marker_lines_split_like_any_stream():
    docs = read_documents("%YAML 1.1\n---\nkind: A\n---\t\nkind: B\n--- \nkind: C\n...\n---\nkind: D\n")
    assert not docs.problems
    assert [(d.data["kind"], d.line_of(("kind",))) for d in docs] == [("A", 3), ("B", 5), ("C", 7), ("D", 10)]


# -- a YAML document keeps no index: each look-up walks the composed document ------------------

TRICKY = """# leading comment
---
base: &base
  image: nginx:1.0
  args: [a, b]
one:
  <<: *base
  image: nginx:2.0
twice:
  x: 1
twice:
  y: |
    first
    second
list:
- name: a
  value: >
    folded
- |
  block item
- [1, [2, 3]]
? 12
: a number as a key
"""


def _every_path_and_beyond(doc) -> list[tuple]:
    paths = [()] + list(doc.lines)
    return paths + [p + ("missing",) for p in paths] + [p + (0,) for p in paths] + [p + (99, "x") for p in paths]


@pytest.mark.parametrize("name", ["tricky", "fixtures"])
def test_walked_positions_equal_the_full_index(name: str) -> None:
    """Lines, columns and block-content lines without an index are the ones the full index gives,
    for every path in it and for paths below it that are missing."""
    from pathlib import Path

    if name == "tricky":
        texts = [TRICKY, KUBEADM_CONFIG]
        assert len(read_documents(TRICKY)) == 1
    else:
        root = Path(__file__).resolve().parents[2] / "fixtures"
        texts = [p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.y*ml"))]
    compared = 0
    for text in texts:
        for walked, indexed in zip(read_documents(text), read_documents(text)):
            indexed.lines  # builds the full index; ``walked`` never does
            for path in _every_path_and_beyond(indexed):
                assert walked.position_of(path) == indexed.position_of(path), path
                assert walked.content_line(path, 2) == indexed.content_line(path, 2), path
                compared += 1
            assert walked._index is None
    assert compared > 100


def test_a_read_again_document_keeps_no_text(tmp_path) -> None:
    """With ``reread`` a YAML document keeps where it was, not its text; lines come from reading it again."""
    path = tmp_path / "m.yaml"
    path.write_text("a: 1\n---\n# two\nkind: x\nspec:\n  b: |\n    x\n", encoding="utf-8")
    reads = []

    def reread() -> str:
        reads.append(1)
        return path.read_text(encoding="utf-8")

    first, second = read_documents(path.read_text(encoding="utf-8"), reread)
    assert not isinstance(first._source, str) and not isinstance(second._source, str)
    assert second.start_line == 4
    assert second.position_of(("spec", "b")) == (6, 3)
    assert second.content_line(("spec", "b"), 1) == 7
    assert first.position_of(("a",)) == (1, 1)
    assert reads  # read again only for the look-ups
    path.write_text("a: [\n", encoding="utf-8")  # changed (and broken) since: the start line, no traceback
    fresh, _ = read_documents("a: 1\n---\nkind: x\n", lambda: path.read_text(encoding="utf-8"))
    assert fresh.position_of(("a",)) == (1, None)


def test_equal_small_mappings_of_scalars_are_one_object() -> None:
    """Memory: documents share equal small mappings of scalars and equal short strings; equal
    but differently typed values (1, true, "1") stay apart."""
    a, b, c = read_documents("r: {cpu: 100m, n: 1}\nx: [1]\n---\nr: {cpu: 100m, n: 1}\nx: [1]\n---\nr: {cpu: 100m, n: true}\n")
    assert a.data["r"] is b.data["r"] and a.data["r"] == {"cpu": "100m", "n": 1}
    assert c.data["r"] is not a.data["r"] and c.data["r"]["n"] is True
    assert a.data["x"] is not b.data["x"]  # lists are not shared
    assert a.data is not b.data  # nor mappings that hold a list
    assert next(iter(a.data)) is next(iter(b.data))


@pytest.mark.parametrize("plain", ["0", "7", "010", "0x1f", "-3", "+4", "1_000", "12345678901234567890123", "99999999999999999999", "true",
                                   "True", "TRUE", "yes", "on", "no", "off", "false", "~", "null", "Null", "NULL", "8080", "1.5", "0o17", "0b11", "190:20:30"])
def test_plain_scalars_read_as_the_safe_constructor_reads_them(plain: str) -> None:
    """Ints, bools and nulls are built without the constructor on their common forms; the value
    and its type are the constructor's (a leading 0 is octal, YAML 1.1 sexagesimals and all)."""
    import yaml

    from kupgrade_lint.parsers.yaml_documents import _Loader, load_data

    text = f"a: {plain}\nb: [{plain}]\nc:\n  d: {plain}\n"
    mine, theirs = load_data(text), yaml.load(text, Loader=_Loader)
    assert mine == theirs
    assert [type(v) for v in (mine["a"], mine["b"][0], mine["c"]["d"])] == [type(v) for v in (theirs["a"], theirs["b"][0], theirs["c"]["d"])]
