# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Run the hardway.kubernetes.download role against the controller itself.

A throwaway HTTP mirror on 127.0.0.1 serves small fake binaries and etcd
tarballs in the official release layouts, with real checksum files. The role
runs with ``connection: local`` and installs into a temporary directory, so
nothing outside ``tmp_path`` changes and nothing leaves this machine.
"""

from __future__ import annotations

import functools
import grp
import hashlib
import http.server
import io
import json
import os
import platform
import pwd
import shutil
import subprocess
import sys
import tarfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / ".cache" / "collections"  # tests/quality/install_collections.sh (run by tools/bootstrap)
COLLECTION_LINK = COLLECTIONS / "ansible_collections" / "hardway" / "kubernetes"

ARCHES = {"x86_64": "amd64", "aarch64": "arm64"}
ARCH = ARCHES.get(platform.machine(), platform.machine())
K8S_BINARIES = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl"]
ETCD_BINARIES = ["etcd", "etcdctl", "etcdutl"]
K8S_VERSIONS = ["v1.36.3", "v1.36.4"]
ETCD_VERSIONS = ["v3.6.16", "v3.6.17"]
# Mirror trees: "good" is a faithful copy; in "corrupt" the files below were
# damaged after their checksums were published.
CORRUPT_K8S = ("v1.36.4", "kube-apiserver")
CORRUPT_ETCD = "v3.6.17"

PLAYBOOK = """\
---
- name: Apply hardway.kubernetes.download to the controller
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Install binaries
      ansible.builtin.include_role:
        name: hardway.kubernetes.download
