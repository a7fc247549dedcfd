"""Kubernetes versions and the upgrade path between them.

kubeadm upgrades the control plane one minor at a time
(https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/), so the path from
v1.14.5 to v1.21.14 is one hop per minor, each through that minor's newest patch release.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from kupgrade_lint.errors import UsageError

_VERSION_RE = re.compile(r"^v?(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?(?P<rest>[-+].*)?$")


@dataclass(frozen=True, order=True)
class KubeVersion:
    """A Kubernetes release: ``1.21`` (a minor) or ``1.21.14`` (a patch release)."""

    major: int
    minor: int
    patch: int | None = None

    @classmethod
    def parse(cls, text: str) -> "KubeVersion":
        """Parse ``v1.21.14``, ``1.21.14``, ``1.21`` or ``v1.14.5-gke.1`` (build suffixes are dropped)."""
        match = _VERSION_RE.match(text.strip())
        if not match:
            raise UsageError(f"'{text}' is not a Kubernetes version (expected e.g. v1.21.14 or 1.21)")
        patch = match.group("patch")
        return cls(int(match.group("major")), int(match.group("minor")), int(patch) if patch is not None else None)

    @classmethod
    def from_minor_string(cls, minor: str) -> "KubeVersion":
        """``"1.16"`` → KubeVersion(1, 16)."""
        major, _, minor_part = minor.partition(".")
        return cls(int(major), int(minor_part))

    @property
    def minor_string(self) -> str:
        """``"1.16"``: the key the catalog and the report use for a minor."""
        return f"{self.major}.{self.minor}"

    @property
    def minor_key(self) -> tuple[int, int]:
        return (self.major, self.minor)

    def __str__(self) -> str:
        if self.patch is None:
            return f"v{self.major}.{self.minor}"
        return f"v{self.major}.{self.minor}.{self.patch}"


def minor_key(minor: str) -> tuple[int, int]:
    """Sort key of a minor string such as ``"1.16"``."""
    major, _, rest = minor.partition(".")
    return (int(major), int(rest))


@dataclass(frozen=True)
class Hop:
    """One ``kubeadm upgrade apply``: the control plane goes from ``source`` to ``dest``."""

    source: KubeVersion
    dest: KubeVersion

    @property
    def minor(self) -> str:
        """The minor this hop arrives at, e.g. ``"1.16"``: the key findings are grouped by."""
        return self.dest.minor_string

    def crosses(self, minor: str, backported_to: tuple[str, ...] = ()) -> bool:
        """True when this hop brings a change made in ``minor`` (or in a patch it was backported to).

        The one place that decides whether a hop crosses a version.
        """
        return includes_change(self.dest, minor, backported_to) and not includes_change(self.source, minor, backported_to)


def includes_change(version: KubeVersion, minor: str, backported_to: tuple[str, ...] = ()) -> bool:
    """True when release ``version`` has a change made in ``minor`` (or backported to a patch of its minor)."""
    if version.minor_key >= minor_key(minor):
        return True
    for patch in backported_to:
        fixed = KubeVersion.parse(patch)
        if fixed.minor_key == version.minor_key and (version.patch or 0) >= (fixed.patch or 0):
            return True
    return False


def upgrade_path(
    current: KubeVersion, target: KubeVersion, last_patch: Callable[[str], str | None], final: Callable[[str], bool] = lambda minor: False
) -> list[Hop]:
    """Plan the hops from ``current`` to ``target``, one minor per hop, through each minor's last patch.

    ``last_patch(minor)`` returns the newest patch release of a minor (from the catalog) or None when
    the catalog does not know the minor. A target given as a minor goes to that minor's last patch.

    ``current`` may be a minor (``1.20``: some patch of 1.20): every hop goes to the next minor's
    last patch whatever patch the cluster runs, so the path is the same; a change backported
    within that minor is taken as not yet there (as for its ``.0``), which reports it rather
    than hides it.

    ``final(minor)`` is True when the catalog's last patch of ``minor`` is that minor's final
    release (it is end of life): a patch above it does not exist and is an error. For a minor
    still supported, a newer patch than the catalog's is allowed (the engine says what it assumes).
    """
    if target.major != current.major:
        raise UsageError(f"cannot plan an upgrade from {current} to {target}: different major versions")

    def resolve(minor: int) -> KubeVersion:
        minor_str = f"{current.major}.{minor}"
        newest = last_patch(minor_str)
        if newest is None:
            raise UsageError(f"unknown Kubernetes release {minor_str}: the catalog has no data for it")
        return KubeVersion.parse(newest)

    if target.minor_key < current.minor_key:
        raise UsageError(f"target {target} is lower than the current version {current}")
    resolve(target.minor)  # an unknown target is an error before anything else
    for version in (current, target):
        newest = last_patch(version.minor_string)
        if newest is not None and version.patch is not None and final(version.minor_string) and version.patch > (KubeVersion.parse(newest).patch or 0):
            raise UsageError(f"{version} does not exist: {version.minor_string} is end of life and its final release is v{newest}")
    if target.minor_key == current.minor_key:
        if current.patch is None:
            raise UsageError(f"the current version {current} needs a patch release to upgrade within {current.minor_string} (e.g. {current}.0)")
        if target.patch is None or target.patch <= current.patch:
            raise UsageError(f"target {target} is not newer than the current version {current}")
        return [Hop(current, target)]

    hops: list[Hop] = []
    source = current
    for minor in range(current.minor + 1, target.minor + 1):
        dest = resolve(minor)
        if minor == target.minor and target.patch is not None:
            # A patch newer than the catalog's is allowed (the engine says what it assumes).
            dest = target
        hops.append(Hop(source, dest))
        source = dest
    return hops
