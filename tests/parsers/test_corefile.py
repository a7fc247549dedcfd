"""CoreDNS Corefiles."""

from __future__ import annotations

import pytest

from kupgrade_lint.parsers.corefile import CorefileError, parse_corefile

KUBEADM_1_14 = """.:53 {
    errors
    health
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       upstream
       fallthrough in-addr.arpa ip6.arpa
    }
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
}
"""


def test_server_block_with_nested_plugin_options() -> None:
    (block,) = parse_corefile(KUBEADM_1_14)
    assert block.keys == (".:53",)
    assert block.line == 1
    assert [p.name for p in block.plugins] == ["errors", "health", "kubernetes", "prometheus", "forward", "cache", "loop", "reload", "loadbalance"]
    kubernetes = block.plugins[2]
    assert kubernetes.args == ("cluster.local", "in-addr.arpa", "ip6.arpa") and kubernetes.line == 4
    assert block.plugins[3].line == 9
    assert not block.has("ready") and not block.has("pods") and block.has("loop")


def test_plugin_block_options_with_lines_deeper_blocks_skipped() -> None:
    (block,) = parse_corefile(KUBEADM_1_14)
    kubernetes = block.plugins[2]
    assert [(o.name, o.args, o.line) for o in kubernetes.options] == [
        ("pods", ("insecure",), 5),
        ("upstream", (), 6),
        ("fallthrough", ("in-addr.arpa", "ip6.arpa"), 7),
    ]
    assert block.plugins[0].options == ()
    text = ".:53 {\n  health { lameduck 5s }\n  rewrite stop {\n    name regex (.*) {1}\n    answer name (.*) {1} {\n      nested x\n    }\n  }\n}\n"
    (block,) = parse_corefile(text)
    assert [(o.name, o.args, o.line) for o in block.plugins[0].options] == [("lameduck", ("5s",), 2)]
    assert [(o.name, o.line) for o in block.plugins[1].options] == [("name", 4), ("answer", 5)]


def test_multiple_server_blocks_comments_and_several_keys() -> None:
    text = "# stub zones\nexample.com:53 corp.example.com:53 {\n  forward . 10.0.0.53 # upstream\n}\n\n.:53 {\n  ready\n  health { lameduck 5s }\n}\n"
    first, second = parse_corefile(text)
    assert first.keys == ("example.com:53", "corp.example.com:53") and first.line == 2
    assert [(p.name, p.args) for p in first.plugins] == [("forward", (".", "10.0.0.53"))]
    assert second.keys == (".:53",) and second.line == 6
    assert [p.name for p in second.plugins] == ["ready", "health"]


def test_comma_separated_keys() -> None:
    (block,) = parse_corefile("a.local,b.local {\n  whoami\n}\n")
    assert block.keys == ("a.local", "b.local")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (".:53 {\n  errors\n", "unbalanced braces"),
        (".:53 {\n  kubernetes cluster.local {\n    pods insecure\n}\n", "unbalanced braces"),
        ("{\n  errors\n}\n", "line 1: block without server keys"),
        (".:53 {\n  errors\n}\n}\n", "line 4: unexpected }"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(CorefileError, match=message):
        parse_corefile(text)