"""


# --------------------------------------------------------------------------
# The fake mirror


def fake_binary(product: str, name: str, version: str, arch: str) -> bytes:
    """A shell script that answers --version like the real program."""
    if product == "kubernetes":
        banner = f"Kubernetes {version}"
    else:
        banner = f"{name} Version: {version.lstrip('v')}\\nGit SHA: 0000000\\nGo OS/Arch: linux/{arch}"
    padding = hashlib.sha256(f"{product}/{name}/{version}/{arch}".encode()).hexdigest() * 64
    return f"#!/bin/sh\nprintf '{banner}\\n'\nexit 0\n# {padding}\n".encode()


def etcd_tarball(version: str, arch: str) -> bytes:
    top = f"etcd-{version}-linux-{arch}"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.GNU_FORMAT) as tar:
        entries = [(f"{top}/{name}", fake_binary("etcd", name, version, arch), 0o755) for name in ETCD_BINARIES]
        entries.append((f"{top}/README.md", b"# etcd\n", 0o644))
        directory = tarfile.TarInfo(top)
        directory.type, directory.mode, directory.mtime, directory.uid, directory.gid = tarfile.DIRTYPE, 0o755, 1700000000, 1000, 1000
        tar.addfile(directory)
        for path, data, mode in entries:
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime, info.uid, info.gid = len(data), mode, 1700000000, 1000, 1000
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_tree(root: Path, corrupt: bool) -> None:
    for version in K8S_VERSIONS:
        for arch in ARCHES.values():
            bindir = root / "k8s" / "release" / version / "bin" / "linux" / arch
            bindir.mkdir(parents=True)
            for name in K8S_BINARIES:
                data = fake_binary("kubernetes", name, version, arch)
                (bindir / f"{name}.sha256").write_text(sha256(data))  # like dl.k8s.io: digest only
                if corrupt and (version, name) == CORRUPT_K8S and arch == ARCH:
                    data = data[:-64] + b"# damaged in transit\n"
                (bindir / name).write_bytes(data)
    for version in ETCD_VERSIONS:
        reldir = root / "etcd" / version
        reldir.mkdir(parents=True)
        sums = []
        for arch in ARCHES.values():
            name = f"etcd-{version}-linux-{arch}.tar.gz"
            data = etcd_tarball(version, arch)
            sums.append(f"{sha256(data)}  {name}")
            if corrupt and version == CORRUPT_ETCD and arch == ARCH:
                data = data[: len(data) // 2]
            (reldir / name).write_bytes(data)
        sums.append(f"{sha256(b'not a zip')}  etcd-{version}-darwin-arm64.zip")
        (reldir / "SHA256SUMS").write_text("\n".join(sums) + "\n")


class Mirror:
    """Serves a directory on 127.0.0.1 and records the paths it was asked for."""

    def __init__(self, root: Path) -> None:
        self.requests: list[str] = []
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def log_message(self, format, *args):  # noqa: A002 - signature of the base class
                requests.append(f"{self.command} {self.path}")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def downloads(self) -> list[str]:
        """Requests for release files, as opposed to checksum files."""
        return [r for r in self.requests if not r.endswith((".sha256", "/SHA256SUMS"))]


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    root = tmp_path_factory.mktemp("mirror")
    build_tree(root / "good", corrupt=False)
    build_tree(root / "corrupt", corrupt=True)
    server = Mirror(root)
    yield server
    server.close()


# --------------------------------------------------------------------------
# Running the role


def ensure_collection_link() -> None:
    """<repo>/.cache/collections/ansible_collections/hardway/kubernetes -> repo root."""
    if COLLECTION_LINK.resolve() == REPO:
        return
    COLLECTION_LINK.parent.mkdir(parents=True, exist_ok=True)
    try:
        COLLECTION_LINK.symlink_to(os.path.relpath(REPO, COLLECTION_LINK.parent))
    except FileExistsError:  # created meanwhile by another test process
        pass
    assert COLLECTION_LINK.resolve() == REPO, f"{COLLECTION_LINK} does not point at {REPO}"


@functools.lru_cache(maxsize=None)
def ansible_playbook() -> str:
    candidate = Path(sys.executable).parent / "ansible-playbook"
    found = str(candidate) if candidate.exists() else shutil.which("ansible-playbook")
    assert found, "ansible-playbook not found next to the Python running pytest nor on PATH"
    return found


@dataclass
class Run:
    rc: int
    output: dict
    stderr: str

    @property
    def stats(self) -> dict:
        return self.output["stats"]["localhost"]

    def host_results(self):
        for play in self.output["plays"]:
            for task in play["tasks"]:
                result = task["hosts"].get("localhost")
                if result is not None:
                    yield task["task"]["name"], result

    def failure_messages(self) -> str:
        """The messages of failed tasks and of their failed loop items."""
        messages = []
        for _task, result in self.host_results():
            if result.get("failed"):
                messages.append(str(result.get("msg", "")))
                messages += [str(r.get("msg", "")) for r in result.get("results", []) if r.get("failed")]
        return "\n".join(messages)

    def reported_changes(self) -> list[str]:
        """The check-mode report messages ("would install ...")."""
        messages = []
        for name, result in self.host_results():
            if name.split(" : ")[-1].startswith("Report the"):
                messages += [r["msg"] for r in result.get("results", []) if r.get("changed")]
        return messages


class Role:
    """Runs the role on localhost with the bin and cache dirs in a temp dir."""

    def __init__(self, workdir: Path, mirror: Mirror) -> None:
        ensure_collection_link()
        self.workdir, self.mirror = workdir, mirror
        self.bin_dir = workdir / "bin"
        self.cache_dir = workdir / "cache"
        self.runs = 0
        (workdir / "play.yml").write_text(PLAYBOOK)
        (workdir / "inventory").write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
        (workdir / "ansible.cfg").write_text("[defaults]\n")
        (workdir / "tmp").mkdir()

    def run(self, tree: str = "good", check: bool = False, **role_vars) -> Run:
        self.runs += 1
        variables = {
            "download_kubernetes_base_url": f"{self.mirror.url}/{tree}/k8s/",
            "download_etcd_base_url": f"{self.mirror.url}/{tree}/etcd",
            "download_bin_dir": str(self.bin_dir),
            "download_cache_dir": str(self.cache_dir),
            "download_timeout": 10,
        }
        if os.geteuid() != 0:  # the role installs root:root; without root, own the files as we are
            variables["__download_owner"] = pwd.getpwuid(os.geteuid()).pw_name
            variables["__download_group"] = grp.getgrgid(os.getegid()).gr_name
        variables.update(role_vars)
        vars_file = self.workdir / f"vars-{self.runs}.json"
        vars_file.write_text(json.dumps(variables))
        env = dict(
            os.environ,
            ANSIBLE_CONFIG=str(self.workdir / "ansible.cfg"),
            ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
            ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
            ANSIBLE_LOCAL_TEMP=str(self.workdir / "tmp"),
            ANSIBLE_REMOTE_TEMP=str(self.workdir / "tmp"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_RETRY_FILES_ENABLED="0",
            ANSIBLE_PIPELINING="1",
            LC_ALL="C.UTF-8",
        )
        for key in ("no_proxy", "NO_PROXY"):  # honour proxies from the environment, but not for the local mirror
            env[key] = ",".join(filter(None, [env.get(key), "127.0.0.1"]))
        cmd = [ansible_playbook(), "-i", "inventory", "play.yml", "-e", f"@{vars_file.name}"]
        if check:
            cmd.append("--check")
        self.mirror.requests.clear()
        proc = subprocess.run(cmd, cwd=self.workdir, env=env, capture_output=True, text=True, timeout=900, check=False)
        try:
            output = json.loads(proc.stdout)
        except json.JSONDecodeError:
            pytest.fail(f"ansible-playbook printed no JSON (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return Run(proc.returncode, output, proc.stderr)


ALL = {"download_kubernetes_binaries": K8S_BINARIES, "download_etcd_binaries": ETCD_BINARIES}
# The full lifecycle test: every etcd binary, and Kubernetes binaries enough to
# show per-binary behaviour (each costs a few module runs per playbook run).
MAIN = {"download_kubernetes_binaries": ["kube-apiserver", "kube-scheduler", "kubectl"], "download_etcd_binaries": ETCD_BINARIES}
SOME = {"download_kubernetes_binaries": ["kube-apiserver", "kube-proxy"], "download_etcd_binaries": ["etcd", "etcdutl"]}


def expected(product: str, name: str, version: str) -> bytes:
    return fake_binary(product, name, version, ARCH)


def assert_installed(role: Role, k8s_version: str, etcd_version: str, selection: dict) -> None:
    wanted = {n: expected("kubernetes", n, k8s_version) for n in selection["download_kubernetes_binaries"]}
    wanted.update({n: expected("etcd", n, etcd_version) for n in selection["download_etcd_binaries"]})
    # exactly the binaries, no temp files left behind by an interrupted or atomic write
    assert sorted(p.name for p in role.bin_dir.iterdir()) == sorted(wanted)
    for name, data in wanted.items():
        path = role.bin_dir / name
        assert path.read_bytes() == data, f"{path} does not hold the {name} of the requested version"
        st = path.stat()
        assert st.st_mode & 0o7777 == 0o755, f"{path} has mode {st.st_mode & 0o7777:o}"
        if os.geteuid() == 0:
            assert (st.st_uid, st.st_gid) == (0, 0), f"{path} is not owned by root:root"
    if "kube-apiserver" in wanted:
        out = subprocess.run([role.bin_dir / "kube-apiserver", "--version"], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == f"Kubernetes {k8s_version}"
    if "etcd" in wanted:
        out = subprocess.run([role.bin_dir / "etcd", "--version"], capture_output=True, text=True, check=True)
        assert f"etcd Version: {etcd_version.lstrip('v')}" in out.stdout


def assert_ok(run: Run) -> None:
    assert run.rc == 0 and run.stats["failures"] == 0, f"role failed:\n{run.failure_messages()}\n{run.stderr}"


# --------------------------------------------------------------------------
# Tests


def test_install_idempotence_and_check_mode(tmp_path, mirror):
    role = Role(tmp_path, mirror)

    # check mode on a fresh host: reports every binary, touches nothing
    run = role.run(check=True, **MAIN)
    assert_ok(run)
    assert run.stats["changed"] > 0
    would = run.reported_changes()
    selected = MAIN["download_kubernetes_binaries"] + MAIN["download_etcd_binaries"]
    assert sorted(m.split()[2] for m in would) == sorted(str(role.bin_dir / n) for n in selected)
    assert f"{mirror.url}/good/k8s/release/v1.36.3/bin/linux/{ARCH}/kubectl" in "\n".join(would)
    assert not role.bin_dir.exists() and not role.cache_dir.exists()
    assert mirror.downloads() == [], "check mode downloaded release files"

    # install
    run = role.run(**MAIN)
    assert_ok(run)
    assert run.stats["changed"] > 0
    assert_installed(role, "v1.36.3", "v3.6.16", MAIN)
    assert (role.cache_dir / "kubernetes" / "v1.36.3" / "kubectl").read_bytes() == expected("kubernetes", "kubectl", "v1.36.3")
    assert (role.cache_dir / "etcd" / "v3.6.16" / f"etcd-v3.6.16-linux-{ARCH}.tar.gz").exists()

    # second run: nothing changes and nothing but checksum files is fetched
    run = role.run(**MAIN)
    assert_ok(run)
    assert run.stats["changed"] == 0, [n for n, r in run.host_results() if r.get("changed")]
    assert mirror.downloads() == []

    # check mode on the converged host
    run = role.run(check=True, **MAIN)
    assert_ok(run)
    assert run.stats["changed"] == 0
    assert run.reported_changes() == []

    # a binary modified on the host is detected against the published
    # checksum and restored from the verified cache without a download
    (role.bin_dir / "kubectl").write_bytes(b"#!/bin/sh\necho tampered\n")
    (role.bin_dir / "kube-scheduler").chmod(0o700)
    (role.bin_dir / "etcdctl").chmod(0o700)
    run = role.run(check=True, **MAIN)
    assert_ok(run)
    assert [m.split()[2] for m in run.reported_changes()] == [str(role.bin_dir / "kubectl")]
    changed = sorted(n.split(" : ")[-1] for n, r in run.host_results() if r.get("changed"))
    assert changed == [
        "Put the etcd binaries in place",  # etcdctl mode
        "Report the Kubernetes binaries that would be installed",  # kubectl content
        "Restore ownership and mode of current Kubernetes binaries",  # kube-scheduler mode
    ]
    assert (role.bin_dir / "kubectl").read_bytes() == b"#!/bin/sh\necho tampered\n"
    run = role.run(**MAIN)
    assert_ok(run)
    assert mirror.downloads() == []
    assert_installed(role, "v1.36.3", "v3.6.16", MAIN)


def test_version_switch_keeps_versions_in_cache(tmp_path, mirror):
    role = Role(tmp_path, mirror)
    assert_ok(role.run(**SOME))
    assert_installed(role, "v1.36.3", "v3.6.16", SOME)

    run = role.run(download_kubernetes_version="v1.36.4", download_etcd_version="v3.6.17", **SOME)
    assert_ok(run)
    assert_installed(role, "v1.36.4", "v3.6.17", SOME)
    assert f"GET /good/etcd/v3.6.17/etcd-v3.6.17-linux-{ARCH}.tar.gz" in mirror.downloads()
    for version in K8S_VERSIONS:
        assert (role.cache_dir / "kubernetes" / version / "kube-proxy").read_bytes() == expected("kubernetes", "kube-proxy", version)

    # switching back installs the cached, verified copies: no download
    run = role.run(**SOME)
    assert_ok(run)
    assert run.stats["changed"] > 0
    assert mirror.downloads() == []
    assert_installed(role, "v1.36.3", "v3.6.16", SOME)


@pytest.mark.parametrize("product", ["kubernetes", "etcd"])
def test_corrupted_mirror_file_fails_and_keeps_installed_binaries(tmp_path, mirror, product):
    role = Role(tmp_path, mirror)
    if product == "kubernetes":
        selection = {"download_kubernetes_binaries": ["kube-apiserver", "kubectl"]}
        switch = {"download_kubernetes_version": CORRUPT_K8S[0]}
        bad_url = f"{mirror.url}/corrupt/k8s/release/{CORRUPT_K8S[0]}/bin/linux/{ARCH}/{CORRUPT_K8S[1]}"
        kept = role.bin_dir / "kube-apiserver", expected("kubernetes", "kube-apiserver", "v1.36.3")
        bad_cache = role.cache_dir / "kubernetes" / CORRUPT_K8S[0] / CORRUPT_K8S[1]
    else:
        selection = {"download_etcd_binaries": ["etcd", "etcdctl"]}
        switch = {"download_etcd_version": CORRUPT_ETCD}
        bad_url = f"{mirror.url}/corrupt/etcd/{CORRUPT_ETCD}/etcd-{CORRUPT_ETCD}-linux-{ARCH}.tar.gz"
        kept = role.bin_dir / "etcd", expected("etcd", "etcd", "v3.6.16")
        bad_cache = role.cache_dir / "etcd" / CORRUPT_ETCD / f"etcd-{CORRUPT_ETCD}-linux-{ARCH}.tar.gz"
    assert_ok(role.run(**selection))

    run = role.run(tree="corrupt", **switch, **selection)
    assert run.rc != 0 and run.stats["failures"] == 1
    message = run.failure_messages()
    assert bad_url in message
    assert "checksum did not match" in message.lower()
    assert kept[0].read_bytes() == kept[1], "a binary that failed verification was installed"
    assert not bad_cache.exists(), f"{bad_cache} failed verification but was kept"
    if product == "kubernetes":  # no half-switched version: the verified kubectl was not installed either
        assert (role.bin_dir / "kubectl").read_bytes() == expected("kubernetes", "kubectl", "v1.36.3")
    else:
        assert not (role.cache_dir / "etcd" / CORRUPT_ETCD / f"etcd-{CORRUPT_ETCD}-linux-{ARCH}").exists()


@pytest.mark.parametrize(
    ("role_vars", "expected_words"),
    [
        ({"download_kubernetes_version": "1.36.3"}, ["download_kubernetes_version", '"1.36.3"', "vX.Y.Z"]),
        ({"download_etcd_base_url": "ftp://127.0.0.1/etcd"}, ["download_etcd_base_url", "ftp://127.0.0.1/etcd", "http"]),
        ({"download_kubernetes_binaries": ["kubectl", "kube-foo"]}, ["download_kubernetes_binaries", "kube-foo", "kubectl"]),
    ],
    ids=["version", "base-url", "binary"],
)
def test_invalid_input_fails_before_any_change(tmp_path, mirror, role_vars, expected_words):
    role = Role(tmp_path, mirror)
    run = role.run(**{**ALL, **role_vars})
    assert run.rc != 0
    message = run.failure_messages()
    for word in expected_words:
        assert word in message, f"{word!r} missing from: {message}"
    assert not role.bin_dir.exists() and not role.cache_dir.exists()
    assert mirror.requests == []


@pytest.mark.parametrize("product", ["kubernetes", "etcd"])
def test_missing_release_names_the_checksum_url(tmp_path, mirror, product):
    role = Role(tmp_path, mirror)
    if product == "kubernetes":
        run = role.run(download_kubernetes_version="v1.36.99", download_kubernetes_binaries=["kubectl"])
        wanted = [f"{mirror.url}/good/k8s/release/v1.36.99/bin/linux/{ARCH}/<binary>.sha256 of kubectl", "download_kubernetes_version=v1.36.99"]
    else:
        run = role.run(download_etcd_version="v3.6.99", download_etcd_binaries=["etcd"])
        wanted = [f"{mirror.url}/good/etcd/v3.6.99/SHA256SUMS", "download_etcd_version=v3.6.99"]
    assert run.rc != 0
    message = run.failure_messages()
    for word in wanted + ["404"]:
        assert word in message, f"{word!r} missing from: {message}"
    assert not role.bin_dir.exists() and not role.cache_dir.exists()
