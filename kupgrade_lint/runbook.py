"""The upgrade runbook of one cluster, built from a finished Report: what to do, in order, and what to check.

It never judges: the images come from the report's hops, the blockers are the report's errors, ``-f``
is where rule KUP081 says kubeadm refuses, the hand edits to redo are KUP100/KUP101. What it adds is
the procedure of a kubeadm upgrade (https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/):
an etcd snapshot first, one minor at a time with the kubeadm binary of that minor, the other
control-plane nodes with ``kubeadm upgrade node``, the checks after each hop, the kubelets last.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from kupgrade_lint.findings import Finding, HopReport, Report, Severity
from kupgrade_lint.reporters.steps import KUBELET_STEP, Step, arrange, is_kubelet_fix, kubelets_last, short_place

WIDTH = 100
FORCE_RULE = "KUP081"
HAND_EDIT_RULES = ("KUP100", "KUP101")
KUBELET_RESTARTS = "https://github.com/kubernetes/kubernetes/issues/63814"
RUNTIME_RESTARTS = "https://github.com/containerd/containerd/pull/7845"
KUBEADM_UPGRADE_DOC = "https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/"
ETCD_BACKUP_DOC = "https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/"


@dataclass(frozen=True)
class ClusterShape:
    """The nodes by role and where etcd runs: what the runbook needs beyond the report."""

    control_plane: tuple[str, ...] = ()
    workers: tuple[str, ...] = ()
    etcd_external: bool = False


# -- a small document model, rendered as markdown or as wrapped text ---------------------------

@dataclass(frozen=True)
class _Block:
    kind: str  # "h1", "h2", "h3", "p", "li", "li2" (nested), "code"
    text: str = ""
    lines: tuple[str, ...] = ()


def _h(level: int, text: str) -> _Block:
    return _Block(f"h{level}", text)


def _p(text: str) -> _Block:
    return _Block("p", text)


def _li(text: str) -> _Block:
    return _Block("li", text)


def _code(*lines: str) -> _Block:
    return _Block("code", lines=tuple(lines))


def _md_text(text: str) -> str:
    """Markdown inline text: ``<`` outside code spans escaped, so that ``<service>`` is not read as HTML."""
    parts = text.replace("\n", " ").split("`")
    return "`".join(part.replace("<", "\\<") if i % 2 == 0 else part for i, part in enumerate(parts))


def _markdown(blocks: list[_Block]) -> str:
    out: list[str] = []
    previous = ""
    for b in blocks:
        if previous in ("li", "li2") and b.kind not in ("li", "li2"):
            out.append("")
        previous = b.kind
        if b.kind.startswith("h"):
            out += ["", "#" * int(b.kind[1]) + " " + _md_text(b.text), ""]
        elif b.kind == "p":
            out += [_md_text(b.text), ""]
        elif b.kind in ("li", "li2"):
            out.append(("  - " if b.kind == "li2" else "- ") + _md_text(b.text))
        else:
            out += ["", "```sh", *b.lines, "```", ""]
    text = "\n".join(out).strip("\n")
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text + "\n"


def _wrap(text: str, indent: str, hang: str) -> list[str]:
    return textwrap.wrap(text, width=WIDTH, initial_indent=indent, subsequent_indent=hang,
                         break_long_words=False, break_on_hyphens=False) or [""]


def _text(blocks: list[_Block]) -> str:
    out: list[str] = []
    previous = ""
    for b in blocks:
        if previous in ("li", "li2") and b.kind == "p":
            out.append("")
        previous = b.kind
        if b.kind == "h1":
            out += _wrap(b.text, "", "") + ["=" * min(WIDTH, len(b.text)), ""]
        elif b.kind == "h2":
            out += ["", *_wrap(f"── {b.text} ──", "", "   "), ""]
        elif b.kind == "h3":
            out += ["", *_wrap(b.text + ":", "", "  ")]
        elif b.kind == "p":
            out += _wrap(b.text, "", "") + [""]
        elif b.kind == "li":
            out += _wrap(b.text, "  - ", "    ")
        elif b.kind == "li2":
            out += _wrap(b.text, "      - ", "        ")
        else:
            out += ["", *("    " + line for line in b.lines), ""]
    text = "\n".join(line.rstrip() for line in out).strip("\n")
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text + "\n"


# -- the runbook -------------------------------------------------------------------------------

def _kubeadm(version: str) -> str:
    return f"/usr/local/bin/kubeadm-{version}"


def _finding_items(findings: list[Finding], suffix=lambda f: "") -> list[_Block]:
    """One item per rule and fix (the fix said once), the findings under it: message and place."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.rule_id, f.remediation), []).append(f)
    blocks: list[_Block] = []
    for (rule_id, remediation), found in groups.items():
        blocks.append(_li(f"`{rule_id}` {found[0].rule_name}. Fix: {remediation}"))
        for f in found:
            suppressed = f" (suppressed: {f.suppressed_by})" if f.suppressed_by else ""
            blocks.append(_Block("li2", f"{f.message} — {f.location.describe()}{suppressed}{suffix(f)}"))
    return blocks


