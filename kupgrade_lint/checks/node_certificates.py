"""The control plane's own certificates on the nodes: expired, or expiring within the upgrade window.

Read from the public certificates of kubeadm's ``/etc/kubernetes/pki`` (and ``pki/etcd``),
kubespray's ``/etc/kubernetes/ssl``, and the client certificates embedded in the kubeconfigs
under ``/etc/kubernetes``. ``kubeadm upgrade apply`` and ``kubeadm upgrade node`` renew the
certificates kubeadm manages unless ``--certificate-renewal=false``; they never renew a CA, and
the kubelet's own client certificate is rotated by the kubelet
(https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-certs/#automatic-certificate-renewal).
"""

from __future__ import annotations

import base64
import binascii
import datetime
from typing import Iterable, Iterator

from kupgrade_lint.catalog import Rule
from kupgrade_lint.checks import Candidate, CheckContext, check
from kupgrade_lint.findings import Location, Severity
from kupgrade_lint.parsers.x509 import Certificate, CertificateError, parse_pem_chain
from kupgrade_lint.parsers.yaml_documents import read_documents

CERTIFICATE_DIRS = ("/etc/kubernetes/pki/", "/etc/kubernetes/ssl/")
KUBECONFIG_DIR = "/etc/kubernetes/"
# kubelet.conf's client certificate belongs to the kubelet (rotateCertificates), not to kubeadm's renewal.
KUBELET_KUBECONFIG = "/etc/kubernetes/kubelet.conf"


def _node_certificates(ctx: CheckContext) -> Iterator[tuple[str, str, Certificate | None, str | None, str]]:
    """(node, path, certificate or None, problem, what) of every control-plane certificate in the node files."""
    for node, files in sorted(ctx.snapshot.node_files.items()):
        for path, nf in sorted(files.items()):
            if path.startswith(CERTIFICATE_DIRS) and path.endswith(".crt"):
                try:
                    yield node, path, parse_pem_chain(nf.text)[0], None, "certificate"
                except CertificateError as exc:
                    yield node, path, None, str(exc), "certificate"
            elif path.startswith(KUBECONFIG_DIR) and path.count("/") == 3 and path.endswith(".conf"):
                for user, pem in _kubeconfig_client_certificates(nf.text):
                    if pem == "REDACTED":
                        yield node, path, None, "it was redacted in the snapshot", f"client certificate of user {user}"
                        continue
                    try:
                        yield node, path, parse_pem_chain(pem)[0], None, f"client certificate of user {user}"
                    except CertificateError as exc:
                        yield node, path, None, str(exc), f"client certificate of user {user}"


def _kubeconfig_client_certificates(text: str) -> Iterator[tuple[str, str]]:
    docs = read_documents(text)
    for doc in docs:
        data = doc.data
        users = data.get("users") if isinstance(data, dict) else None
        for entry in users if isinstance(users, list) else []:
            user = entry.get("user") if isinstance(entry, dict) else None
            value = user.get("client-certificate-data") if isinstance(user, dict) else None
            if value == "REDACTED":
                yield str(entry.get("name")), "REDACTED"
            elif isinstance(value, str) and value:
                try:
                    yield str(entry.get("name")), base64.b64decode(value, validate=True).decode("ascii", "replace")
                except (binascii.Error, ValueError):
                    yield str(entry.get("name")), ""


@check("node_certificate_expiry")
def node_certificate_expiry(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Certificates of the control plane that are expired or expire within ``--cert-expiry-days``."""
    now = ctx.options.now or datetime.datetime.now(datetime.timezone.utc)
    window = datetime.timedelta(days=ctx.options.cert_expiry_days)
    first = ctx.hops[0].minor
    for node, path, cert, problem, what in _node_certificates(ctx):
        where = Location(file=path, node=node)
        if cert is None:
            yield Candidate(None, f"{node}:{path}: the {what} cannot be read ({problem}); its expiry was not checked", where)
            continue
        expired = cert.not_after_time <= now
        if not expired and cert.not_after_time > now + window:
            continue
        subject = f"{what} {cert.subject or '(no subject)'}"
        when = f"expired on {cert.not_after}" if expired else f"expires on {cert.not_after}, within {ctx.options.cert_expiry_days} days"
        if cert.is_ca:
            yield Candidate(
                first,
                f"the CA {subject} ({node}:{path}) {when}; kubeadm never renews a CA, and every certificate it signed stops being trusted with it",
                where,
                remediation="Plan a CA rotation before the upgrade (https://kubernetes.io/docs/tasks/tls/manual-rotation-of-ca-certificates/); renewing leaf certificates does not help.",
            )
        elif path == KUBELET_KUBECONFIG:
            yield Candidate(
                first,
                f"the kubelet's {subject} ({node}:{path}) {when}; kubeadm does not renew it: the kubelet rotates it when rotateCertificates is on",
                where,
                severity=None if expired else Severity.WARNING,
                remediation="Make sure the kubelet rotates its client certificate (rotateCertificates: true, kubelet.conf pointing at /var/lib/kubelet/pki/kubelet-client-current.pem), or regenerate kubelet.conf, before the upgrade.",
            )
        else:
            yield Candidate(
                first,
                f"the {subject} ({node}:{path}) {when}"
                + ("; the component that uses it cannot authenticate now" if expired else "")
                + "; kubeadm upgrade apply/node renews it only when run without --certificate-renewal=false",
                where,
                severity=None if expired else Severity.WARNING,
                remediation="Renew it now with `kubeadm certs renew` (then restart the control-plane pods), and do not pass --certificate-renewal=false to kubeadm upgrade.",
            )
