"""``scan --check-registry`` against a real registry (Debian's docker-registry) over TLS with htpasswd auth.

Images are pushed through the v2 API: blobs, schema 2 manifests and an OCI image index, so
what the scan asks (HEAD of each manifest, the index's platforms, a single manifest's config)
is answered by a real Distribution registry.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
import urllib3
from typer.testing import CliRunner

from kupgrade_lint.catalog import load_catalog
from kupgrade_lint.cli import app
from kupgrade_lint.engine import ScanRequest, prepare, required_images
from kupgrade_lint.snapshot.loader import load_inputs
from kupgrade_lint.versions import KubeVersion
from tests.conftest import SEED

from .test_registry import (  # noqa: F401 - fixtures
    LAYER,
    MANIFEST_V2,
    PASSWORD,
    USER,
    Registry,
    _digest,
    assert_no_credentials,
    every_byte,
    free_port,
    push_image,
    registries,
    registry_binary,
    secured,
)

runner = CliRunner()
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def push_index(registry: Registry, name: str, tag: str, architectures: list[str]) -> None:
    """One schema 2 manifest per architecture (each with its own config), then an OCI index of them."""
    pool = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=registry.ca_file)
    headers = {"Authorization": registry.push_auth(name) or ""}

    def put_blob(blob: bytes) -> None:
        started = pool.request("POST", f"{registry.url}/v2/{name}/blobs/uploads/", headers=headers)
        assert started.status == 202, started.data
        location = started.headers["Location"]
        location = registry.url + location if location.startswith("/") else location
        done = pool.request("PUT", f"{location}{'&' if '?' in location else '?'}digest={_digest(blob)}", body=blob, headers=dict(headers, **{"Content-Type": "application/octet-stream"}))
        assert done.status == 201, done.data

    put_blob(LAYER)
    entries = []
    for arch in architectures:
        config = json.dumps({"architecture": arch, "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": []}}).encode()
        put_blob(config)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": MANIFEST_V2,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config), "digest": _digest(config)},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(LAYER), "digest": _digest(LAYER)}],
        }).encode()
        stored = pool.request("PUT", f"{registry.url}/v2/{name}/manifests/{_digest(manifest)}", body=manifest, headers=dict(headers, **{"Content-Type": MANIFEST_V2}))
        assert stored.status == 201, stored.data
        entries.append({"mediaType": MANIFEST_V2, "size": len(manifest), "digest": _digest(manifest), "platform": {"architecture": arch, "os": "linux"}})
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
    stored = pool.request("PUT", f"{registry.url}/v2/{name}/manifests/{tag}", body=index, headers=dict(headers, **{"Content-Type": OCI_INDEX}))
    assert stored.status == 201, stored.data


def seed_on(registry_host: str, tmp_path: Path) -> Path:
    """The seed cluster with its imageRepository (and the nodes' pause image) moved to the test registry."""
    copy = tmp_path / "seed"
    shutil.copytree(SEED, copy, ignore=shutil.ignore_patterns("registry"))
    for path in copy.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            if "myregistry/google-containers" in text:
                path.write_text(text.replace("myregistry/google-containers", f"{registry_host}/google-containers"), encoding="utf-8")
    return copy


def docker_config(tmp_path: Path, host: str, password: str = PASSWORD) -> Path:
    path = tmp_path / "docker" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"auths": {f"https://{host}": {"auth": base64.b64encode(f"{USER}:{password}".encode()).decode()}}}))
    return path


def _needed(snapshot: Path) -> list[str]:
    ctx = prepare(load_inputs(snapshot, []), load_catalog(), ScanRequest(target=KubeVersion.parse("v1.21.14")))
    return sorted({str(i) for _, images in required_images(ctx) for i in images})