def _download(version: str, binary: str) -> str:
    return f"https://dl.k8s.io/release/{version}/bin/linux/amd64/{binary}"


def _etcd(shape: ClusterShape) -> list[_Block]:
    blocks = [_h(2, "Step 0: back up etcd, get the binaries")]
    if shape.etcd_external:
        blocks.append(_p("etcd is external (not managed by kubeadm: no hop upgrades it). Take the snapshot on an "
                         "etcd host, with that host's certificates, and keep it off the cluster:"))
        blocks.append(_code("ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 \\",
                            "  --cacert=<etcd ca.pem> --cert=<client cert.pem> --key=<client key.pem> \\",
                            "  snapshot save /var/backups/etcd-before-upgrade.db",
                            "ETCDCTL_API=3 etcdctl snapshot status /var/backups/etcd-before-upgrade.db -w table"))
    else:
        first = shape.control_plane[0] if shape.control_plane else "the first control-plane node"
        blocks.append(_p(f"etcd is stacked (a static pod on each control-plane node, upgraded by kubeadm). Take the "
                         f"snapshot on {first} with kubeadm's etcd certificates, and keep it off the cluster:"))
        blocks.append(_code("ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 \\",
                            "  --cacert=/etc/kubernetes/pki/etcd/ca.crt \\",
                            "  --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt \\",
                            "  --key=/etc/kubernetes/pki/etcd/healthcheck-client.key \\",
                            "  snapshot save /var/backups/etcd-before-upgrade.db"))
    blocks.append(_p(f"How: {ETCD_BACKUP_DOC}"))
    return blocks


def _binaries(report: Report, shape: ClusterShape) -> list[_Block]:
    versions = [h.dest for h in report.hops]
    where = ", ".join(shape.control_plane) if shape.control_plane else "every control-plane node"
    return [
        _p(f"kubeadm upgrades one minor at a time and each hop needs the kubeadm binary of its version. On {where}, "
           f"download them (the commands here assume linux/amd64: use your nodes' architecture):"),
        _code(f"for VERSION in {' '.join(versions)}; do",
              '  curl -fsSLo /usr/local/bin/kubeadm-$VERSION \\',
              '    "https://dl.k8s.io/release/$VERSION/bin/linux/amd64/kubeadm"',
              "  chmod +x /usr/local/bin/kubeadm-$VERSION",
              "done"),
    ]


def _checks_after(hop: HopReport) -> list[_Block]:
    return [
        _h(3, f"Check after the hop to {hop.minor}"),
        _li(f"control-plane pods Running at {hop.dest} on every control-plane node: "
            "`kubectl -n kube-system get pods -l tier=control-plane -o wide`"),
        _li("CoreDNS and kube-proxy rolled out: `kubectl -n kube-system rollout status deployment/coredns --timeout=5m`, "
            "`kubectl -n kube-system rollout status daemonset/kube-proxy --timeout=5m`"),
        _li("CNI pods Running on every node: `kubectl get daemonsets -A` (DESIRED = READY for the CNI's DaemonSet)"),
        _li("DNS answers: `kubectl run dns-check --rm -i --restart=Never --image=<a busybox your nodes can pull> "
            "-- nslookup kubernetes.default`"),
        _li("a Service answers: from that pod, `wget -qO- -T 5 http://<service>.<namespace>.svc:<port>/` "
            "for a Service of yours"),
        _li("webhooks answer (a broken webhook blocks every write it covers): "
            "`kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations`, then a server-side dry run "
            "in a namespace they cover, `kubectl -n <namespace> create deployment webhook-check "
            "--image=<image> --dry-run=server`"),
        _li("operators, controllers and the important applications: logs, monitoring and alerts are quiet"),
    ]


