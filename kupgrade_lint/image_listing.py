"""The images of every hop for people (text), machines (JSON) and the mirror step (a shell script).

Operators of air-gapped clusters copy every image of every hop into the private registry before
they start (the upgrade log behind the bundled example does it with ``skopeo copy --multi-arch
all``); ``--mirror-script`` prints exactly those commands, each image once, at the first hop
that needs it.
"""

from __future__ import annotations

import json
import shlex

from kupgrade_lint.images import UPSTREAM_REPOSITORY, ImageRef
from kupgrade_lint.versions import Hop

MIRROR_TOOLS = {
    # https://github.com/containers/skopeo/blob/main/docs/skopeo-copy.1.md (--multi-arch all keeps every platform)
    "skopeo": lambda src, dst: f"skopeo copy --multi-arch all docker://{shlex.quote(src)} docker://{shlex.quote(dst)}",
    # https://github.com/google/go-containerregistry/blob/main/cmd/crane/doc/crane_copy.md (copies the whole index)
    "crane": lambda src, dst: f"crane copy {shlex.quote(src)} {shlex.quote(dst)}",
}


def _upstream(image: ImageRef, source: str | None) -> str | None:
    if image.upstream is None:
        return None
    if source and image.upstream.startswith(UPSTREAM_REPOSITORY + "/"):
        return source.rstrip("/") + image.upstream[len(UPSTREAM_REPOSITORY):]
    return image.upstream


def render_images(path: list[tuple[Hop, list[ImageRef]]], fmt: str, *, source: str | None = None) -> str:
    """``fmt``: ``text`` (per hop), ``json``, or ``skopeo`` / ``crane`` (a mirror script)."""
    if fmt == "json":
        doc = {
            "format_version": 1,
            "current_version": str(path[0][0].source),
            "target_version": str(path[-1][0].dest),
            "hops": [
                {
                    "minor": hop.minor, "from": str(hop.source), "to": str(hop.dest),
                    "images": [{"image": str(i), "role": i.role, "upstream": _upstream(i, source)} for i in images],
                }
                for hop, images in path
            ],
        }
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"
    if fmt in MIRROR_TOOLS:
        return _script(path, MIRROR_TOOLS[fmt], source)
    lines = [f"images for the upgrade {path[0][0].source} → {path[-1][0].dest} ({len(path)} hop(s))"]
    for hop, images in path:
        lines.append(f"hop to {hop.minor} ({hop.source} → {hop.dest}):")
        lines.extend(f"  {image}  ({image.role})" for image in images)
    return "\n".join(lines) + "\n"


def _script(path: list[tuple[Hop, list[ImageRef]]], command, source: str | None) -> str:
    lines = [
        "#!/bin/sh",
        f"# Copy every image of the upgrade {path[0][0].source} -> {path[-1][0].dest} into the cluster's registry,",
        "# each once, before the first hop that needs it (printed by kupgrade-lint images --mirror-script).",
        "set -eu",
    ]
    seen: set[str] = set()
    for hop, images in path:
        todo = [i for i in images if str(i) not in seen]
        if not todo:
            continue
        lines.append(f"# hop to {hop.minor} ({hop.dest})")
        for image in todo:
            seen.add(str(image))
            src = _upstream(image, source)
            if src is None or src == str(image):
                lines.append(f"# {image} ({image.role}): configured on the nodes, not a kubeadm image; make sure the registry holds it")
            else:
                lines.append(command(src, str(image)))
    return "\n".join(lines) + "\n"
