"""Real binaries for the lab, built from their Go modules, laid out like the official downloads.

Kubernetes: ``<mirror>/kubernetes/release/vX.Y.Z/bin/linux/amd64/<binary>`` with
``<binary>.sha256`` beside it (as the official release site has them).
etcd: ``<mirror>/etcd/vX.Y.Z/etcd-vX.Y.Z-linux-amd64.tar.gz`` plus ``SHA256SUMS``
(as etcd's GitHub releases have them).

The versions are the download role's defaults: what the lab builds is what the
collection installs unless a user pins another version.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import time
from pathlib import Path

from .config import REPO_ROOT, LabConfig, LabError
from .system import run

KUBERNETES_BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl")
ETCD_BINARIES = {"etcd": "go.etcd.io/etcd/server/v3", "etcdctl": "go.etcd.io/etcd/etcdctl/v3", "etcdutl": "go.etcd.io/etcd/etcdutl/v3"}
ETCD_MODULES = ("api", "client/pkg", "client", "pkg", "server", "etcdctl", "etcdutl")
ARCH = "amd64"
_VERSION = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")


def pinned_versions(defaults: Path = REPO_ROOT / "roles" / "download" / "defaults" / "main.yml") -> dict[str, str]:
    import yaml  # from the project's venv (PyYAML comes with ansible-core)

    data = yaml.safe_load(defaults.read_text())
    return {"kubernetes": data["download_kubernetes_version"], "etcd": data["download_etcd_version"]}


def _split(version: str) -> tuple[int, int, int]:
    match = _VERSION.match(version)
    if not match:
        raise LabError(f"version {version!r} is not of the form vX.Y.Z")
    return tuple(int(part) for part in match.groups())


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.chmod(mode)
    os.replace(tmp, path)


def _go(args: list[str], cwd: Path) -> None:
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=mod", GOTOOLCHAIN="local")
    run(["go", *args], cwd=cwd, env=env, stdout=None, stderr=None)


# Kubernetes ------------------------------------------------------------------------
def kubernetes_dir(config: LabConfig, version: str) -> Path:
    return config.mirror_dir / "kubernetes" / "release" / version / "bin" / "linux" / ARCH


def kubernetes_go_mod(version: str, upstream_go_mod: str) -> str:
    """A module that builds k8s.io/kubernetes as a dependency.

    k8s.io/kubernetes replaces its k8s.io/* staging modules with local paths;
    a dependent module pins each to the matching published v0.Y.Z instead.
    """
    minor, patch = _split(version)[1:]
    staging = re.findall(r"^\s*(k8s\.io/[\w.-]+)\s*=>\s*\./staging/", upstream_go_mod, re.MULTILINE)
    if not staging:
        raise LabError(f"k8s.io/kubernetes@{version} go.mod has no staging replace lines; cannot build it as a dependency")
    go_line = re.search(r"^go\s+(\S+)", upstream_go_mod, re.MULTILINE).group(1)
    lines = ["module hardway.invalid/labbuild/kubernetes", "", f"go {go_line}", "", f"require k8s.io/kubernetes {version}", "",
             "replace ("]
    lines += [f"\t{module} => {module} v0.{minor}.{patch}" for module in sorted(set(staging))]
    lines += [")", ""]
    return "\n".join(lines)


def _tools_go(packages: list[str]) -> str:
    imports = "\n".join(f'\t_ "{pkg}"' for pkg in packages)
    return f"//go:build tools\n\npackage tools\n\nimport (\n{imports}\n)\n"


def kubernetes_ldflags(version: str) -> str:
    major, minor = _split(version)[:2]
    flags = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [f"-X {pkg}.gitVersion={version}", f"-X {pkg}.gitMajor={major}", f"-X {pkg}.gitMinor={minor}",
                  f"-X {pkg}.gitTreeState=clean", f"-X {pkg}.buildDate=1970-01-01T00:00:00Z"]
    return " ".join(flags)


def build_kubernetes(config: LabConfig, version: str, force: bool = False, log=print) -> Path:
    out = kubernetes_dir(config, version)
    if not force and all((out / f"{b}.sha256").exists() for b in KUBERNETES_BINARIES):
        return out
    work = config.build_dir / f"kubernetes-{version}"
    work.mkdir(parents=True, exist_ok=True)
    info = run(["go", "mod", "download", "-json", f"k8s.io/kubernetes@{version}"], cwd=work,
               env=dict(os.environ, GOFLAGS="-mod=mod"))
    upstream = Path(json.loads(info.stdout)["GoMod"]).read_text()
    (work / "go.mod").write_text(kubernetes_go_mod(version, upstream))
    packages = [f"k8s.io/kubernetes/cmd/{b}" for b in KUBERNETES_BINARIES]
    (work / "tools.go").write_text(_tools_go(packages))
    started = time.monotonic()
    log(f"building Kubernetes {version} ({', '.join(KUBERNETES_BINARIES)}) from its Go module")
    _go(["mod", "tidy"], work)
    binaries = work / "bin"
    _go(["build", "-trimpath", "-ldflags", kubernetes_ldflags(version), "-o", f"{binaries}/", *packages], work)
    for name in KUBERNETES_BINARIES:
        _publish(binaries / name, out / name)
    log(f"Kubernetes {version} built in {time.monotonic() - started:.0f}s")
    return out


def _publish(built: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(built, tmp)
    tmp.chmod(0o755)
    os.replace(tmp, target)
    _write_atomic(target.with_name(f"{target.name}.sha256"), sha256(target).encode())


# etcd --------------------------------------------------------------------------------
def etcd_dir(config: LabConfig, version: str) -> Path:
    return config.mirror_dir / "etcd" / version


def etcd_tarball_name(version: str) -> str:
    return f"etcd-{version}-linux-{ARCH}.tar.gz"


def etcd_go_mod(version: str, go_line: str) -> str:
    requires = "\n".join(f"\tgo.etcd.io/etcd/{module}/v3 {version}" for module in ETCD_MODULES)
    return f"module hardway.invalid/labbuild/etcd\n\ngo {go_line}\n\nrequire (\n{requires}\n)\n"


def build_etcd(config: LabConfig, version: str, force: bool = False, log=print) -> Path:
    out = etcd_dir(config, version)
    tarball = out / etcd_tarball_name(version)
    if not force and (out / "SHA256SUMS").exists() and tarball.exists():
        return out
    work = config.build_dir / f"etcd-{version}"
    work.mkdir(parents=True, exist_ok=True)
    go_version = run(["go", "env", "GOVERSION"]).stdout.strip().removeprefix("go")
    go_line = ".".join(go_version.split(".")[:2]) + ".0"
    (work / "go.mod").write_text(etcd_go_mod(version, go_line))
    (work / "tools.go").write_text(_tools_go(sorted(ETCD_BINARIES.values())))
    started = time.monotonic()
    log(f"building etcd {version} ({', '.join(ETCD_BINARIES)}) from its Go modules")
    _go(["mod", "tidy"], work)
    ldflags = f"-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA={version}"
    for name, package in ETCD_BINARIES.items():
        _go(["build", "-trimpath", "-ldflags", ldflags, "-o", str(work / "bin" / name), package], work)
    _write_atomic(tarball, etcd_tarball(version, {name: (work / "bin" / name).read_bytes() for name in ETCD_BINARIES}))
    _write_atomic(out / "SHA256SUMS", f"{sha256(tarball)}  {tarball.name}\n".encode())
    log(f"etcd {version} built in {time.monotonic() - started:.0f}s")
    return out


def etcd_tarball(version: str, binaries: dict[str, bytes]) -> bytes:
    """The release tarball: ``etcd-vX.Y.Z-linux-amd64/<binary>``, reproducible (fixed mtimes and owners)."""
    top = etcd_tarball_name(version).removesuffix(".tar.gz")
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed, \
            tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as archive:
        directory = tarfile.TarInfo(top)
        directory.type, directory.mode = tarfile.DIRTYPE, 0o755
        archive.addfile(directory)
        for name in sorted(binaries):
            member = tarfile.TarInfo(f"{top}/{name}")
            member.size, member.mode = len(binaries[name]), 0o755
            archive.addfile(member, io.BytesIO(binaries[name]))
    return buffer.getvalue()


def build_all(config: LabConfig, force: bool = False, log=print) -> dict[str, str]:
    versions = pinned_versions()
    build_kubernetes(config, versions["kubernetes"], force, log)
    build_etcd(config, versions["etcd"], force, log)
    return versions