def _hop_blocks(index: int, step: Step, report: Report, shape: ClusterShape, hop_findings: list[Finding]) -> list[_Block]:
    hop = step.hop
    assert hop is not None
    blocks = [_h(2, f"Hop {index} of {len(report.hops)}: {hop.source} → {hop.dest}")]

    blocks.append(_h(3, "Mirror before it"))
    blocks += [_li(f"`{image}`") for image in hop.images] or [_li("no images listed for this hop")]
    blocks.append(_p("`kupgrade-lint images --mirror-script` prints the copy commands; "
                     f"`{_kubeadm(hop.dest)} config images list --kubernetes-version {hop.dest}` lists them too."))

    blockers = [f for f in hop_findings if f.severity is Severity.ERROR and not is_kubelet_fix(f)]
    kubelet_files = [f for f in hop_findings if f.severity is Severity.ERROR and is_kubelet_fix(f)]
    blocks.append(_h(3, "Fix before it"))
    blocks += _finding_items(blockers) or [_li("nothing found that blocks this hop")]
    if kubelet_files:
        later = "in the kubelet step (below), before the new kubelet starts" if kubelets_last(report) else "before this hop's kubelets start"
        blocks.append(_p(f"Kubelet files a {hop.minor} kubelet rejects: fix them {later}; the old kubelet keeps running until then."))
        blocks += _finding_items(kubelet_files)

    edits = [f for f in hop_findings if f.rule_id in HAND_EDIT_RULES]
    blocks.append(_h(3, "Hand edits this hop drops"))
    if edits:
        blocks.append(_p("kubeadm rewrites the static pod manifests at this hop: redo these after it, or better, move them "
                         "into the ClusterConfiguration (extraArgs, extraEnvs) or a kubeadm patch before it."))
        blocks += _finding_items(edits)
    else:
        blocks.append(_li("none found: the manifests are what kubeadm renders from the ClusterConfiguration"))

    force = any(f.rule_id == FORCE_RULE for f in hop_findings)
    first = shape.control_plane[0] if shape.control_plane else "the first control-plane node"
    others = shape.control_plane[1:]
    blocks.append(_h(3, "Commands"))
    blocks.append(_p(f"On {first}:"))
    apply = f"{_kubeadm(hop.dest)} upgrade apply {hop.dest}" + (" -f" if force else "")
    blocks.append(_code(f"{_kubeadm(hop.dest)} upgrade plan {hop.dest}", apply))
    if force:
        blocks.append(_p(f"`-f`: {FORCE_RULE} says kubeadm refuses this hop without it, because the kubelets lag "
                         "(they are upgraded once, in the kubelet step)."))
    if others:
        blocks.append(_p(f"Then on each other control-plane node ({', '.join(others)}), one at a time:"))
        blocks.append(_code(f"{_kubeadm(hop.dest)} upgrade node"))
    elif shape.control_plane:
        blocks.append(_p(f"{first} is the only control-plane node: no `kubeadm upgrade node` at this hop."))
    else:
        blocks.append(_p("Then on each other control-plane node, one at a time:"))
        blocks.append(_code(f"{_kubeadm(hop.dest)} upgrade node"))

    if not kubelets_last(report):
        blocks.append(_p(f"Then the kubelets of this hop, one node at a time: `kubectl drain <node> --ignore-daemonsets "
                         f"--delete-emptydir-data`, `{_kubeadm(hop.dest)} upgrade node`, the kubelet binary of {hop.dest}, "
                         "`systemctl daemon-reload && systemctl restart kubelet`, `kubectl uncordon <node>` "
                         f"(a kubelet upgrade can restart the node's containers: {KUBELET_RESTARTS}, {RUNTIME_RESTARTS})."))
    blocks += _checks_after(hop)
    review = [f for f in hop_findings if f.severity is not Severity.ERROR and f.rule_id not in HAND_EDIT_RULES + (FORCE_RULE,)]
    if review:
        blocks.append(_h(3, "Also changes at this hop (review)"))
        seen: dict[str, list[str]] = {}
        for f in review:
            places = seen.setdefault(f"`{f.rule_id}` {f.rule_name}", [])
            if short_place(f) not in places:
                places.append(short_place(f))
        blocks += [_li(f"{rule}: {'; '.join(places)}") for rule, places in seen.items()]
    return blocks


