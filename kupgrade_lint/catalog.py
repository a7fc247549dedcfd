"""The versioned knowledge: load ``rules/`` (and user catalog files), validate, answer questions.

Each fact lives in exactly one catalog entry; whether a hop crosses it is decided by
``versions.Hop.crosses`` alone.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

from kupgrade_lint.errors import CatalogError
from kupgrade_lint.parsers.yaml_documents import YamlError, load_data
from kupgrade_lint.versions import minor_key

BUILTIN_RULES_PACKAGE = "kupgrade_lint.builtin_rules"
BUILTIN_LABEL = "built-in"
# The built-in catalog as JSON, compiled from rules/*.yaml by kupgrade_lint.catalog_compile.
COMPILED_NAME = "builtin_catalog.json"
COMPILED_FORMAT = 1
SCHEMA_NAME = "schemas/catalog.schema.json"


def _schema_bytes() -> bytes:
    return resources.files("kupgrade_lint").joinpath(SCHEMA_NAME).read_bytes()


@functools.lru_cache(maxsize=1)
def _schema() -> dict:
    return json.loads(_schema_bytes())


def validate_document(data: Any, origin: str) -> None:
    """Raise CatalogError naming ``origin`` and the first place where ``data`` breaks the catalog schema."""
    import jsonschema  # lazy: the built-in catalog is validated when compiled, not at every start

    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        raise CatalogError(f"{origin}: {where}: {err.message}")


def _build(cls, data: dict, origin: str):
    names = {f.name for f in fields(cls)}
    values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in names}
    return cls(origin=origin, **values)


@dataclass(frozen=True)
class ImageDefaults:
    """kubeadm's default images from one patch of a minor on."""

    from_patch: int
    image_repository: str
    coredns_image: str
    coredns_tag: str
    etcd_tag: str
    pause_tag: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Release:
    """What the catalog knows of one minor release."""

    minor: str
    last_patch: str
    kubelet_skew: int
    kube_proxy_skew: int
    kubeadm_images: tuple[ImageDefaults, ...]
    sources: tuple[str, ...]
    origin: str
    kubeadm_min_kubelet_skew: int | None = None
    final_patch: bool = False  # last_patch is the minor's final release: it is end of life

    def images_at(self, patch: int) -> ImageDefaults:
        """The kubeadm image defaults in force at patch release ``patch`` of this minor."""
        chosen = self.kubeadm_images[0]
        for entry in self.kubeadm_images:
            if entry.from_patch <= patch:
                chosen = entry
        return chosen


@dataclass(frozen=True)
class RemovedApi:
    """A built-in API version (or file-only config API version) no longer served or accepted."""

    api_version: str
    kind: str
    read_by: str
    deprecated_in: str | None
    removed_in: str
    replacement: str | None
    sources: tuple[str, ...]
    origin: str
    replacement_available_in: str | None = None
    migration: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemovedFlag:
    """A command-line flag removed from a component (or restricted to ``allowed_values``)."""

    component: str
    flag: str
    removed_in: str
    sources: tuple[str, ...]
    origin: str
    deprecated_in: str | None = None
    allowed_values: tuple[str, ...] | None = None
    removed_entirely_in: str | None = None
    replacement: str | None = None


@dataclass(frozen=True)
class RemovedFeatureGate:
    """A feature gate the components no longer recognise from ``removed_in`` on."""

    gate: str
    component: str
    removed_in: str
    sources: tuple[str, ...]
    origin: str
    locked_to: bool | None = None

    @property
    def last_accepted_in(self) -> str:
        major, minor = minor_key(self.removed_in)
        return f"{major}.{minor - 1}"


@dataclass(frozen=True)
class RemovedAdmissionPlugin:
    """An admission plugin kube-apiserver no longer knows."""

    plugin: str
    removed_in: str
    sources: tuple[str, ...]
    origin: str
    deprecated_in: str | None = None
    replacement: str | None = None


@dataclass(frozen=True)
class KubeadmDefault:
    """One thing kubeadm itself renders for a component, and the kubeadm minors that render it.

    ``flag`` entries are command-line flags of a static pod (or, for ``kubelet``, of
    ``kubeadm-flags.env``); ``probe_port`` entries are the liveness probe's port and scheme.
    ``value`` may hold ``{placeholders}`` filled from the ClusterConfiguration (None: any
    value). ``rendered_until`` is the first minor whose kubeadm no longer renders it;
    ``backported_to`` lists patch releases that already render it before ``rendered_from``;
    in ``tolerated_in`` minors some patches render it and some do not.
    """

    component: str
    sources: tuple[str, ...]
    origin: str
    flag: str | None = None
    value: str | None = None
    probe_port: str | None = None
    probe_scheme: str | None = None
    rendered_from: str = "1.14"
    rendered_until: str | None = None
    backported_to: tuple[str, ...] = ()
    tolerated_in: tuple[str, ...] = ()
    when: str | None = None
    optional: bool = False
    effect: str | None = None
    binary_default: str | None = None
    upgrade_removes: bool = False

    @property
    def key(self) -> tuple[str, str, str, str | None]:
        what = f"flag:{self.flag}" if self.flag else "probe"
        return (self.component, what, self.rendered_from, self.when)


