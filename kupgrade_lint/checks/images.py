"""Images each hop needs that the cluster's registry does not hold, or holds without the nodes' platforms."""

from __future__ import annotations

from typing import Iterable, Iterator

from kupgrade_lint.catalog import Rule
from kupgrade_lint.checks import Candidate, CheckContext, check
from kupgrade_lint.findings import Location
from kupgrade_lint.images import ImageRef, path_images
from kupgrade_lint.versions import Hop


def _hop_images(ctx: CheckContext) -> Iterator[tuple[Hop, ImageRef]]:
    for hop, images in path_images(ctx.catalog, ctx.facts, ctx.hops):
        for image in images:
            yield hop, image


def _where(image: ImageRef, record: str) -> Location:
    if image.location is not None:
        return image.location
    return Location(file=f"registry/{image.name}/{record}")


@check("hop_images_in_registry")
def hop_images_in_registry(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """Compare each hop's images with what the registry answered (manifests.json) or listed (tags.json)."""
    snapshot = ctx.snapshot
    unchecked_hosts: set[str] = set()
    for hop, image in _hop_images(ctx):
        release = ctx.catalog.releases[hop.minor]
        if image.tag is None:
            continue  # pinned by digest: tags say nothing about it
        answer = snapshot.registry_manifests.get(image.name, {}).get(image.tag) if image.host in snapshot.registry_hosts else None
        if answer is not None:
            if answer.get("found") or "error" in answer:
                continue  # found, or not asked: the collection error says so
            state, record = f"answers 404 for the manifest {image.tag}", "manifests.json"
        else:
            if image.host not in snapshot.registry_hosts:
                unchecked_hosts.add(image.host)
                continue
            tags = snapshot.registry.get(image.name)
            if tags is not None and image.tag in tags:
                continue
            state, record = ("has no such repository" if tags is None else f"has no tag {image.tag}"), "tags.json"
        copy = f"skopeo copy --multi-arch all docker://{image.upstream} docker://{image}" if image.upstream else f"copy {image} into the registry"
        yield Candidate(
            hop.minor,
            f"{image} ({image.role}) is needed at the hop to {hop.dest} but the registry {state}",
            _where(image, record),
            remediation=f"Copy it before the hop ({copy}; `kupgrade-lint images --mirror-script` prints every command). {rule.remediation}",
            references=release.images_at(hop.dest.patch or 0).sources,
        )
    for host in sorted(unchecked_hosts):
        yield Candidate(
            None,
            f"the contents of registry {host} are not in the snapshot (registry/{host}/...); the images each hop needs (listed per hop) were not checked "
            "(scan --check-registry asks the registry, or collect registry records its tags)",
            Location(file=f"registry/{host}"),
        )


@check("hop_image_platforms")
def hop_image_platforms(ctx: CheckContext, rule: Rule) -> Iterable[Candidate]:
    """A found image whose manifest (index) lacks the os/architecture of some node."""
    needed = set(ctx.facts.platforms)
    if not needed:
        return
    for hop, image in _hop_images(ctx):
        if image.tag is None or image.host not in ctx.snapshot.registry_hosts:
            continue
        answer = ctx.snapshot.registry_manifests.get(image.name, {}).get(image.tag)
        if not answer or not answer.get("found") or not isinstance(answer.get("platforms"), list):
            continue
        missing = sorted(needed - {str(p) for p in answer["platforms"]})
        if not missing:
            continue
        yield Candidate(
            hop.minor,
            f"{image} ({image.role}) is in the registry for {', '.join(map(str, answer['platforms'])) or 'no platform'} only, "
            f"but nodes run {', '.join(missing)}; those nodes cannot pull it at the hop to {hop.dest}",
            _where(image, "manifests.json"),
            remediation=f"Copy every platform of the image (skopeo copy --multi-arch all docker://{image.upstream or image} docker://{image}). {rule.remediation}",
        )