def _kubelet_blocks(step: Step, report: Report, shape: ClusterShape) -> list[_Block]:
    target = report.target_version
    nodes = list(shape.control_plane) + list(shape.workers)
    blocks = [_h(2, f"Kubelet step: every kubelet to {target}, once the control plane is at {target}")]
    blocks.append(_p(
        f"Upgrading the kubelet can restart every container on the node ({KUBELET_RESTARTS}: the kubelet's "
        f"container hash changes between versions), and upgrading the container runtime can restart them too "
        f"({RUNTIME_RESTARTS}). Drain each node first, one node (or one small batch) at a time, control-plane nodes first."))
    by_node: dict[str, list[Finding]] = {}
    for fact in step.facts:
        for f in fact.findings[:1]:
            by_node.setdefault(f.location.node or "", []).append(f)
    first = shape.control_plane[0] if shape.control_plane else None
    for node in nodes or ["<node>"]:
        blocks.append(_h(3, f"{node}"))
        fixes = by_node.get(node, [])
        commands = [f"kubectl drain {node} --ignore-daemonsets --delete-emptydir-data", f"# on {node}:"]
        if node == first:
            commands.append(f"# (kubeadm upgrade apply already wrote {node}'s kubelet configuration)")
        else:
            commands += [f'curl -fsSLo {_kubeadm(target)} \\', f'  "{_download(target, "kubeadm")}"',
                         f"chmod +x {_kubeadm(target)}", f"{_kubeadm(target)} upgrade node"]
        blocks.append(_code(*commands))
        if fixes:
            blocks.append(_p(f"On {node}, before the new kubelet starts:"))
            blocks += _finding_items(fixes, lambda f: f" (breaks the kubelet at {f.hop})")
        blocks.append(_code(f"curl -fsSLo /tmp/kubelet-{target} \\", f'  "{_download(target, "kubelet")}"',
                            f'install -m 0755 /tmp/kubelet-{target} "$(command -v kubelet)"',
                            "systemctl daemon-reload && systemctl restart kubelet",
                            "# back where kubectl runs:",
                            f"kubectl get node {node}   # Ready, VERSION {target}",
                            f"kubectl uncordon {node}"))
    unplaced = [f for node, fs in by_node.items() if node not in nodes for f in fs]
    if unplaced and nodes:
        blocks.append(_h(3, "Kubelet fixes on nodes not listed above"))
        blocks += _finding_items(unplaced, lambda f: f" (breaks the kubelet at {f.hop})")
    blocks.append(_p(f"Every kubelet goes from its version straight to {target}. Then run the checks after a hop once "
                     "more, and watch the pods that restarted."))
    return blocks


def build(report: Report, shape: ClusterShape) -> list[_Block]:
    """The runbook's blocks: not-checked first, the etcd snapshot, each hop, the kubelet step."""
    steps = arrange(report)
    counts = {s: sum(1 for f in report.active_findings if f.severity is s and f.hop) for s in Severity}
    blocks = [_h(1, f"Upgrade runbook: {report.current_version} → {report.target_version} in {len(report.hops)} hop(s)")]
    blocks.append(_p(f"Built by kupgrade-lint {report.tool_version} from the scan of this cluster "
                     f"({counts[Severity.ERROR]} error(s), {counts[Severity.WARNING]} warning(s), {counts[Severity.INFO]} info; "
                     f"`kupgrade-lint scan` has every detail). Procedure: {KUBEADM_UPGRADE_DOC}"))
    unchecked = [f for f in report.findings if f.hop is None]
    not_checked = list(report.coverage.not_checked) if report.coverage else []
    if not_checked or unchecked:
        blocks.append(_h(2, "Not checked: what this runbook cannot know"))
        blocks += [_li(f"NOT CHECKED: {text}") for text in not_checked]
        blocks += _finding_items(unchecked)
    blocks += _etcd(shape)
    blocks += _binaries(report, shape)
    by_hop: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_hop.setdefault(f.hop or "", []).append(f)
    for index, step in enumerate((s for s in steps if s.hop is not None), start=1):
        blocks += _hop_blocks(index, step, report, shape, by_hop.get(step.name, []))
    for step in steps:
        if step.name == KUBELET_STEP:
            blocks += _kubelet_blocks(step, report, shape)
    return blocks


def render_runbook(report: Report, shape: ClusterShape, fmt: str = "text") -> str:
    """The runbook as ``text`` (wrapped to 100 columns) or ``markdown``."""
    blocks = build(report, shape)
    return _markdown(blocks) if fmt == "markdown" else _text(blocks)
