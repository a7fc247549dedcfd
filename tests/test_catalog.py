"""The catalog: integrity of every entry, sources, loading rules, and the generated docs."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from kupgrade_lint.catalog import load_catalog
from kupgrade_lint.catalog_listing import render_catalog
from kupgrade_lint.checks import load_checks
from kupgrade_lint.errors import CatalogError
from kupgrade_lint.versions import minor_key
from tests.conftest import ROOT

CATALOG = load_catalog()
ALL_ENTRIES = (
    list(CATALOG.apis.values()) + list(CATALOG.flags.values()) + list(CATALOG.feature_gates.values())
    + list(CATALOG.admission_plugins.values()) + list(CATALOG.releases.values()) + list(CATALOG.rules.values())
    + list(CATALOG.coredns_corefile.values()) + list(CATALOG.removed_metrics.values())
)


def test_every_entry_cites_upstream_sources():
    for entry in ALL_ENTRIES:
        assert entry.sources and all(s.startswith("https://") for s in entry.sources), entry


def test_versions_are_ordered():
    for entry in list(CATALOG.apis.values()) + list(CATALOG.flags.values()) + list(CATALOG.admission_plugins.values()):
        if entry.deprecated_in:
            assert minor_key(entry.deprecated_in) <= minor_key(entry.removed_in), entry
    for api in CATALOG.apis.values():
        if api.replacement_available_in:
            assert minor_key(api.replacement_available_in) <= minor_key(api.removed_in), api


def test_releases_are_contiguous_and_patches_belong_to_their_minor():
    minors = CATALOG.known_minors()
    assert minors[0] == "1.14" and minors[-1] == "1.37"
    assert [minor_key(m)[1] for m in minors] == list(range(14, 38))
    for release in CATALOG.releases.values():
        assert release.last_patch.startswith(release.minor + ".")
        assert [i.from_patch for i in release.kubeadm_images] == sorted({i.from_patch for i in release.kubeadm_images})
        assert release.kubeadm_images[0].from_patch == 0


def test_the_seed_facts():
    assert CATALOG.flags[("kubelet", "allow-privileged")].removed_in == "1.15"
    assert CATALOG.feature_gates[("kubernetes", "VolumeSubpathEnvExpansion")].removed_in == "1.19"
    assert CATALOG.flags[("kube-apiserver", "insecure-port")].allowed_values == ("0",)
    assert CATALOG.apis[("extensions/v1beta1", "Deployment")].removed_in == "1.16"
    assert CATALOG.apis[("extensions/v1beta1", "Ingress")].removed_in == "1.22"
    assert CATALOG.admission_plugins["PodSecurityPolicy"].removed_in == "1.25"
    assert CATALOG.releases["1.21"].images_at(14).pause_tag == "3.4.1"
    assert CATALOG.releases["1.16"].images_at(15).coredns_tag == "1.6.2"


def test_coredns_arrives_with_the_kubeadm_that_first_deploys_it():
    # kubeadm 1.19.0 is the first to deploy CoreDNS 1.7.0 (corefile-migration lists 1.19 and 1.20 for it).
    assert CATALOG.coredns_arrival("1.7.0") == ("1.19", ())
    assert CATALOG.coredns_arrival("1.5.0") == ("1.16", ())
    # kubeadm bumped CoreDNS to v1.11.3 in 1.30.5 and 1.31.1, while 1.31.0 still deployed v1.11.1.
    assert CATALOG.coredns_arrival("1.11.3") == ("1.32", ("1.30.5", "1.31.1"))
    assert CATALOG.coredns_arrival("99.0.0") is None
    every_coredns = {c.coredns_version for c in CATALOG.coredns_corefile.values()}
    every_coredns |= {m.coredns_version for m in CATALOG.removed_metrics.values() if m.coredns_version}
    assert all(CATALOG.coredns_arrival(v) is not None for v in every_coredns)


def test_every_rule_has_complete_metadata_and_a_check():
    checks = load_checks()
    ids = [r.id for r in CATALOG.rules.values()]
    assert len(ids) == len(set(ids))
    for rule in CATALOG.rules.values():
        assert rule.check in checks or rule.check == "input_problems", rule.id
        assert rule.summary.strip() and rule.remediation.strip() and rule.help_uri.startswith("https://")
    assert {r.category for r in CATALOG.rules.values()} <= {
        "removed-api", "removed-flag", "removed-feature-gate", "certificate", "missing-image", "coredns",
        "monitoring", "workload", "control-plane-config", "version-skew", "collection",
        "component-config", "storage",
    }


def _write(tmp_path: Path, name: str, data) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_user_catalog_adds_entries(tmp_path: Path):
    extra = _write(tmp_path, "cert-manager.yaml", {"apis": [{
        "api_version": "cert-manager.io/v1alpha2", "kind": "Certificate", "read_by": "kube-apiserver",
        "deprecated_in": None, "removed_in": "1.22", "replacement": "cert-manager.io/v1",
        "sources": ["https://cert-manager.io/docs/releases/upgrading/remove-deprecated-apis/"],
    }]})
    catalog = load_catalog([extra])
    assert catalog.apis[("cert-manager.io/v1alpha2", "Certificate")].origin == str(extra)


def test_user_catalog_cannot_override_a_built_in_entry(tmp_path: Path):
    extra = _write(tmp_path, "override.yaml", {"flags": [{
        "component": "kubelet", "flag": "allow-privileged", "removed_in": "1.30", "sources": ["https://example.org/x"],
    }]})
    with pytest.raises(CatalogError, match="kubelet/allow-privileged is already defined in built-in:rules/flags.yaml"):
        load_catalog([extra])


@pytest.mark.parametrize(
    "data, message",
    [
        ({"flags": [{"component": "kubelet", "flag": "x", "removed_in": "1.30"}]}, "'sources' is a required property"),
        ({"flags": [{"component": "kubelet", "flag": "x", "removed_in": "1.30", "sources": ["https://a"], "oops": 1}]}, "Additional properties"),
        ({"apis": [{"api_version": "a/v1", "kind": "K", "read_by": "kube-apiserver", "deprecated_in": "1.30", "removed_in": "1.20",
                    "replacement": None, "sources": ["https://a"]}]}, "deprecated_in 1.30 is after removed_in 1.20"),
        ({"nonsense": []}, "Additional properties"),
    ],
)
def test_invalid_catalog_files_are_rejected_with_the_file_named(tmp_path: Path, data, message):
    bad = _write(tmp_path, "bad.yaml", data)
    with pytest.raises(CatalogError) as info:
        load_catalog([bad])
    assert str(bad) in str(info.value) and message in str(info.value)


def test_docs_rules_md_is_generated_from_the_catalog():
    expected = render_catalog(CATALOG, [], None, "markdown")
    current = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert current == expected, "docs/rules.md is stale: run `kupgrade-lint rules -o markdown > docs/rules.md`"


def test_rules_filters_by_kind_and_version():
    text = render_catalog(CATALOG, ["apis"], "1.16", "text")
    assert "extensions/v1beta1" in text and "networking.k8s.io/v1beta1" not in text
    assert text.startswith("apis (")


def test_the_wheel_ships_the_rules(tmp_path: Path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )
    wheel = next(tmp_path.glob("kupgrade_lint-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for rules_file in (ROOT / "rules").glob("*.yaml"):
        assert f"kupgrade_lint/builtin_rules/{rules_file.name}" in names
    assert "kupgrade_lint/schemas/catalog.schema.json" in names
    assert "kupgrade_lint/builtin_catalog.json" in names


# -- the compiled built-in catalog (kupgrade_lint/builtin_catalog.json) ----------------------------
def test_the_compiled_catalog_is_current_and_every_built_in_file_is_valid():
    from kupgrade_lint.catalog_compile import COMPILED_PATH, compiled_text

    # compiled_text parses and schema-validates every rules/*.yaml: the built-in catalog is validated here.
    assert COMPILED_PATH.read_text(encoding="utf-8") == compiled_text(), (
        "kupgrade_lint/builtin_catalog.json is stale: run `python scripts/compile_catalog.py`"
    )


def test_the_compiled_catalog_is_used_and_loads_what_the_yaml_loads(monkeypatch):
    from kupgrade_lint import catalog as catalog_module

    compiled = catalog_module._compiled_documents()
    files = catalog_module.builtin_rule_files()
    assert len(compiled) == len(files) and all(catalog_module.compiled_key(n, c) in compiled for n, c in files)
    monkeypatch.setattr(catalog_module, "_compiled_documents", lambda: {})
    assert vars(load_catalog()) == vars(CATALOG)


def test_a_built_in_file_that_changed_since_it_was_compiled_is_read_from_its_yaml(monkeypatch):
    from kupgrade_lint import catalog as catalog_module

    real = catalog_module.builtin_rule_files()
    assert any(name == "flags.yaml" for name, _ in real)
    added = (
        b"\n  - component: kubelet\n    flag: made-up-for-the-test\n    removed_in: \"1.30\"\n"
        b"    sources: [\"https://example.org/x\"]\n"
    )
    changed = [(n, c.rstrip(b"\n") + added if n == "flags.yaml" else c) for n, c in real]
    monkeypatch.setattr(catalog_module, "builtin_rule_files", lambda: changed)
    catalog = load_catalog()
    assert catalog.flags[("kubelet", "made-up-for-the-test")].origin == "built-in:rules/flags.yaml"
    assert len(catalog.flags) == len(CATALOG.flags) + 1


def test_a_changed_built_in_file_is_validated_like_a_user_catalog(monkeypatch):
    from kupgrade_lint import catalog as catalog_module

    broken = [(n, c + b"  - oops: 1\n" if n == "flags.yaml" else c) for n, c in catalog_module.builtin_rule_files()]
    monkeypatch.setattr(catalog_module, "builtin_rule_files", lambda: broken)
    with pytest.raises(CatalogError, match=r"^built-in:rules/flags\.yaml: flags/\d+: Additional properties are not allowed \('oops' was unexpected\)"):
        load_catalog()


def test_the_compiled_key_covers_the_file_the_schema_and_the_format(monkeypatch):
    from kupgrade_lint import catalog as catalog_module

    key = catalog_module.compiled_key("flags.yaml", b"flags: []\n")
    assert key != catalog_module.compiled_key("flags.yaml", b"flags: [] \n")
    assert key != catalog_module.compiled_key("apis.yaml", b"flags: []\n")
    monkeypatch.setattr(catalog_module, "_schema_bytes", lambda: b"{}")
    assert key != catalog_module.compiled_key("flags.yaml", b"flags: []\n")
    monkeypatch.undo()
    monkeypatch.setattr(catalog_module, "COMPILED_FORMAT", 2)
    assert key != catalog_module.compiled_key("flags.yaml", b"flags: []\n")


def test_a_missing_or_unreadable_compiled_file_falls_back_to_the_yaml(monkeypatch):
    from kupgrade_lint import catalog as catalog_module

    monkeypatch.setattr(catalog_module, "COMPILED_NAME", "no-such-file.json")
    assert catalog_module._compiled_documents() == {}
    monkeypatch.setattr(catalog_module, "COMPILED_NAME", "schemas/catalog.schema.json")  # JSON, not a compiled catalog
    assert catalog_module._compiled_documents() == {}
    assert vars(load_catalog()) == vars(CATALOG)
