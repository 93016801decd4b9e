# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Verify the molecule "download" scenario: real release binaries from the lab mirror."""

from __future__ import annotations

import pytest

BIN_DIR = "/usr/local/bin"
CACHE_DIR = "/var/cache/hardway-kubernetes/downloads"
INSTALLED = ["kube-apiserver", "kubectl", "etcd", "etcdctl"]
NOT_REQUESTED = ["kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "etcdutl"]


@pytest.mark.parametrize("name", INSTALLED)
def test_binary_installed_root_owned_0755(host, name):
    binary = host.file(f"{BIN_DIR}/{name}")
    assert binary.is_file and not binary.is_symlink
    assert binary.mode == 0o755
    assert binary.user == "root"
    assert binary.group == "root"


@pytest.mark.parametrize("name", NOT_REQUESTED)
def test_unrequested_binary_not_installed(host, name):
    assert not host.file(f"{BIN_DIR}/{name}").exists


def test_no_temporary_files_left_in_bin_dir(host):
    # copy and get_url write temp files next to the target and rename them into place
    leftovers = host.check_output(f"find {BIN_DIR} -maxdepth 1 \\( -name '.*' -o -name 'tmp*' \\)")
    assert leftovers == ""


def test_kube_apiserver_version(host):
    assert host.check_output(f"{BIN_DIR}/kube-apiserver --version").strip() == "Kubernetes v1.36.3"


def test_kubectl_version(host):
    assert "Client Version: v1.36.3" in host.check_output(f"{BIN_DIR}/kubectl version --client")


def test_etcd_version(host):
    assert "etcd Version: 3.6.16" in host.check_output(f"{BIN_DIR}/etcd --version")


def test_etcdctl_version(host):
    assert "etcdctl version: 3.6.16" in host.check_output(f"{BIN_DIR}/etcdctl version")


@pytest.mark.parametrize("name", ["kube-apiserver", "kubectl"])
def test_installed_kubernetes_binary_is_the_cached_verified_copy(host, name):
    cached = host.file(f"{CACHE_DIR}/kubernetes/v1.36.3/{name}")
    assert cached.is_file
    assert cached.sha256sum == host.file(f"{BIN_DIR}/{name}").sha256sum


def test_etcd_tarball_kept_in_cache(host):
    arch = {"x86_64": "amd64", "aarch64": "arm64"}[host.system_info.arch]
    tarball = host.file(f"{CACHE_DIR}/etcd/v3.6.16/etcd-v3.6.16-linux-{arch}.tar.gz")
    assert tarball.is_file
    for name in ("etcd", "etcdctl"):
        extracted = host.file(f"{CACHE_DIR}/etcd/v3.6.16/etcd-v3.6.16-linux-{arch}/{name}")
        assert extracted.sha256sum == host.file(f"{BIN_DIR}/{name}").sha256sum