def _scan(snapshot: Path, *extra: str, env: dict | None = None) -> dict:
    result = runner.invoke(app, ["scan", "--snapshot", str(snapshot), "--target", "v1.21.14", "-o", "json", "--fail-on", "never", "--check-registry", *extra], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _push_all_but(registry: Registry, snapshot: Path, leave_out: set[str]) -> None:
    by_name: dict[str, list[str]] = {}
    for ref in _needed(snapshot):
        if ref in leave_out:
            continue
        name, _, tag = ref.rpartition(":")
        by_name.setdefault(name.split("/", 1)[1], []).append(tag)
    for name, tags in by_name.items():
        push_image(registry, name, tags)


def test_seed_reports_exactly_the_two_missing_images_at_1_21(secured: Registry, tmp_path: Path) -> None:
    """The issue's scenario: the private registry lacks pause:3.4.1 and CoreDNS v1.8.0, nothing else."""
    snap = seed_on(secured.host, tmp_path)
    repo = f"{secured.host}/google-containers"
    _push_all_but(secured, snap, {f"{repo}/pause:3.4.1", f"{repo}/coredns:v1.8.0"})
    report = _scan(snap, "--registry-config", str(docker_config(tmp_path, secured.host)), "--registry-ca-file", secured.ca_file)
    missing = sorted((f["hop"], f["message"].split(" (")[0]) for f in report["findings"] if f["category"] == "missing-image")
    assert missing == [("1.21", f"{repo}/coredns:v1.8.0"), ("1.21", f"{repo}/pause:3.4.1")]
    assert not [f for f in report["findings"] if f["category"] == "collection" and secured.host in f["message"]]
    fix = next(f for f in report["findings"] if "pause:3.4.1" in f["message"])["remediation"]
    assert f"skopeo copy --multi-arch all docker://registry.k8s.io/pause:3.4.1 docker://{repo}/pause:3.4.1" in fix

    # The mirror script prints the commands that copy them (and every other image of the path).
    script = runner.invoke(app, ["images", "--snapshot", str(snap), "--target", "v1.21.14", "--mirror-script"])
    assert script.exit_code == 0, script.output
    assert f"skopeo copy --multi-arch all docker://registry.k8s.io/coredns/coredns:v1.8.0 docker://{repo}/coredns:v1.8.0" in script.stdout
    assert f"skopeo copy --multi-arch all docker://registry.k8s.io/pause:3.4.1 docker://{repo}/pause:3.4.1" in script.stdout
    crane = runner.invoke(app, ["images", "--snapshot", str(snap), "--target", "v1.21.14", "--mirror-script", "--tool", "crane"])
    assert f"crane copy registry.k8s.io/pause:3.4.1 {repo}/pause:3.4.1" in crane.stdout


def test_credentials_come_from_docker_config_env_and_never_leak(secured: Registry, tmp_path: Path) -> None:
    snap = seed_on(secured.host, tmp_path)
    _push_all_but(secured, snap, set())
    config = docker_config(tmp_path, secured.host)
    result = runner.invoke(
        app, ["scan", "--snapshot", str(snap), "--target", "v1.21.14", "-o", "sarif", "--fail-on", "never", "--check-registry", "--registry-ca-file", secured.ca_file],
        env={"DOCKER_CONFIG": str(config.parent)},
    )
    assert result.exit_code == 0, result.output
    sarif = json.loads(result.stdout)
    messages = [r["message"]["text"] for r in sarif["runs"][0]["results"]]
    assert not [m for m in messages if "is needed at the hop" in m]
    assert_no_credentials(result.output)
    assert_no_credentials(every_byte(snap))


def test_an_index_without_the_nodes_architecture(secured: Registry, tmp_path: Path) -> None:
    snap = seed_on(secured.host, tmp_path)
    repo = f"{secured.host}/google-containers"
    _push_all_but(secured, snap, {f"{repo}/pause:3.4.1"})
    push_index(secured, "google-containers/pause", "3.4.1", ["arm64", "s390x"])
    report = _scan(snap, "--registry-config", str(docker_config(tmp_path, secured.host)), "--registry-ca-file", secured.ca_file)
    platform = [f for f in report["findings"] if f["rule_id"] == "KUP071"]
    assert [(f["hop"], f["message"].split(" (")[0]) for f in platform] == [("1.21", f"{repo}/pause:3.4.1")]
    assert "linux/arm64, linux/s390x only, but nodes run linux/amd64" in platform[0]["message"]
    assert not [f for f in report["findings"] if f["rule_id"] == "KUP070"]


def test_refused_credentials_are_a_collection_finding_not_missing_images(secured: Registry, tmp_path: Path) -> None:
    snap = seed_on(secured.host, tmp_path)
    report = _scan(snap, "--registry-config", str(docker_config(tmp_path, secured.host, "wrong")), "--registry-ca-file", secured.ca_file)
    assert not [f for f in report["findings"] if f["category"] == "missing-image"]
    refused = [f for f in report["findings"] if f["category"] == "collection" and secured.host in f["message"]]
    assert len(refused) == 1 and "the credentials were not accepted" in refused[0]["message"]
    assert "wrong" not in json.dumps(report)


def test_unreachable_registry_is_named(tmp_path: Path) -> None:
    host = f"127.0.0.1:{free_port()}"
    snap = seed_on(host, tmp_path)
    report = _scan(snap, "--insecure-registry")
    names = [f["message"] for f in report["findings"] if f["category"] == "collection" and host in f["message"]]
    assert any(f"reach the image registry {host}" in m for m in names), names
    assert any(f"the contents of registry {host} are not in the snapshot" in m for m in names), names
    assert not [f for f in report["findings"] if f["category"] == "missing-image"]


def test_an_explicit_docker_config_that_is_missing_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["scan", "--snapshot", str(SEED), "--target", "v1.21.14", "--check-registry", "--registry-config", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "no such Docker config file" in result.output