@dataclass(frozen=True)
class RemovedConfigSetting:
    """A component configuration field, or one value of it, that a release stops accepting.

    ``effect`` says what the component does then: ``ignored`` (it starts and the setting is
    silently dropped), ``no_effect`` (the field is still accepted and does nothing) or
    ``rejected`` (it does not start).
    """

    kind: str
    field: str
    read_by: str
    removed_in: str
    effect: str
    sources: tuple[str, ...]
    origin: str
    api_versions: tuple[str, ...] = ()
    value: str | None = None
    old_defaults: tuple[str, ...] = ()
    replacement: str | None = None


@dataclass(frozen=True)
class InTreeVolumePlugin:
    """An in-tree volume plugin: removed without a successor, or migrated to a CSI driver."""

    volume_source: str
    plugin: str
    sources: tuple[str, ...]
    origin: str
    removed_in: str | None = None
    disabled_by_gate: str | None = None
    csi_driver: str | None = None
    migration_on_by_default_in: str | None = None
    migration_ga_in: str | None = None
    replacement: str | None = None


@dataclass(frozen=True)
class InTreeCloudProvider:
    """A built-in cloud provider that kubelet and kube-controller-manager stop accepting."""

    provider: str
    removed_in: str
    sources: tuple[str, ...]
    origin: str
    disabled_by_default_in: str | None = None
    replacement: str | None = None


@dataclass(frozen=True)
class CorefileChange:
    """A Corefile plugin (or an option of one) that a CoreDNS release removes or starts to ignore."""

    coredns_version: str
    plugin: str
    status: str
    effect: str
    replacement: str
    sources: tuple[str, ...]
    origin: str
    option: str | None = None
    migration: str | None = None


@dataclass(frozen=True)
class RemovedMetric:
    """A metric name a component stops exporting: at a Kubernetes minor, or with a CoreDNS release."""

    metric: str
    component: str
    sources: tuple[str, ...]
    origin: str
    removed_in: str | None = None
    coredns_version: str | None = None
    replacement: str | None = None


def coredns_version_key(version: str) -> tuple[int, ...]:
    """Sort key of a CoreDNS version such as ``v1.8.0`` or ``1.7.0``."""
    return tuple(int(part) for part in version.lstrip("v").split("."))


@dataclass(frozen=True)
class Rule:
    """A rule: metadata plus the check that implements it and its parameters."""

    id: str
    name: str
    category: str
    severity: str
    check: str
    summary: str
    remediation: str
    sources: tuple[str, ...]
    origin: str
    breaks_in: str | None = None
    until: str | None = None
    backported_to: tuple[str, ...] = ()
    params: dict = field(default_factory=dict)

    @property
    def help_uri(self) -> str:
        return self.sources[0]


_KINDS: dict[str, tuple[type, Any]] = {
    "releases": (Release, lambda e: e.minor),
    "apis": (RemovedApi, lambda e: (e.api_version, e.kind)),
    "flags": (RemovedFlag, lambda e: (e.component, e.flag)),
    "feature_gates": (RemovedFeatureGate, lambda e: (e.component, e.gate)),
    "admission_plugins": (RemovedAdmissionPlugin, lambda e: e.plugin),
    "rules": (Rule, lambda e: e.id),
    "kubeadm": (KubeadmDefault, lambda e: e.key),
    "config_fields": (RemovedConfigSetting, lambda e: (e.kind, e.field, e.value or "")),
    "volume_plugins": (InTreeVolumePlugin, lambda e: e.volume_source),
    "cloud_providers": (InTreeCloudProvider, lambda e: e.provider),
    "coredns_corefile": (CorefileChange, lambda e: (e.coredns_version, e.plugin, e.option or "")),
    "removed_metrics": (RemovedMetric, lambda e: e.metric),
}


