"""Images each hop needs that the cluster's registry does not hold."""

from __future__ import annotations

from typing import Iterable

from kupgrade_lint.catalog import Rule
from kupgrade_lint.checks import Candidate, CheckContext, check
from kupgrade_lint.findings import Location
from kupgrade_lint.images import hop_images


@check("hop_images_in_registry")
def hop_images_in_registry(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Compare each hop's images with the registry contents in the snapshot (registry/<name>/tags.json)."""
    snapshot = ctx.snapshot
    unchecked_hosts: set[str] = set()
    for hop in ctx.hops:
        release = ctx.catalog.releases[hop.minor]
        for image in hop_images(ctx.catalog, ctx.facts, hop):
            host = image.name.split("/", 1)[0]
            if host not in snapshot.registry_hosts:
                unchecked_hosts.add(host)
                continue
            tags = snapshot.registry.get(image.name)
            if tags is not None and image.tag in tags:
                continue
            state = "has no such repository" if tags is None else f"has no tag {image.tag}"
            yield Candidate(
                hop.minor,
                f"{image} ({image.role}) is needed at the hop to {hop.dest} but the registry {state}",
                Location(file=f"registry/{image.name}/tags.json"),
                remediation=f"Copy {image.role}:{image.tag} into {image.name} before the hop (e.g. with skopeo copy --multi-arch all). {rule.remediation}",
                references=release.images_at(hop.dest.patch or 0).sources,
            )
    for host in sorted(unchecked_hosts):
        yield Candidate(
            None,
            f"the contents of registry {host} are not in the snapshot (registry/{host}/...); the images each hop needs (listed per hop) were not checked",
            Location(file=f"registry/{host}"),
        )
