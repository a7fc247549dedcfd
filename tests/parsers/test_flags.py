"""Command-line flags as pflag reads them, and feature-gate strings."""

from __future__ import annotations

from kupgrade_lint.parsers.flags import parse_feature_gates, parse_flags
from kupgrade_lint.parsers.words import Origin, Word


def words(*texts: str) -> list[Word]:
    return [Word(t, Origin("unit", i + 1)) for i, t in enumerate(texts)]


def test_equals_space_and_bare_forms() -> None:
    uses = parse_flags(words("--max-pods=110", "--kubeconfig", "/etc/kubernetes/kubelet.conf", "--rotate-certificates", "--v=2", "-v=4"))
    assert [(u.name, u.value) for u in uses] == [
        ("max-pods", "110"),
        ("kubeconfig", "/etc/kubernetes/kubelet.conf"),
        ("rotate-certificates", None),
        ("v", "2"),
        ("v", "4"),
    ]


def test_flag_keeps_the_word_it_was_written_in() -> None:
    uses = parse_flags(words("--a", "x", "--b=y"))
    assert [u.word.origin.line for u in uses] == [1, 3]


def test_empty_value_and_value_with_equals() -> None:
    uses = parse_flags(words("--enforce-node-allocatable=", "--node-labels=a=b,c=d", "--resource-container", ""))
    assert [(u.name, u.value) for u in uses] == [("enforce-node-allocatable", ""), ("node-labels", "a=b,c=d"), ("resource-container", "")]


def test_bare_flag_before_another_flag_and_at_the_end() -> None:
    uses = parse_flags(words("--containerized", "--fail-swap-on=false", "--anonymous-auth"))
    assert [(u.name, u.value) for u in uses] == [("containerized", None), ("fail-swap-on", "false"), ("anonymous-auth", None)]


def test_double_dash_and_positional_words_are_not_flags() -> None:
    assert parse_flags(words("--", "positional", "-")) == []


def test_feature_gate_strings() -> None:
    assert parse_feature_gates("VolumeSubpathEnvExpansion=true, CSIMigrationAWSComplete=false,,") == [
        ("VolumeSubpathEnvExpansion", "true"),
        ("CSIMigrationAWSComplete", "false"),
    ]
    assert parse_feature_gates("") == []
    assert parse_feature_gates("NodeRestriction,PodPreset") == [("NodeRestriction", ""), ("PodPreset", "")]