class Catalog:
    """All catalog entries, indexed for the checks."""

    def __init__(self) -> None:
        self.releases: dict[str, Release] = {}
        self.apis: dict[tuple[str, str], RemovedApi] = {}
        self.flags: dict[tuple[str, str], RemovedFlag] = {}
        self.feature_gates: dict[tuple[str, str], RemovedFeatureGate] = {}
        self.admission_plugins: dict[str, RemovedAdmissionPlugin] = {}
        self.rules: dict[str, Rule] = {}
        self.kubeadm: dict[tuple, KubeadmDefault] = {}
        self.config_fields: dict[tuple[str, str, str], RemovedConfigSetting] = {}
        self.volume_plugins: dict[str, InTreeVolumePlugin] = {}
        self.cloud_providers: dict[str, InTreeCloudProvider] = {}
        self.coredns_corefile: dict[tuple[str, str, str], CorefileChange] = {}
        self.removed_metrics: dict[str, RemovedMetric] = {}
        self.files: list[str] = []

    # -- loading -----------------------------------------------------------------------------
    def add_document(self, data: Any, origin: str, validated: bool = False) -> None:
        """Validate one catalog file's content and add its entries; duplicates are refused.

        ``validated``: ``data`` already passed the schema (the compiled built-in catalog, whose
        key proves it was compiled from these very files under this very schema).
        """
        if not validated:
            validate_document(data, origin)
        (kind, entries), = data.items()
        cls, key_of = _KINDS[kind]
        index = self._index(kind)
        for raw in entries:
            if kind == "releases":
                raw = dict(raw)
                raw["kubeadm_images"] = tuple(
                    ImageDefaults(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in item.items()})
                    for item in sorted(raw["kubeadm_images"], key=lambda i: i["from_patch"])
                )
            entry = _build(cls, raw, origin)
            key = key_of(entry)
            if key in index:
                raise CatalogError(
                    f"{origin}: {kind} entry {_show(key)} is already defined in {index[key].origin}; "
                    "a catalog entry cannot be overridden"
                )
            _check_order(entry, origin)
            index[key] = entry
        self.files.append(origin)

    def _index(self, kind: str) -> dict:
        return {
            "releases": self.releases,
            "apis": self.apis,
            "flags": self.flags,
            "feature_gates": self.feature_gates,
            "admission_plugins": self.admission_plugins,
            "rules": self.rules,
            "kubeadm": self.kubeadm,
            "config_fields": self.config_fields,
            "volume_plugins": self.volume_plugins,
            "cloud_providers": self.cloud_providers,
            "coredns_corefile": self.coredns_corefile,
            "removed_metrics": self.removed_metrics,
        }[kind]

    def finish(self) -> "Catalog":
        """Cross-entry integrity checks, run once everything is loaded."""
        names: dict[str, str] = {}
        for rule in self.rules.values():
            if rule.name in names:
                raise CatalogError(f"{rule.origin}: rule name '{rule.name}' is used by {names[rule.name]} too")
            names[rule.name] = rule.id
        return self

    # -- questions ---------------------------------------------------------------------------
    def last_patch(self, minor: str) -> str | None:
        release = self.releases.get(minor)
        return release.last_patch if release else None

    def final_patch(self, minor: str) -> bool:
        """True when the catalog's last patch of ``minor`` is its final release (no newer patch exists)."""
        release = self.releases.get(minor)
        return bool(release and release.final_patch)

    def known_minors(self) -> list[str]:
        return sorted(self.releases, key=minor_key)

    def rule_by_check(self, check: str) -> list[Rule]:
        return [r for r in self.rules.values() if r.check == check]

    def coredns_arrival(self, version: str) -> tuple[str, tuple[str, ...]] | None:
        """Where kubeadm first deploys CoreDNS ``version`` or newer: (minor, earlier patches that have it).

        The minor is the first whose .0 release deploys it; patches of earlier minors that already
        deploy it (kubeadm bumps CoreDNS in patch releases too) are returned as backports, in the
        form ``Hop.crosses`` takes. None when no release in the catalog deploys it.
        """
        wanted = coredns_version_key(version)
        backports: list[str] = []
        for minor in self.known_minors():
            release = self.releases[minor]
            if coredns_version_key(release.images_at(0).coredns_tag) >= wanted:
                return minor, tuple(backports)
            for entry in release.kubeadm_images:
                if coredns_version_key(entry.coredns_tag) >= wanted:
                    backports.append(f"{minor}.{entry.from_patch}")
                    break
        return None


def _show(key: Any) -> str:
    return "/".join(key) if isinstance(key, tuple) else str(key)


