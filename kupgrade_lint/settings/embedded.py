"""Configuration documents: embedded in kube-system ConfigMaps, loose objects, files on the nodes."""

from __future__ import annotations

from typing import Iterator

from kupgrade_lint.parsers.yaml_documents import read_documents
from kupgrade_lint.settings.model import EmbeddedConfig, dotted
from kupgrade_lint.snapshot.model import InputProblem, KubeObject, Snapshot
from kupgrade_lint.snapshot.shapes import refusal

_CONFIG_KINDS = ("ClusterConfiguration", "KubeletConfiguration", "KubeProxyConfiguration", "InitConfiguration", "JoinConfiguration")


def embedded_configs(snapshot: Snapshot, problems: list[InputProblem]) -> Iterator[EmbeddedConfig]:
    """Every configuration document of the snapshot; documents that cannot be read become problems."""
    for obj in snapshot.of_kind("ConfigMap"):
        data = obj.data.get("data")
        if not isinstance(data, dict) or obj.namespace != "kube-system":
            continue
        for key, value in sorted(data.items()):
            if not isinstance(value, str) or "kind:" not in value:
                continue
            if key not in ("ClusterConfiguration", "ClusterStatus", "config.conf", "kubelet", "config") and not key.endswith((".yaml", ".conf")):
                continue
            yield from _parse_embedded(obj, ("data", key), value, problems)
    for obj in snapshot.in_input_order(*_CONFIG_KINDS):
        yield EmbeddedConfig(None, (), obj.document.view(obj.prefix), obj.source.file, obj.source.node)
    for node, files in sorted(snapshot.node_files.items()):
        for path, nf in sorted(files.items()):
            # Configuration files and kubeconfigs, whatever their names (admin.conf,
            # .kube/config, kubeadm.yaml); static pods, units and env files are read elsewhere.
            if path.startswith("/etc/kubernetes/manifests/") or "/systemd/" in path or path.endswith(".env"):
                continue
            if "apiVersion" not in nf.text or "kind:" not in nf.text:
                continue
            docs = read_documents(nf.text)
            for problem in docs.problems:
                problems.append(InputProblem(path, problem.message, node=node, line=problem.line))
            for doc in docs:
                # Any configuration file a component reads (kubeadm, kubelet, kube-proxy,
                # scheduler, audit policy, admission, encryption...): checks pick their kinds.
                if isinstance(doc.data, dict) and doc.data.get("kind") and doc.data.get("apiVersion"):
                    wrong = refusal(str(doc.data.get("kind")), doc.data)
                    if wrong is not None:
                        problems.append(InputProblem(path, f"{wrong[1]}; not checked", node=node, line=doc.line_of(wrong[0])))
                        continue
                    yield EmbeddedConfig(None, (), doc, path, node)


def _parse_embedded(owner: KubeObject, key_path: tuple, text: str, problems: list[InputProblem]) -> Iterator[EmbeddedConfig]:
    docs = read_documents(text)
    for exc in docs.problems:
        line = owner.content_line(key_path, exc.line or 1)
        problems.append(InputProblem(owner.source.file, f"{owner.kind} {owner.namespace}/{owner.name} {dotted(key_path)}: {exc}", node=owner.source.node, line=line))
    for doc in docs:
        if isinstance(doc.data, dict):
            wrong = refusal(str(doc.data.get("kind", "")), doc.data)
            if wrong is not None:
                line = owner.content_line(key_path, doc.line_of(wrong[0]))
                problems.append(InputProblem(owner.source.file, f"{owner.kind} {owner.namespace}/{owner.name} {dotted(key_path)}: {wrong[1]}; not checked", node=owner.source.node, line=line))
                continue
            yield EmbeddedConfig(owner, key_path, doc, owner.source.file, owner.source.node)
