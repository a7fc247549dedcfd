"""systemd units and drop-ins, and the kubelet command line they expand to."""

from __future__ import annotations

from kupgrade_lint.parsers.systemd import expand_exec_start, merge_service, parse_environment_directive, parse_unit
from kupgrade_lint.parsers.words import TracedText

UNIT = "/etc/systemd/system/kubelet.service"
DROPIN = "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"

KUBESPRAY_UNIT = """[Unit]
Description=Kubernetes Kubelet Server

[Service]
EnvironmentFile=-/etc/kubernetes/kubelet.env
ExecStart=/usr/local/bin/kubelet \\
\t\t$KUBE_LOGTOSTDERR \\
# a comment inside the continued value is skipped
\t\t$KUBE_ALLOW_PRIV \\
\t\t--v=2
Restart=always
"""


def env(file: str, line: int, **values: str) -> dict[str, TracedText]:
    return {k: TracedText(v, (line,) * len(v), file) for k, v in values.items()}


def test_sections_continuations_and_comments() -> None:
    directives = parse_unit(KUBESPRAY_UNIT, UNIT)
    assert [(d.section, d.key, d.line) for d in directives] == [
        ("Unit", "Description", 2),
        ("Service", "EnvironmentFile", 5),
        ("Service", "ExecStart", 6),
        ("Service", "Restart", 11),
    ]
    exec_start = directives[2]
    assert exec_start.value.text.split() == ["/usr/local/bin/kubelet", "$KUBE_LOGTOSTDERR", "$KUBE_ALLOW_PRIV", "--v=2"]
    text = exec_start.value.text
    assert exec_start.value.line_at(text.index("$KUBE_LOGTOSTDERR")) == 7
    assert exec_start.value.line_at(text.index("$KUBE_ALLOW_PRIV")) == 9
    assert exec_start.value.line_at(text.index("--v=2")) == 10


def test_dropins_apply_in_order_and_empty_exec_start_resets() -> None:
    unit = parse_unit("[Service]\nExecStart=/usr/bin/kubelet --containerized\nEnvironment=A=1\n", "/lib/systemd/system/kubelet.service")
    dropin = parse_unit(
        "[Service]\nEnvironment=\"B=2\"\nEnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\nEnvironmentFile=/etc/default/kubelet\n"
        "ExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_KUBEADM_ARGS\n",
        DROPIN,
    )
    service = merge_service([("/lib/systemd/system/kubelet.service", unit), (DROPIN, dropin)])
    assert service.files == ["/lib/systemd/system/kubelet.service", DROPIN]
    assert service.exec_start is not None
    assert service.exec_start.value.text == "/usr/bin/kubelet $KUBELET_KUBEADM_ARGS"
    assert service.exec_start.value.file == DROPIN and service.exec_start.line == 6
    assert [d.value.text for d in service.environment] == ["A=1", '"B=2"']
    assert [(path, optional) for path, optional, _ in service.environment_files] == [
        ("/var/lib/kubelet/kubeadm-flags.env", True),
        ("/etc/default/kubelet", False),
    ]


def test_reset_without_a_new_exec_start_leaves_none() -> None:
    unit = parse_unit("[Service]\nExecStart=/usr/bin/kubelet\n", UNIT)
    dropin = parse_unit("[Service]\nExecStart=\n", DROPIN)
    assert merge_service([(UNIT, unit), (DROPIN, dropin)]).exec_start is None


def test_directives_outside_service_are_ignored() -> None:
    directives = parse_unit("[Unit]\nExecStart=/bin/false\n[Install]\nWantedBy=multi-user.target\n", UNIT)
    assert merge_service([(UNIT, directives)]).exec_start is None


def test_environment_directive_quoting() -> None:
    (directive,) = parse_unit(
        '[Service]\nEnvironment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf" B=2\n',
        DROPIN,
    )[:1]
    pairs = parse_environment_directive(directive)
    assert [(name, value.text) for name, value in pairs] == [
        ("KUBELET_KUBECONFIG_ARGS", "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"),
        ("B", "2"),
    ]
    assert all(value.file == DROPIN and value.line_at(0) == 2 for _, value in pairs)