def _check_order(entry: Any, origin: str) -> None:
    """deprecated ≤ removed and replacement available ≤ removed: a data error otherwise."""
    if isinstance(entry, KubeadmDefault) and entry.rendered_until is not None and minor_key(entry.rendered_until) <= minor_key(entry.rendered_from):
        raise CatalogError(f"{origin}: kubeadm {entry.component} {entry.flag or 'probe'}: rendered_until {entry.rendered_until} is not after rendered_from {entry.rendered_from}")
    """deprecated ≤ removed, replacement available ≤ removed, on by default ≤ locked: a data error otherwise."""
    for earlier, later in (("migration_on_by_default_in", "migration_ga_in"), ("disabled_by_default_in", "removed_in")):
        first, then = getattr(entry, earlier, None), getattr(entry, later, None)
        if first is not None and then is not None and minor_key(first) > minor_key(then):
            raise CatalogError(f"{origin}: {_show(_key_for(entry))}: {earlier} {first} is after {later} {then}")
    removed = getattr(entry, "removed_in", None)
    if removed is None:
        return
    for attr in ("deprecated_in", "replacement_available_in"):
        value = getattr(entry, attr, None)
        if value is not None and minor_key(value) > minor_key(removed):
            raise CatalogError(f"{origin}: {_show(_key_for(entry))}: {attr} {value} is after removed_in {removed}")
    entirely = getattr(entry, "removed_entirely_in", None)
    if entirely is not None and (getattr(entry, "allowed_values", None) is None or minor_key(entirely) <= minor_key(removed)):
        raise CatalogError(f"{origin}: {_show(_key_for(entry))}: removed_entirely_in needs allowed_values and a later minor than removed_in")


def _key_for(entry: Any) -> Any:
    for kind, (cls, key_of) in _KINDS.items():
        if isinstance(entry, cls):
            return key_of(entry)
    return "?"


def _read_builtin(content: bytes, origin: str) -> Any:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise CatalogError(f"{origin}: the catalog file is not UTF-8 text") from None
    return _read_yaml(text, origin)


def _read_yaml(text: str, origin: str) -> Any:
    # The objects' loader, with its limits (aliases, depth, size): a user catalog may come from anywhere.
    try:
        return load_data(text)
    except YamlError as exc:
        where = f":{exc.line}" if exc.line else ""
        raise CatalogError(f"{origin}{where}: {exc.message}") from None


def builtin_rule_files() -> list[tuple[str, bytes]]:
    """(name, bytes) of every built-in catalog file, sorted by name; anything else in rules/ is refused."""
    found = []
    root = resources.files(BUILTIN_RULES_PACKAGE)
    for item in sorted(root.iterdir(), key=lambda p: p.name):
        if item.name in ("__init__.py", "__pycache__") or item.name.startswith("."):
            continue
        if not item.name.endswith(".yaml"):
            raise CatalogError(f"{BUILTIN_LABEL}:rules/{item.name}: unexpected file in rules/ (only .yaml catalog files belong there)")
        found.append((item.name, item.read_bytes()))
    return found


def compiled_key(name: str, content: bytes, schema_digest: bytes | None = None) -> str:
    """What a compiled document is valid for: the catalog file's bytes, the schema's bytes, the format."""
    digest = hashlib.sha256()
    digest.update(hashlib.sha256(str(COMPILED_FORMAT).encode()).digest())
    digest.update(hashlib.sha256(name.encode("utf-8")).digest())
    digest.update(hashlib.sha256(content).digest())
    digest.update(schema_digest if schema_digest is not None else hashlib.sha256(_schema_bytes()).digest())
    return digest.hexdigest()


def _compiled_documents() -> dict[str, dict]:
    """The compiled built-in documents by key; empty when the compiled file is absent or unreadable."""
    try:
        text = resources.files("kupgrade_lint").joinpath(COMPILED_NAME).read_bytes()
        compiled = json.loads(text)
        return {doc["key"]: doc["data"] for doc in compiled["documents"]} if compiled.get("format") == COMPILED_FORMAT else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def load_catalog(extra_files: Iterable[Path] = ()) -> Catalog:
    """Load the built-in catalog from the installed package, then the user's extra catalog files.

    A built-in file whose key (its bytes and the schema's) matches a compiled document is taken
    from the compiled JSON, already validated when it was compiled; any other is parsed and
    validated here, so a stale or missing compiled file costs time, never correctness.
    """
    catalog = Catalog()
    compiled = _compiled_documents()
    schema_digest = hashlib.sha256(_schema_bytes()).digest() if compiled else None
    for name, content in builtin_rule_files():
        origin = f"{BUILTIN_LABEL}:rules/{name}"
        data = compiled.get(compiled_key(name, content, schema_digest)) if compiled else None
        if data is not None:
            catalog.add_document(data, origin, validated=True)
        else:
            catalog.add_document(_read_builtin(content, origin), origin)
    for path in extra_files:
        try:
            text = Path(path).read_bytes().decode("utf-8")
        except OSError as exc:
            raise CatalogError(f"{path}: cannot read catalog file: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise CatalogError(f"{path}: the catalog file is not UTF-8 text") from None
        catalog.add_document(_read_yaml(text, str(path)), str(path))
    return catalog.finish()
