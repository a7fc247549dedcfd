"""The catalog of removed config fields and values, in-tree volume plugins and cloud providers."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kupgrade_lint.catalog import load_catalog
from kupgrade_lint.errors import CatalogError
from kupgrade_lint.versions import minor_key

CATALOG = load_catalog()
ENTRIES = list(CATALOG.config_fields.values()) + list(CATALOG.volume_plugins.values()) + list(CATALOG.cloud_providers.values())

# The feature gate that turned each migration on; its removal (rules/feature_gates.yaml) comes
# after migration is locked on.
MIGRATION_GATES = {
    "awsElasticBlockStore": "CSIMigrationAWS",
    "gcePersistentDisk": "CSIMigrationGCE",
    "azureDisk": "CSIMigrationAzureDisk",
    "azureFile": "CSIMigrationAzureFile",
    "cinder": "CSIMigrationOpenStack",
    "vsphereVolume": "CSIMigrationvSphere",
}


def test_every_entry_cites_upstream_sources():
    assert ENTRIES
    for entry in ENTRIES:
        assert entry.sources and all(s.startswith("https://") for s in entry.sources), entry


def test_the_facts_the_rule_cases_rely_on():
    assert CATALOG.volume_plugins["glusterfs"].removed_in == "1.26"
    assert CATALOG.volume_plugins["glusterfs"].csi_driver is None
    ebs = CATALOG.volume_plugins["awsElasticBlockStore"]
    assert (ebs.plugin, ebs.csi_driver, ebs.migration_on_by_default_in, ebs.migration_ga_in) == ("kubernetes.io/aws-ebs", "ebs.csi.aws.com", "1.23", "1.25")
    assert CATALOG.cloud_providers["aws"].removed_in == "1.27"
    assert CATALOG.config_fields[("KubeletConfiguration", "memorySwap.swapBehavior", "UnlimitedSwap")].effect == "rejected"


def test_volume_plugins_are_either_removed_or_migrated():
    for plugin in CATALOG.volume_plugins.values():
        assert (plugin.removed_in is None) == (plugin.csi_driver is not None), plugin.volume_source
        assert plugin.plugin.startswith("kubernetes.io/")
    assert len({p.plugin for p in CATALOG.volume_plugins.values()}) == len(CATALOG.volume_plugins)


def test_migration_gates_go_only_after_migration_is_locked_on():
    for source, gate in MIGRATION_GATES.items():
        plugin = CATALOG.volume_plugins[source]
        removed = CATALOG.feature_gates[("kubernetes", gate)]
        assert removed.locked_to is True
        assert minor_key(plugin.migration_ga_in) < minor_key(removed.removed_in), (source, gate)


def _load(tmp_path: Path, data: dict):
    path = tmp_path / "extra.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_catalog([path])


@pytest.mark.parametrize(
    "data, message",
    [
        ({"volume_plugins": [{"volume_source": "fooDisk", "plugin": "kubernetes.io/foo", "sources": ["https://a"]}]}, "is not valid under any of the given schemas"),
        (
            {"volume_plugins": [{"volume_source": "fooDisk", "plugin": "kubernetes.io/foo", "csi_driver": "foo.csi", "migration_on_by_default_in": "1.30",
                                 "migration_ga_in": "1.28", "sources": ["https://a"]}]},
            "migration_on_by_default_in 1.30 is after migration_ga_in 1.28",
        ),
        ({"cloud_providers": [{"provider": "foo", "disabled_by_default_in": "1.31", "removed_in": "1.29", "sources": ["https://a"]}]}, "is after removed_in"),
        ({"config_fields": [{"kind": "KubeletConfiguration", "field": "x", "read_by": "kubelet", "removed_in": "1.30", "effect": "maybe",
                             "sources": ["https://a"]}]}, "'maybe' is not one of"),
    ],
)
def test_invalid_entries_are_refused(tmp_path: Path, data, message):
    with pytest.raises(CatalogError, match=message):
        _load(tmp_path, data)


def test_a_user_catalog_can_add_a_volume_plugin(tmp_path: Path):
    catalog = _load(tmp_path, {"volume_plugins": [{"volume_source": "fooDisk", "plugin": "kubernetes.io/foo", "removed_in": "1.40", "sources": ["https://a"]}]})
    assert catalog.volume_plugins["fooDisk"].origin.endswith("extra.yaml")


def test_the_seed_beyond_its_target_loses_only_old_defaults():
    """The seed's kube-proxy, kubeadm and kubelet configs carry fields removed (or without effect)
    after v1.21, and a null one removed in 1.15: scanned on to 1.34 they are reported as info (old
    defaults), never earlier."""
    from kupgrade_lint.engine import ScanRequest, scan
    from kupgrade_lint.snapshot.loader import load_inputs
    from kupgrade_lint.versions import KubeVersion
    from tests.conftest import SEED

    new_rules = {"KUP015", "KUP016", "KUP017", "KUP062", "KUP063"}
    snapshot = load_inputs(SEED, [])
    report = scan(snapshot, CATALOG, ScanRequest(target=KubeVersion.parse("1.34")))
    found = sorted((f.hop, f.rule_id, f.severity.value, f.location.file, f.location.line) for f in report.findings if f.rule_id in new_rules)
    kubelet_config = "cluster/kube-system/configmaps/kubelet-config-1.14.yaml"
    assert found == [
        ("1.22", "KUP015", "info", "cluster/kube-system/configmaps/kubeadm-config.yaml", 44),
        ("1.22", "KUP015", "info", "cluster/kube-system/configmaps/kubeadm-config.yaml", 63),
        ("1.26", "KUP015", "info", "cluster/kube-system/configmaps/kube-proxy.yaml", 41),
        ("1.28", "KUP015", "info", "/var/lib/kubelet/config.yaml", 52),
        ("1.28", "KUP015", "info", "/var/lib/kubelet/config.yaml", 53),
        ("1.28", "KUP015", "info", kubelet_config, 55),
        ("1.28", "KUP015", "info", kubelet_config, 56),
        ("1.34", "KUP015", "info", "/var/lib/kubelet/config.yaml", 74),
        ("1.34", "KUP015", "info", kubelet_config, 77),
    ]