def test_dollar_var_splits_into_words_from_the_env_file() -> None:
    (exec_start,) = [d for d in parse_unit(KUBESPRAY_UNIT, UNIT) if d.key == "ExecStart"]
    variables = env("/etc/kubernetes/kubelet.env", 34, KUBE_ALLOW_PRIV="--allow-privileged=true --foo")
    variables.update(env("/etc/kubernetes/kubelet.env", 5, KUBE_LOGTOSTDERR="--logtostderr=true"))
    words = expand_exec_start(exec_start, variables)
    assert [w.text for w in words] == ["/usr/local/bin/kubelet", "--logtostderr=true", "--allow-privileged=true", "--foo", "--v=2"]
    priv = words[2]
    assert (priv.origin.file, priv.origin.line) == ("/etc/kubernetes/kubelet.env", 34)
    assert priv.via_variable == "KUBE_ALLOW_PRIV"
    assert priv.via is not None and (priv.via.file, priv.via.line) == (UNIT, 9)
    assert words[4].via is None and (words[4].origin.file, words[4].origin.line) == (UNIT, 10)


def test_braced_var_is_one_word() -> None:
    (exec_start,) = parse_unit("[Service]\nExecStart=/usr/bin/kubelet ${ARGS} --x=${V}\n", UNIT)
    words = expand_exec_start(exec_start, env("/etc/sysconfig/kubelet", 3, ARGS="--a=1 --b=2", V="9"))
    assert [w.text for w in words] == ["/usr/bin/kubelet", "--a=1 --b=2", "--x=9"]
    whole = words[1]
    assert whole.via_variable == "ARGS" and (whole.origin.file, whole.origin.line) == ("/etc/sysconfig/kubelet", 3)
    assert whole.via is not None and whole.via.line == 2
    # A variable inside a longer word: the word is the unit's own.
    assert words[2].via_variable is None and (words[2].origin.file, words[2].origin.line) == (UNIT, 2)


def test_unknown_variables_expand_to_nothing_and_prefixes_are_stripped() -> None:
    (exec_start,) = parse_unit("[Service]\nExecStart=-/usr/bin/kubelet $MISSING --v=2\n", UNIT)
    assert [w.text for w in expand_exec_start(exec_start, {})] == ["/usr/bin/kubelet", "--v=2"]


def test_bom_and_crlf_units_read_like_lf() -> None:
    lf = parse_unit(KUBESPRAY_UNIT, UNIT)
    for variant in ("\ufeff" + KUBESPRAY_UNIT, KUBESPRAY_UNIT.replace("\n", "\r\n")):
        assert [(d.section, d.key, d.value.text, d.line) for d in parse_unit(variant, UNIT)] == [(d.section, d.key, d.value.text, d.line) for d in lf]


def test_a_command_line_over_the_exec_limit_is_an_error_before_it_is_built() -> None:
    import pytest

    from kupgrade_lint.parsers.systemd import MAX_COMMAND_CHARS, UnitError

    (exec_start,) = [d for d in parse_unit("[Service]\nExecStart=/bin/kubelet " + "$BIG " * 100 + "\n", UNIT) if d.key == "ExecStart"]
    big = TracedText("--a=" + "x" * (MAX_COMMAND_CHARS // 50), (2,) * (4 + MAX_COMMAND_CHARS // 50), "/etc/kubernetes/kubelet.env")
    with pytest.raises(UnitError) as info:
        expand_exec_start(exec_start, {"BIG": big})
    assert info.value.line == 2 and "ExecStart expands to more than" in info.value.message


def test_many_assignments_in_one_environment_line_are_read_in_one_pass() -> None:
    line = " ".join(f"V{i}=x{i}" for i in range(3000))
    (directive,) = [d for d in parse_unit(f"[Service]\nEnvironment={line}\n", UNIT) if d.key == "Environment"]
    values = parse_environment_directive(directive)
    assert len(values) == 3000 and values[-1][0] == "V2999" and values[-1][1].text == "x2999"
