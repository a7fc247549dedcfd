"""The images each hop needs: the control plane of the hop's version and kubeadm's CoreDNS, etcd and pause.

kubeadm pulls these from the cluster's ``imageRepository``
(https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-init/#custom-images).
"""

from __future__ import annotations

from dataclasses import dataclass

from kupgrade_lint.catalog import Catalog, ImageDefaults
from kupgrade_lint.cluster_facts import ClusterFacts
from kupgrade_lint.versions import Hop

CONTROL_PLANE_IMAGES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy")


@dataclass(frozen=True)
class ImageRef:
    """An image reference split into the name (``repo/path``) and the tag."""

    name: str
    tag: str
    role: str

    def __str__(self) -> str:
        return f"{self.name}:{self.tag}"


def hop_images(catalog: Catalog, facts: ClusterFacts, hop: Hop) -> list[ImageRef]:
    """Every image the hop's control plane, add-ons and kubelets need, under the cluster's repository."""
    release = catalog.releases[hop.minor]
    defaults: ImageDefaults = release.images_at(hop.dest.patch or 0)
    # A repository that was kubeadm's default (k8s.gcr.io) follows the default of the hop
    # (registry.k8s.io): kubeadm upgrade migrates it (kubernetes PR 109938).
    known_defaults = {d.image_repository for r in catalog.releases.values() for d in r.kubeadm_images}
    custom = bool(facts.image_repository) and facts.image_repository not in known_defaults
    repo = facts.image_repository if custom else defaults.image_repository
    tag = f"v{hop.dest.major}.{hop.dest.minor}.{hop.dest.patch}"
    images = [ImageRef(f"{repo}/{name}", tag, name) for name in CONTROL_PLANE_IMAGES]
    # With a custom imageRepository kubeadm keeps CoreDNS directly under it (no coredns/ sub-path);
    # see the comment on coredns_image in rules/releases.yaml.
    coredns_path = "coredns" if custom else defaults.coredns_image
    images.append(ImageRef(f"{repo}/{coredns_path}", defaults.coredns_tag, "coredns"))
    if not facts.etcd_external:
        images.append(ImageRef(f"{repo}/etcd", defaults.etcd_tag, "etcd"))
    images.append(ImageRef(f"{repo}/pause", defaults.pause_tag, "pause"))
    return images
