"""The images each hop needs: the control plane of the hop's version and kubeadm's CoreDNS, etcd and pause.

kubeadm pulls these from the cluster's ``imageRepository``, with ``dns.imageRepository`` /
``dns.imageTag`` and ``etcd.local.imageRepository`` / ``etcd.local.imageTag`` overriding it for
CoreDNS and etcd (cmd/kubeadm/app/images/images.go, GetDNSImage and GetEtcdImage;
https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-init/#custom-images). The pause
image the nodes are really configured with (the kubelet's ``--pod-infra-container-image``,
containerd's ``sandbox_image``, CRI-O's ``pause_image``) is needed from the first hop on.
"""

from __future__ import annotations

from dataclasses import dataclass

from kupgrade_lint.catalog import Catalog, ImageDefaults
from kupgrade_lint.cluster_facts import ClusterFacts
from kupgrade_lint.findings import Location
from kupgrade_lint.versions import Hop

CONTROL_PLANE_IMAGES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy")
# Where the upstream images are today: k8s.gcr.io was frozen in April 2023 and its images are
# served from registry.k8s.io (https://kubernetes.io/blog/2023/02/06/k8s-gcr-io-freeze-announcement/).
UPSTREAM_REPOSITORY = "registry.k8s.io"


@dataclass(frozen=True)
class ImageRef:
    """An image reference split into the name (``repo/path``) and the tag, with where it comes from upstream.

    ``tag`` is None for a reference by digest only; ``location`` is where a node configures it.
    """

    name: str
    tag: str | None
    role: str
    upstream: str | None = None
    location: Location | None = None
    digest: str | None = None

    def __str__(self) -> str:
        text = f"{self.name}:{self.tag}" if self.tag else self.name
        return f"{text}@{self.digest}" if self.digest else text

    @property
    def host(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def path(self) -> str:
        """The repository name the registry API uses (no host)."""
        return self.name.split("/", 1)[1] if "/" in self.name else self.name


def parse_image(reference: str, role: str, location: Location | None = None) -> ImageRef:
    """``host/path:tag`` or ``...@sha256:...`` split into an ImageRef (no defaulting of the host)."""
    name, _, digest = reference.partition("@")
    tag = None
    last = name.rpartition("/")[2]
    if ":" in last:
        name, _, tag = name.rpartition(":")
    return ImageRef(name, tag or None, role, None, location, digest or None)


def _is_default(repo: str | None, known_defaults: set[str]) -> bool:
    return not repo or repo in known_defaults


def hop_images(catalog: Catalog, facts: ClusterFacts, hop: Hop, *, first: bool = False) -> list[ImageRef]:
    """Every image the hop's control plane, add-ons and kubelets need, under the cluster's repositories.

    ``first``: also the pause images the nodes are configured with, needed from the first hop on.
    """
    release = catalog.releases[hop.minor]
    defaults: ImageDefaults = release.images_at(hop.dest.patch or 0)
    # A repository that was kubeadm's default (k8s.gcr.io) follows the default of the hop
    # (registry.k8s.io): kubeadm upgrade migrates it (kubernetes PR 109938).
    known_defaults = {d.image_repository for r in catalog.releases.values() for d in r.kubeadm_images}
    repo = defaults.image_repository if _is_default(facts.image_repository, known_defaults) else facts.image_repository
    assert repo is not None
    tag = f"v{hop.dest.major}.{hop.dest.minor}.{hop.dest.patch}"
    images = [ImageRef(f"{repo}/{name}", tag, name, f"{UPSTREAM_REPOSITORY}/{name}:{tag}") for name in CONTROL_PLANE_IMAGES]
    # With a custom (dns.)imageRepository kubeadm keeps CoreDNS directly under it (no coredns/
    # sub-path); see the comment on coredns_image in rules/releases.yaml.
    dns_repo = facts.dns_image_repository or repo
    dns_default = _is_default(facts.dns_image_repository or facts.image_repository, known_defaults)
    dns_repo = defaults.image_repository if dns_default else dns_repo
    coredns_path = defaults.coredns_image if dns_default else "coredns"
    coredns_tag = facts.dns_image_tag or defaults.coredns_tag
    images.append(ImageRef(f"{dns_repo}/{coredns_path}", coredns_tag, "coredns", f"{UPSTREAM_REPOSITORY}/{defaults.coredns_image}:{coredns_tag}"))
    if not facts.etcd_external:
        etcd_default = _is_default(facts.etcd_image_repository or facts.image_repository, known_defaults)
        etcd_repo = defaults.image_repository if etcd_default else (facts.etcd_image_repository or repo)
        etcd_tag = facts.etcd_image_tag or defaults.etcd_tag
        images.append(ImageRef(f"{etcd_repo}/etcd", etcd_tag, "etcd", f"{UPSTREAM_REPOSITORY}/etcd:{etcd_tag}"))
    images.append(ImageRef(f"{repo}/pause", defaults.pause_tag, "pause", f"{UPSTREAM_REPOSITORY}/pause:{defaults.pause_tag}"))
    if first:
        seen = {str(i) for i in images}
        for sandbox in facts.sandbox_images:
            ref = parse_image(sandbox.image, f"pause ({sandbox.place} on {sandbox.location.node})", sandbox.location)
            if str(ref) not in seen:
                seen.add(str(ref))
                images.append(ref)
    return images


def path_images(catalog: Catalog, facts: ClusterFacts, hops: tuple[Hop, ...]) -> list[tuple[Hop, list[ImageRef]]]:
    """The images each hop of a path needs; the first hop also the pause images the nodes are configured with."""
    return [(hop, hop_images(catalog, facts, hop, first=index == 0)) for index, hop in enumerate(hops)]
