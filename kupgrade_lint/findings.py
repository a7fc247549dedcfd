"""Findings and the report: immutable values with an explicit, total order.

The same input gives the same report byte for byte, because every collection here is sorted by
an explicit key and nothing is mutated after it is built.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum

from kupgrade_lint.urls import strip_userinfo
from kupgrade_lint.versions import minor_key


class Severity(str, Enum):
    """How bad a finding is. ``error``: something stops working; ``warning``: a risk; ``info``: to know."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]

    def at_least(self, other: "Severity") -> bool:
        """True when this severity is as bad as ``other`` or worse."""
        return self.rank <= other.rank


CATEGORIES = (
    "removed-api",
    "removed-flag",
    "removed-feature-gate",
    "certificate",
    "missing-image",
    "coredns",
    "monitoring",
    "workload",
    "control-plane-config",
    "version-skew",
    "collection",
    "component-config",
    "storage",
)


def fingerprint_of(rule_id: str, hop: str | None, node: str | None, file: str | None, kind: str | None,
                   namespace: str | None, name: str | None, field: str | None, message: str) -> str:
    """The one definition of a finding's fingerprint (also used on findings read back from a JSON report)."""
    parts = [rule_id, hop or "", node or "", file or "", kind or "", namespace or "", name or "", field or "", message]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class Location:
    """Where a finding points: a file line (optionally on a node) and/or a cluster object.

    ``file`` is relative to the scanned input (for node files it is the absolute path on the node,
    with ``node`` set); ``field`` is the path inside the object, e.g. ``spec.template.spec``.
    ``column`` (1-based, in characters) is where the key of ``field`` starts on ``line``, when known.
    """

    file: str | None = None
    line: int | None = None
    node: str | None = None
    api_version: str | None = None
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None
    field: str | None = None
    column: int | None = None

    def __post_init__(self) -> None:
        _strip_userinfo_fields(self, ("file", "node", "namespace", "name", "field"))

    def sort_key(self) -> tuple:
        return (
            self.node or "",
            self.file or "",
            self.line or 0,
            self.column or 0,
            self.kind or "",
            self.namespace or "",
            self.name or "",
            self.api_version or "",
            self.field or "",
        )

    def describe(self) -> str:
        """One human-readable line: ``master-1:/etc/kubernetes/kubelet.env:12`` or ``Deployment shop/web``."""
        parts = []
        if self.file:
            where = f"{self.node}:{self.file}" if self.node else self.file
            parts.append(f"{where}:{self.line}" if self.line else where)
        if self.kind:
            obj = f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"
            if self.field:
                obj += f" ({self.field})"
            parts.append(obj if not parts else f"[{obj}]")
        return " ".join(parts) if parts else "(cluster)"


@dataclass(frozen=True)
class Finding:
    """One thing that will break (or could not be checked), at one hop, at one place."""

    rule_id: str
    rule_name: str
    category: str
    severity: Severity
    hop: str | None
    message: str
    remediation: str
    location: Location
    references: tuple[str, ...] = ()
    evidence: str | None = None
    confidence: str | None = None
    suppressed_by: str | None = None

    def __post_init__(self) -> None:
        # The one place every reported text passes: no check can echo a URL's password.
        _strip_userinfo_fields(self, ("message", "remediation", "evidence"))
        object.__setattr__(self, "references", tuple(strip_userinfo(r) for r in self.references))

    @property
    def fingerprint(self) -> str:
        """A stable id that survives line moves: rule, hop, place and message (for baselines, SARIF and report diffs)."""
        loc = self.location
        return fingerprint_of(self.rule_id, self.hop, loc.node, loc.file, loc.kind, loc.namespace, loc.name, loc.field, self.message)

    def sort_key(self) -> tuple:
        hop_key = minor_key(self.hop) if self.hop else (0, 0)
        return (hop_key, self.severity.rank, self.rule_id, self.location.sort_key(), self.message)


def _strip_userinfo_fields(value: object, names: tuple[str, ...]) -> None:
    """Remove URL userinfo from text fields of a frozen dataclass while it is being built."""
    for name in names:
        text = getattr(value, name)
        if isinstance(text, str):
            clean = strip_userinfo(text)
            if clean is not text:
                object.__setattr__(value, name, clean)


@dataclass(frozen=True)
class RuleInfo:
    """The metadata of a rule, as reporters need it."""

    id: str
    name: str
    category: str
    severity: Severity
    summary: str
    remediation: str
    help_uri: str
    breaks_in: str | None = None


@dataclass(frozen=True)
class HopReport:
    """One hop of the path and the images it needs."""

    source: str
    dest: str
    minor: str
    images: tuple[str, ...] = ()


# -- coverage: what the scan read and what it did not ---------------------------------------


@dataclass(frozen=True)
class ResourceCoverage:
    """What became of one kind of cluster object: listed (with how many), or not and why.

    ``status``: listed, partial, forbidden, not-served, not-listable, error (from the
    collection record), or present (a snapshot without a record: what its files hold).
    """

    kind: str
    status: str
    group: str | None = None
    version: str | None = None
    resource: str | None = None
    objects: int | None = None
    detail: str | None = None

    def sort_key(self) -> tuple:
        return (self.kind, self.group or "", self.version or "", self.status)


@dataclass(frozen=True)
class Coverage:
    """What the scan covered, for every report format.

    ``cluster``: ``collected`` (a collection record in kupgrade-snapshot.json), ``assembled``
    (cluster objects without a record), ``none`` (no cluster objects: manifests only).
    ``not_checked``: sentences naming what was NOT checked and how to add it, said near the top.
    """

    cluster: str
    resources: tuple[ResourceCoverage, ...] = ()
    nodes: tuple[str, ...] = ()
    registry: tuple[str, ...] = ()
    tls_endpoints: tuple[str, ...] = ()
    audit_logs: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    manifests: tuple[str, ...] = ()
    not_checked: tuple[str, ...] = ()


@dataclass(frozen=True)
class HopSelection:
    """``scan --only-hop``/``--next-hop``: the report covers one hop of a path planned whole."""

    minor: str
    path_current: str
    path_target: str
    path_minors: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    """The finished result of a scan; reporters only render it."""

    tool_version: str
    current_version: str
    target_version: str
    hops: tuple[HopReport, ...]
    findings: tuple[Finding, ...]
    rules: tuple[RuleInfo, ...]
    inputs: tuple[str, ...] = field(default=())
    unused_suppressions: tuple[str, ...] = field(default=())
    coverage: Coverage | None = None
    # The --snapshot path as given (a directory or .tar.gz), when one was read: snapshot files are relative to it.
    snapshot: str | None = None
    selection: HopSelection | None = None
    # "last": the kubelets are upgraded once, after the control plane reaches the target; "each-hop".
    kubelet_strategy: str = "last"

    @property
    def active_findings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.suppressed_by is None)


def summary_counts(report: Report) -> dict[str, int]:
    """Active findings by severity, suppressed ones, and inputs that could not be checked (hop None)."""
    counts = {"error": 0, "warning": 0, "info": 0, "suppressed": 0, "not_checked": 0}
    for f in report.findings:
        if f.suppressed_by:
            counts["suppressed"] += 1
            continue
        counts[f.severity.value] += 1
        if f.hop is None:
            counts["not_checked"] += 1
    return counts
