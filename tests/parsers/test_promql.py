"""Label and metric names used by PromQL expressions."""

from __future__ import annotations


from kupgrade_lint.parsers.promql import analyse


def test_selectors_and_grouping() -> None:
    use = analyse('sum by (namespace, pod_name, container_name) (rate(container_cpu_usage_seconds_total{job="kubelet", image!="", container_name!="POD"}[5m]))')
    assert use.labels == {"namespace", "pod_name", "container_name", "job", "image"}
    assert use.metrics == {"container_cpu_usage_seconds_total"}


def test_without_on_ignoring_and_group_left() -> None:
    use = analyse(
        "sum without (instance) (container_memory_rss) * on (namespace, pod) group_left(node) "
        "kube_pod_info / ignoring (le) machine_memory_bytes"
    )
    assert use.labels == {"instance", "namespace", "pod", "node", "le"}
    assert use.metrics == {"container_memory_rss", "kube_pod_info", "machine_memory_bytes"}


def test_label_replace_and_label_join_label_arguments() -> None:
    use = analyse('label_replace(container_memory_usage_bytes, "pod", "$1", "pod_name", "(.*)")')
    assert use.labels == {"pod", "pod_name"}
    assert use.metrics == {"container_memory_usage_bytes"}
    joined = analyse('label_join(up, "target", "-", "namespace", "job")')
    assert joined.labels == {"target", "namespace", "job"}


def test_strings_and_comments_do_not_count() -> None:
    use = analyse('up{job="container_name"} # pod_name in a comment\n== 1')
    assert use.labels == {"job"}
    assert use.metrics == {"up"}


def test_name_matcher_and_keywords() -> None:
    use = analyse('sum({__name__="container_fs_usage_bytes", pod!=""}) by (pod) > bool 0 and absent(foo)')
    assert use.metrics == {"container_fs_usage_bytes", "foo"}
    assert use.labels == {"pod"}


def test_offset_duration_is_not_a_metric() -> None:
    use = analyse("rate(container_cpu_usage_seconds_total[5m] offset 5m)")
    assert use.metrics == {"container_cpu_usage_seconds_total"}


def test_name_regex_matchers_are_kept_apart() -> None:
    use = analyse('sum(rate({__name__=~"coredns_dns_request(s|_count)_total", __name__!="x"}[5m])) + {__name__!~"y"}')
    assert use.metrics == frozenset()
    assert use.name_regexes == {"coredns_dns_request(s|_count)_total"}
